/**
 * Internal indexes of the datastore: which CIDR holds an address, and which
 * released addresses are cooling down, kept in the order their cooldowns end.
 *
 * @module
 */

/** A CIDR record as the index needs it: a /32 (size 1) or a /28 (size 16). */
export interface IndexedCidr {
  readonly base: number;
  readonly size: number;
}

/** CIDRs by base address and size, with lookup by contained address. */
export class CidrIndex<T extends IndexedCidr> {
  readonly #byId = new Map<number, T>();

  get size(): number {
    return this.#byId.size;
  }

  get(base: number, size: number): T | undefined {
    return this.#byId.get(cidrId(base, size));
  }

  set(cidr: T): void {
    this.#byId.set(cidrId(cidr.base, cidr.size), cidr);
  }

  delete(cidr: T): void {
    this.#byId.delete(cidrId(cidr.base, cidr.size));
  }

  /** The CIDR holding `ip`. */
  at(ip: number): T | undefined {
    return this.get(ip, 1) ?? this.get(ip - (ip % 16), 16);
  }

  /** A CIDR sharing an address with the block at `base` of `size` addresses. */
  overlap(base: number, size: number): T | undefined {
    const prefix = this.at(base);
    if (prefix || size === 1) return prefix;
    for (let ip = base; ip < base + size; ip++) {
      const single = this.get(ip, 1);
      if (single) return single;
    }
    return undefined;
  }
}

function cidrId(base: number, size: number): number {
  return base * 64 + size;
}

/** Address → cooldown start. Expiry pops from the front, so entries are kept in `sinceMs` order. */
export class CoolingQueue {
  #bySinceMs = new Map<number, number>();
  #sorted = true;
  #lastSinceMs = -Infinity;

  get size(): number {
    return this.#bySinceMs.size;
  }

  get(ip: number): number | undefined {
    return this.#bySinceMs.get(ip);
  }

  has(ip: number): boolean {
    return this.#bySinceMs.has(ip);
  }

  delete(ip: number): boolean {
    return this.#bySinceMs.delete(ip);
  }

  /** Starts (or restarts) the cooldown of `ip`. */
  set(ip: number, sinceMs: number): void {
    this.#bySinceMs.delete(ip);
    if (sinceMs < this.#lastSinceMs) this.#sorted = false;
    this.#lastSinceMs = Math.max(this.#lastSinceMs, sinceMs);
    this.#bySinceMs.set(ip, sinceMs);
  }

  /** Removes and returns the addresses whose cooldown is over at `nowMs`. */
  expire(nowMs: number, cooldownMs: number): number[] {
    if (!this.#sorted) {
      this.#bySinceMs = new Map([...this.#bySinceMs].sort((a, b) => a[1] - b[1]));
      this.#sorted = true;
    }
    const expired: number[] = [];
    for (const [ip, sinceMs] of this.#bySinceMs) {
      if (nowMs < sinceMs + cooldownMs) break;
      this.#bySinceMs.delete(ip);
      expired.push(ip);
    }
    return expired;
  }

  /** The earliest cooldown start, after an `expire()` (which keeps entries in order). */
  first(): number | undefined {
    for (const sinceMs of this.#bySinceMs.values()) return sinceMs;
    return undefined;
  }

  /** `[ip, sinceMs]` pairs, oldest first after an `expire()`. */
  entries(): [number, number][] {
    return [...this.#bySinceMs];
  }
}
