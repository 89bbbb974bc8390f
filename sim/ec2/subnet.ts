/**
 * One subnet's address space as EC2 hands it out: the first four addresses and the
 * last are reserved, single addresses come lowest-free first, and /28 prefixes come
 * from the lowest aligned block of 16 that is entirely free.
 *
 * @module
 */

import { cidrContains, cidrSize, formatCidr, type Ipv4Cidr } from "../../shared/mod.ts";

const PREFIX_SIZE = 16;

/** The addresses of one subnet, taken and free. */
export class SubnetAddressPool {
  readonly cidr: Ipv4Cidr;
  readonly #used: Uint8Array;
  /** Taken addresses per aligned /28 block (reserved ones included). */
  readonly #blockUsed: Uint8Array;
  #free: number;
  /** No free address lies below this offset. */
  #lowestFree = 0;

  constructor(cidr: Ipv4Cidr) {
    if (cidr.bits < 16 || cidr.bits > 28) {
      throw new RangeError(`Cannot simulate subnet of size /${cidr.bits}: EC2 allows /16 to /28`);
    }
    this.cidr = cidr;
    const size = cidrSize(cidr);
    this.#used = new Uint8Array(size);
    this.#blockUsed = new Uint8Array(size / PREFIX_SIZE);
    this.#free = size;
    for (const offset of [0, 1, 2, 3, size - 1]) this.#mark(offset, true);
  }

  /** Free addresses, the reserved ones excluded (DescribeSubnets' AvailableIpAddressCount). */
  get availableCount(): number {
    return this.#free;
  }

  /** Takes the `count` lowest free addresses, or nothing and returns null if there are fewer. */
  takeAddresses(count: number): number[] | null {
    if (count > this.#free) return null;
    const taken: number[] = [];
    for (let offset = this.#lowestFree; taken.length < count; offset++) {
      if (this.#used[offset] === 0) taken.push(offset);
    }
    for (const offset of taken) this.#mark(offset, true);
    return taken.map((offset) => this.cidr.base + offset);
  }

  /** Takes the `count` lowest entirely free aligned /28 blocks (their bases), or nothing and returns null. */
  takePrefixes(count: number): number[] | null {
    const blocks: number[] = [];
    for (let block = 0; block < this.#blockUsed.length && blocks.length < count; block++) {
      if (this.#blockUsed[block] === 0) blocks.push(block);
    }
    if (blocks.length < count) return null;
    for (const block of blocks) {
      for (let i = 0; i < PREFIX_SIZE; i++) this.#mark(block * PREFIX_SIZE + i, true);
    }
    return blocks.map((block) => this.cidr.base + block * PREFIX_SIZE);
  }

  /** Why `address` cannot be taken ("outside", "reserved", "in-use"), or null if it is free. */
  checkAddress(address: number): "outside" | "reserved" | "in-use" | null {
    if (!cidrContains(this.cidr, address)) return "outside";
    const offset = address - this.cidr.base;
    if (offset < 4 || offset === cidrSize(this.cidr) - 1) return "reserved";
    return this.#used[offset] === 0 ? null : "in-use";
  }

  /** Whether the aligned /28 at `base` lies in the subnet and is entirely free. */
  prefixFree(base: number): boolean {
    const offset = base - this.cidr.base;
    return cidrContains(this.cidr, base) && offset % PREFIX_SIZE === 0 &&
      this.#blockUsed[offset / PREFIX_SIZE] === 0;
  }

  /** Takes one specific address; check it with `checkAddress` first. */
  takeAddress(address: number): void {
    if (this.checkAddress(address) !== null) throw new RangeError(`Cannot take address ${address}: not free`);
    this.#mark(address - this.cidr.base, true);
  }

  /** Takes one specific /28; check it with `prefixFree` first. */
  takePrefix(base: number): void {
    if (!this.prefixFree(base)) throw new RangeError(`Cannot take prefix at ${base}: not free`);
    for (let i = 0; i < PREFIX_SIZE; i++) this.#mark(base - this.cidr.base + i, true);
  }

  /** The taken addresses, reserved ones excluded, as inclusive ranges of offsets from the base. */
  takenRanges(): [number, number][] {
    const ranges: [number, number][] = [];
    const last = this.#used.length - 2;
    for (let offset = 4; offset <= last; offset++) {
      if (this.#used[offset] === 0) continue;
      const start = offset;
      while (offset < last && this.#used[offset + 1] === 1) offset++;
      ranges.push([start, offset]);
    }
    return ranges;
  }

  /** Takes the addresses of `takenRanges()` output again; they must be free and not reserved. */
  restoreTaken(ranges: readonly (readonly [number, number])[]): void {
    const last = this.#used.length - 2;
    const cidr = formatCidr(this.cidr);
    for (const [start, end] of ranges) {
      if (
        !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 4 || end < start || end > last
      ) {
        throw new RangeError(
          `Cannot restore taken range [${start}, ${end}] of ${cidr}: expected 4 to ${last}`,
        );
      }
      for (let offset = start; offset <= end; offset++) {
        if (this.#used[offset] === 1) {
          throw new RangeError(
            `Cannot restore taken range [${start}, ${end}] of ${cidr}: it overlaps another`,
          );
        }
        this.#mark(offset, true);
      }
    }
  }

  /** Returns one address to the subnet. */
  releaseAddress(address: number): void {
    this.#mark(address - this.cidr.base, false);
  }

  /** Returns one /28 to the subnet. */
  releasePrefix(base: number): void {
    for (let i = 0; i < PREFIX_SIZE; i++) this.#mark(base - this.cidr.base + i, false);
  }

  #mark(offset: number, used: boolean): void {
    if ((this.#used[offset] === 1) === used) return;
    this.#used[offset] = used ? 1 : 0;
    const block = Math.floor(offset / PREFIX_SIZE);
    this.#blockUsed[block] = this.#blockUsed[block]! + (used ? 1 : -1);
    this.#free += used ? -1 : 1;
    if (!used && offset < this.#lowestFree) this.#lowestFree = offset;
    if (used && offset === this.#lowestFree) {
      while (this.#lowestFree < this.#used.length && this.#used[this.#lowestFree] === 1) this.#lowestFree++;
    }
  }
}
