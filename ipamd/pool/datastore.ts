/**
 * The pool's in-memory datastore: the node's ENIs, their secondary IPs and /28
 * prefixes, which address each pod holds and which released addresses are still
 * cooling down. The pod-address cooldown lives here alone: released addresses are
 * not handed out again before it ends, and snapshots tell the policy when it does.
 * Synchronous and free of I/O; time comes in as `nowMs`, which must not move
 * backwards (a cooldown seen as expired stays expired).
 *
 * @module
 */

import { compareIpv4, formatCidr, formatIpv4, parseCidr, parseIpv4 } from "../../shared/mod.ts";
import type { AddressState, CidrSnapshot, PoolSnapshot } from "./types.ts";
import { CidrIndex, CoolingQueue } from "./_address_index.ts";

/** The CNI primary key of an assignment: (network name, CNI_CONTAINERID, CNI_IFNAME). */
export interface AllocationKey {
  readonly networkName: string;
  readonly containerId: string;
  readonly ifName: string;
}

/** The pod an address was handed to. */
export interface AllocationMeta {
  readonly podNamespace: string;
  readonly podName: string;
}

/** An assignment as the checkpoint stores it: no ENI, which is found again on restore. */
export interface AllocationRecord {
  readonly key: AllocationKey;
  readonly meta: AllocationMeta;
  readonly ip: string;
  readonly assignedAtMs: number;
}

/** An address held by a pod. */
export interface Allocation extends AllocationRecord {
  readonly eniId: string;
  readonly deviceNumber: number;
}

/** A released address and when its cooldown started. */
export interface CoolingEntry {
  readonly ip: string;
  readonly sinceMs: number;
}

/** An ENI as it joins the datastore. */
export interface EniInput {
  readonly eniId: string;
  readonly deviceNumber: number;
  readonly primary: boolean;
  readonly createdAtMs: number;
  readonly mac: string;
  /** The ENI's own address, never handed to a pod. */
  readonly primaryIp: string;
  readonly subnetCidr: string;
}

/** An ENI in the datastore, with its CIDRs in address order; also an ENI with addresses to adopt. */
export interface EniInfo extends EniInput {
  readonly cidrs: readonly string[];
}

/** What `restore()` did with each entry; every dropped entry says why. */
export interface RestoreResult {
  readonly kept: Allocation[];
  readonly dropped: { readonly allocation: AllocationRecord; readonly reason: string }[];
}

/** Address counts; `free` is what `assign()` can hand out now. */
export interface DatastoreStats {
  readonly enis: number;
  readonly cidrs: number;
  readonly total: number;
  readonly assigned: number;
  readonly cooling: number;
  readonly free: number;
}

interface CidrRec {
  readonly text: string;
  readonly base: number;
  readonly size: number;
  readonly eni: EniRec;
  /** Addresses assigned or cooling. */
  used: number;
}

interface EniRec {
  readonly info: EniInput;
  /** Sorted by base address. */
  readonly cidrs: CidrRec[];
  size: number;
  used: number;
}

const FREE: AddressState = Object.freeze({ kind: "free" });
const ASSIGNED: AddressState = Object.freeze({ kind: "assigned" });

/** The ENIs, addresses and assignments of one node. */
export class Datastore {
  readonly #cooldownMs: number;
  readonly #enis = new Map<string, EniRec>();
  /** Sorted by device number. */
  #order: EniRec[] = [];
  readonly #cidrs = new CidrIndex<CidrRec>();
  readonly #assigned = new Map<number, Allocation>();
  readonly #byKey = new Map<string, Allocation>();
  readonly #cooling = new CoolingQueue();
  #total = 0;

  constructor(options: { cooldownMs: number }) {
    if (!(options.cooldownMs >= 0)) throw new RangeError(`Invalid cooldown ${options.cooldownMs} ms`);
    this.#cooldownMs = options.cooldownMs;
  }

  /** Adds an ENI without addresses; its id and device number must be new. */
  addEni(eni: EniInput): void {
    if (this.#enis.has(eni.eniId)) throw new RangeError(`Cannot add ENI "${eni.eniId}": it already exists`);
    if (!Number.isInteger(eni.deviceNumber) || eni.deviceNumber < 0) {
      throw new RangeError(`Cannot add ENI "${eni.eniId}": invalid device number ${eni.deviceNumber}`);
    }
    const clash = this.#order.find((e) => e.info.deviceNumber === eni.deviceNumber);
    if (clash) {
      throw new RangeError(
        `Cannot add ENI "${eni.eniId}": device ${eni.deviceNumber} is held by "${clash.info.eniId}"`,
      );
    }
    parseIpv4(eni.primaryIp);
    parseCidr(eni.subnetCidr);
    const { eniId, deviceNumber, primary, createdAtMs, mac, primaryIp, subnetCidr } = eni;
    const info = Object.freeze({ eniId, deviceNumber, primary, createdAtMs, mac, primaryIp, subnetCidr });
    const rec: EniRec = { info, cidrs: [], size: 0, used: 0 };
    this.#enis.set(eni.eniId, rec);
    this.#order = [...this.#order, rec].sort((a, b) => a.info.deviceNumber - b.info.deviceNumber);
  }

  /**
   * Adds an ENI with its addresses (found on the node, just created, or given back
   * after a failed free) and returns the CIDRs added. If the addresses clash, the
   * ENI stays without them and the error is thrown.
   */
  adoptEni(eni: EniInfo): string[] {
    this.addEni(eni);
    return this.addCidrs(eni.eniId, eni.cidrs);
  }

  /** Removes an ENI whatever it holds (it is gone from the node); returns the allocations lost. */
  removeEni(eniId: string): Allocation[] {
    const rec = this.#enis.get(eniId);
    if (!rec) return [];
    const lost = rec.cidrs.flatMap((cidr) => this.#dropCidr(cidr));
    this.#enis.delete(eniId);
    this.#order = this.#order.filter((e) => e !== rec);
    return lost;
  }

  /** One ENI, or null when unknown. */
  getEni(eniId: string): EniInfo | null {
    const rec = this.#enis.get(eniId);
    return rec ? { ...rec.info, cidrs: rec.cidrs.map((c) => c.text) } : null;
  }

  /** All ENIs by device number. */
  enis(): EniInfo[] {
    return this.#order.map((rec) => ({ ...rec.info, cidrs: rec.cidrs.map((c) => c.text) }));
  }

  /**
   * Adds secondary IPs (`a.b.c.d/32`) and /28 prefixes to an ENI and returns those that were new.
   * CIDRs the ENI already holds are skipped; any other clash rejects the whole call.
   */
  addCidrs(eniId: string, cidrs: readonly string[]): string[] {
    const rec = this.#enis.get(eniId);
    if (!rec) throw new RangeError(`Cannot add CIDRs to ENI "${eniId}": it is not in the datastore`);
    const fresh = new Map<string, CidrRec>();
    for (const text of cidrs) {
      const { base, bits } = parseCidr(text);
      const canonical = formatCidr({ base, bits });
      if (bits !== 32 && bits !== 28) {
        throw new RangeError(`Cannot add CIDR "${text}" to ENI "${eniId}": only /32 and /28 are supported`);
      }
      const size = 2 ** (32 - bits);
      if (this.#cidrs.get(base, size)?.eni === rec || fresh.has(canonical)) continue;
      const clash = this.#cidrs.overlap(base, size) ??
        [...fresh.values()].find((c) => overlaps(c, base, size));
      if (clash) {
        throw new RangeError(
          `Cannot add CIDR "${canonical}" to ENI "${eniId}": it overlaps "${clash.text}" on ENI "${clash.eni.info.eniId}"`,
        );
      }
      if (bits === 32 && formatIpv4(base) === rec.info.primaryIp) {
        throw new RangeError(
          `Cannot add CIDR "${canonical}" to ENI "${eniId}": it is the ENI's primary address`,
        );
      }
      fresh.set(canonical, { text: canonical, base, size, eni: rec, used: 0 });
    }
    for (const cidr of fresh.values()) {
      this.#cidrs.set(cidr);
      rec.cidrs.push(cidr);
      rec.size += cidr.size;
      this.#total += cidr.size;
    }
    rec.cidrs.sort((a, b) => a.base - b.base);
    return [...fresh.keys()];
  }

  /**
   * Adds what fits of `cidrs` to an ENI, one CIDR at a time, and says what did not
   * (the ENI's own address, an overlap, a bad CIDR) and why: for EC2's answers,
   * where one odd entry must not cost the rest.
   */
  addFitting(eniId: string, cidrs: readonly string[]): { added: string[]; misfits: string[] } {
    const added: string[] = [];
    const misfits: string[] = [];
    for (const cidr of cidrs) {
      try {
        added.push(...this.addCidrs(eniId, [cidr]));
      } catch (error) {
        if (!(error instanceof RangeError || error instanceof SyntaxError)) throw error;
        if (this.#enis.get(eniId) === undefined) throw error;
        misfits.push(error.message);
      }
    }
    return { added, misfits };
  }

  /**
   * Hands an address to `key`: the one it already holds, else the lowest free address on the
   * ENI with the lowest device number. Null when nothing is assignable.
   */
  assign(key: AllocationKey, meta: AllocationMeta, nowMs: number): Allocation | null {
    const held = this.#byKey.get(keyId(key));
    if (held) return held;
    this.#expire(nowMs);
    for (const eni of this.#order) {
      if (eni.used >= eni.size) continue;
      for (const cidr of eni.cidrs) {
        if (cidr.used >= cidr.size) continue;
        for (let ip = cidr.base; ip < cidr.base + cidr.size; ip++) {
          if (this.#assigned.has(ip) || this.#cooling.has(ip)) continue;
          return this.#hold(cidr, ip, { key, meta, ip: formatIpv4(ip), assignedAtMs: nowMs });
        }
      }
    }
    return null;
  }

  /** The allocation `key` holds, or null. */
  get(key: AllocationKey): Allocation | null {
    return this.#byKey.get(keyId(key)) ?? null;
  }

  /** Frees the address `key` holds; it cools down from `nowMs`. Null when `key` holds nothing. */
  release(key: AllocationKey, nowMs: number): Allocation | null {
    const allocation = this.rollback(key);
    if (allocation && this.#cooldownMs > 0) this.#setCooling(parseIpv4(allocation.ip), nowMs);
    return allocation;
  }

  /** Undoes an assignment without a cooldown (the checkpoint write after `assign()` failed). */
  rollback(key: AllocationKey): Allocation | null {
    const id = keyId(key);
    const allocation = this.#byKey.get(id);
    if (!allocation) return null;
    const ip = parseIpv4(allocation.ip);
    this.#byKey.delete(id);
    this.#assigned.delete(ip);
    this.#count(ip, -1);
    return allocation;
  }

  /** Removes and returns those of `cidrs` on `eniId` that hold no assigned or cooling address. */
  takeForRelease(eniId: string, cidrs: readonly string[], nowMs: number): string[] {
    this.#expire(nowMs);
    const taken: string[] = [];
    for (const text of cidrs) {
      const { base, bits } = parseCidr(text);
      const cidr = this.#cidrs.get(base, 2 ** (32 - bits));
      if (!cidr || cidr.eni.info.eniId !== eniId || cidr.used > 0) continue;
      this.#dropCidr(cidr);
      cidr.eni.cidrs.splice(cidr.eni.cidrs.indexOf(cidr), 1);
      taken.push(cidr.text);
    }
    return taken;
  }

  /** Removes a non-primary ENI if none of its addresses is assigned or cooling; true when removed. */
  takeEniForFree(eniId: string, nowMs: number): boolean {
    this.#expire(nowMs);
    const rec = this.#enis.get(eniId);
    if (!rec || rec.info.primary || rec.used > 0) return false;
    this.removeEni(eniId);
    return true;
  }

  /** The state of every address, for the policy. */
  snapshot(nowMs: number, extra: { waitingAdds: number; lastDecreaseAtMs: number | null }): PoolSnapshot {
    this.#expire(nowMs);
    const enis = this.#order.map((rec) => ({
      eniId: rec.info.eniId,
      deviceNumber: rec.info.deviceNumber,
      primary: rec.info.primary,
      createdAtMs: rec.info.createdAtMs,
      cidrs: rec.cidrs.map((cidr): CidrSnapshot => ({
        cidr: cidr.text,
        prefix: cidr.size > 1,
        addresses: Array.from({ length: cidr.size }, (_, i) => this.#state(cidr.base + i)),
      })),
    }));
    return { enis, waitingAdds: extra.waitingAdds, lastDecreaseAtMs: extra.lastDecreaseAtMs };
  }

  /** Address counts at `nowMs`. */
  stats(nowMs: number): DatastoreStats {
    this.#expire(nowMs);
    const assigned = this.#assigned.size;
    const cooling = this.#cooling.size;
    const free = this.#total - assigned - cooling;
    return { enis: this.#enis.size, cidrs: this.#cidrs.size, total: this.#total, assigned, cooling, free };
  }

  /** When the first cooldown still running at `nowMs` ends (an address becomes assignable), or null. */
  coolingEndsAtMs(nowMs: number): number | null {
    this.#expire(nowMs);
    const first = this.#cooling.first();
    return first === undefined ? null : first + this.#cooldownMs;
  }

  /** Addresses still cooling at `nowMs`, oldest first. */
  coolingEntries(nowMs: number): CoolingEntry[] {
    this.#expire(nowMs);
    return this.#cooling.entries().map(([ip, sinceMs]) => ({ ip: formatIpv4(ip), sinceMs }));
  }

  /** Restarts cooldowns (after a restart); entries for unknown or assigned addresses are skipped. */
  restoreCooling(entries: readonly CoolingEntry[]): number {
    let restored = 0;
    for (const entry of entries) {
      const ip = tryParseIpv4(entry.ip);
      if (ip === null || !this.#cidrs.at(ip) || this.#assigned.has(ip)) continue;
      this.#setCooling(ip, entry.sinceMs);
      restored++;
    }
    return restored;
  }

  /** Every allocation, in address order. */
  allocations(): Allocation[] {
    return [...this.#assigned.values()].sort((a, b) => compareIpv4(a.ip, b.ip));
  }

  /**
   * Marks checkpointed allocations assigned again, on the ENIs now in the datastore. Entries are
   * taken oldest first (ties in list order); one whose address lies in no known CIDR, whose address
   * or key an earlier entry holds, or whose address is not IPv4 is dropped with the reason.
   */
  restore(allocations: readonly AllocationRecord[], nowMs: number): RestoreResult {
    this.#expire(nowMs);
    const order = allocations.map((allocation, index) => ({ allocation, index }))
      .sort((a, b) => a.allocation.assignedAtMs - b.allocation.assignedAtMs || a.index - b.index);
    const result: RestoreResult = { kept: [], dropped: [] };
    for (const { allocation } of order) {
      const place = this.#placeRestored(allocation);
      if (typeof place === "string") {
        result.dropped.push({ allocation, reason: place });
        continue;
      }
      if (this.#cooling.delete(place.ip)) this.#count(place.ip, -1);
      result.kept.push(this.#hold(place.cidr, place.ip, { ...allocation, ip: formatIpv4(place.ip) }));
    }
    return result;
  }

  /** Where a restored allocation goes, or why it cannot. */
  #placeRestored(allocation: AllocationRecord): { cidr: CidrRec; ip: number } | string {
    const ip = tryParseIpv4(allocation.ip);
    if (ip === null) return `address "${allocation.ip}" is not an IPv4 address`;
    const cidr = this.#cidrs.at(ip);
    if (!cidr) return `address ${allocation.ip} lies in no CIDR of a known ENI, presuming it stale`;
    const byAddress = this.#assigned.get(ip);
    if (byAddress) return `address ${allocation.ip} is already held by ${describeKey(byAddress.key)}`;
    const byKey = this.#byKey.get(keyId(allocation.key));
    if (byKey) return `${describeKey(allocation.key)} already holds address ${byKey.ip}`;
    return { cidr, ip };
  }

  #hold(cidr: CidrRec, ip: number, record: AllocationRecord): Allocation {
    const allocation: Allocation = Object.freeze({
      key: Object.freeze({ ...record.key }),
      meta: Object.freeze({ ...record.meta }),
      ip: record.ip,
      eniId: cidr.eni.info.eniId,
      deviceNumber: cidr.eni.info.deviceNumber,
      assignedAtMs: record.assignedAtMs,
    });
    this.#assigned.set(ip, allocation);
    this.#byKey.set(keyId(record.key), allocation);
    this.#count(ip, 1);
    return allocation;
  }

  #state(ip: number): AddressState {
    if (this.#assigned.has(ip)) return ASSIGNED;
    const sinceMs = this.#cooling.get(ip);
    return sinceMs === undefined ? FREE : { kind: "cooling", untilMs: sinceMs + this.#cooldownMs };
  }

  #setCooling(ip: number, sinceMs: number): void {
    if (!this.#cooling.has(ip)) this.#count(ip, 1);
    this.#cooling.set(ip, sinceMs);
  }

  /** Ends the cooldowns that are over at `nowMs`. */
  #expire(nowMs: number): void {
    for (const ip of this.#cooling.expire(nowMs, this.#cooldownMs)) this.#count(ip, -1);
  }

  /** Forgets a CIDR and everything on it (the caller unlinks it from its ENI); returns lost allocations. */
  #dropCidr(cidr: CidrRec): Allocation[] {
    const lost: Allocation[] = [];
    for (let ip = cidr.base; ip < cidr.base + cidr.size; ip++) {
      const allocation = this.#assigned.get(ip);
      if (allocation) {
        lost.push(allocation);
        this.#assigned.delete(ip);
        this.#byKey.delete(keyId(allocation.key));
      }
      this.#cooling.delete(ip);
    }
    this.#cidrs.delete(cidr);
    cidr.eni.size -= cidr.size;
    cidr.eni.used -= cidr.used;
    this.#total -= cidr.size;
    return lost;
  }

  #count(ip: number, delta: number): void {
    const cidr = this.#cidrs.at(ip);
    if (!cidr) return;
    cidr.used += delta;
    cidr.eni.used += delta;
  }
}

function overlaps(cidr: CidrRec, base: number, size: number): boolean {
  return cidr.base < base + size && base < cidr.base + cidr.size;
}

function keyId(key: AllocationKey): string {
  return JSON.stringify([key.networkName, key.containerId, key.ifName]);
}

function describeKey(key: AllocationKey): string {
  return `container "${key.containerId}" (network "${key.networkName}", ifName "${key.ifName}")`;
}

function tryParseIpv4(text: string): number | null {
  try {
    return parseIpv4(text);
  } catch {
    return null;
  }
}
