/**
 * The reference's pool decisions (`isDatastorePoolTooLow` to `getDeletableENI`), as pure functions
 * of the datastore's state: "too low", short/over, how much one increase asks for,
 * "too high", how much a decrease gives back, whether to look for an ENI to free,
 * and which ENI may go. Placement choices that the reference leaves to Go map order
 * take an `order` (a shuffled list) from the caller.
 *
 * @module
 */
import type { InstanceLimits, PoolSettings, PoolSnapshot } from "../../ipamd/pool/mod.ts";

/** One CIDR as the reference counts it. */
export interface RefCidr {
  readonly cidr: string;
  readonly prefix: boolean;
  readonly size: number;
  readonly assigned: number;
  /** Addresses still in their pod cooldown. */
  readonly cooling: number;
}

/** One ENI as the reference counts it. */
export interface RefEni {
  readonly eniId: string;
  readonly deviceNumber: number;
  readonly primary: boolean;
  readonly createdAtMs: number;
  /** CIDRs of the current mode only. */
  readonly cidrs: readonly RefCidr[];
}

/** `GetIPStats`: cooling addresses count as available. */
export interface RefStats {
  readonly total: number;
  readonly assigned: number;
  readonly available: number;
  readonly totalPrefixes: number;
  /** Prefixes with no assigned address. */
  readonly freePrefixes: number;
}

/** The reference's arithmetic for one node. */
export class ReferencePolicy {
  readonly settings: PoolSettings;
  readonly limits: InstanceLimits;
  readonly pd: boolean;
  /** M: secondary IPs (or prefixes) per ENI. */
  readonly unitsPerEni: number;
  /** Addresses one ENI holds when full. */
  readonly maxIpsPerEni: number;
  readonly maxEni: number;
  /** WARM_IP_TARGET or MINIMUM_IP_TARGET set. */
  readonly warmIp: boolean;

  constructor(limits: InstanceLimits, settings: PoolSettings) {
    this.limits = limits;
    this.settings = settings;
    this.pd = settings.prefixDelegation;
    this.unitsPerEni = Math.max(limits.ipv4PerEni - 1, 0);
    this.maxIpsPerEni = this.unitsPerEni * (this.pd ? 16 : 1);
    this.maxEni = settings.maxEni >= 1 ? Math.min(settings.maxEni, limits.maxEnis) : limits.maxEnis;
    this.warmIp = settings.warmIpTarget !== 0 || settings.minimumIpTarget !== 0;
  }

  /** The reference's view of a datastore snapshot (current mode only). */
  enisOf(snapshot: PoolSnapshot, nowMs: number): RefEni[] {
    return snapshot.enis.map((eni) => ({
      eniId: eni.eniId,
      deviceNumber: eni.deviceNumber,
      primary: eni.primary,
      createdAtMs: eni.createdAtMs,
      cidrs: eni.cidrs.filter((cidr) => cidr.prefix === this.pd).map((cidr) => ({
        cidr: cidr.cidr,
        prefix: cidr.prefix,
        size: cidr.addresses.length,
        assigned: cidr.addresses.filter((a) => a.kind === "assigned").length,
        cooling: cidr.addresses.filter((a) => a.kind === "cooling" && nowMs < a.untilMs).length,
      })),
    }));
  }

  stats(enis: readonly RefEni[]): RefStats {
    let total = 0, assigned = 0, totalPrefixes = 0, freePrefixes = 0;
    for (const cidr of enis.flatMap((eni) => eni.cidrs)) {
      total += cidr.size;
      assigned += cidr.assigned;
      if (cidr.prefix) {
        totalPrefixes++;
        if (cidr.assigned === 0) freePrefixes++;
      }
    }
    return { total, assigned, available: total - assigned, totalPrefixes, freePrefixes };
  }

  /** `datastoreTargetState`: short and over, in addresses (prefixes in PD). */
  targetState(s: RefStats): { short: number; over: number } {
    const { warmIpTarget: wip, minimumIpTarget: min } = this.settings;
    let short = Math.max(wip - s.available, 0);
    short = Math.max(short, min - s.total);
    let over = Math.max(s.available - wip, 0);
    over = Math.max(Math.min(over, s.total - min), 0);
    if (!this.pd) return { short, over };
    const needWarm = Math.ceil((s.assigned + wip) / 16);
    const needMin = Math.ceil(min / 16);
    let overPrefix = Math.max(Math.min(s.freePrefixes, s.totalPrefixes - needWarm), 0);
    overPrefix = Math.max(Math.min(overPrefix, s.totalPrefixes - needMin), 0);
    return { short: Math.ceil(short / 16), over: overPrefix };
  }

  /** `isDatastorePoolTooLow`. */
  isLow(s: RefStats): boolean {
    if (s.total >= this.limits.maxPods) return false;
    if (this.warmIp) return this.targetState(s).short > 0;
    const w = this.pd ? this.settings.warmPrefixTarget : this.settings.warmEniTarget;
    const unit = this.pd ? 16 : this.unitsPerEni;
    return s.available < unit * w || (w === 0 && s.available === 0);
  }

  /** Units one Assign asks for (before the per-ENI room cap); 0 means nothing. */
  assignCount(s: RefStats): number {
    if (this.pd) {
      const needed = this.warmIp
        ? this.targetState(s).short
        : this.settings.warmPrefixTarget - s.freePrefixes;
      return Math.max(1, needed);
    }
    return this.warmIp ? this.targetState(s).short : this.unitsPerEni;
  }

  /** `GetENIResourcesToAllocate`: units a new ENI is created with. */
  eniCount(s: RefStats): number {
    if (this.pd) return Math.min(this.assignCount(s), this.unitsPerEni);
    return this.warmIp ? Math.min(this.targetState(s).short, this.unitsPerEni) : this.unitsPerEni;
  }

  /** `isDatastorePoolTooHigh`. */
  isHigh(s: RefStats): boolean {
    if (this.warmIp) return this.targetState(s).over > 0;
    if (this.pd) return s.freePrefixes > this.settings.warmPrefixTarget;
    return false;
  }

  /** Units one decrease gives back. */
  overCount(s: RefStats): number {
    if (this.warmIp) return this.targetState(s).over;
    if (this.pd) return Math.max(s.freePrefixes - this.settings.warmPrefixTarget, 0);
    return 0;
  }

  /** `shouldRemoveExtraENIs`. */
  shouldRemoveExtraEnis(s: RefStats, enis: readonly RefEni[]): boolean {
    if (this.warmIp) return true;
    const w = this.pd ? this.settings.warmPrefixTarget : this.settings.warmEniTarget;
    if (s.available >= (w + 1) * this.maxIpsPerEni) return true;
    return this.pd && enis.some((eni) => !eni.primary && eni.cidrs.every((cidr) => cidr.assigned === 0));
  }

  /** `getDeletableENI`: the first ENI in `order` that may be freed, or null. */
  deletableEni(order: readonly RefEni[], all: readonly RefEni[], nowMs: number): RefEni | null {
    const { warmIpTarget: wip, minimumIpTarget: min, warmPrefixTarget: wpt, minEniAgeMs } = this.settings;
    const round = (n: number) => this.pd ? Math.ceil(n / 16) * 16 : n;
    for (const eni of order) {
      if (eni.primary || nowMs - eni.createdAtMs < minEniAgeMs) continue;
      if (eni.cidrs.some((cidr) => cidr.cooling > 0 || cidr.assigned > 0)) continue;
      const others = all.filter((other) => other.eniId !== eni.eniId).flatMap((other) => other.cidrs);
      const otherTotal = others.reduce((sum, cidr) => sum + cidr.size, 0);
      const otherFree = otherTotal - others.reduce((sum, cidr) => sum + cidr.assigned, 0);
      if (wip !== 0 && otherFree < round(wip)) continue;
      if (min !== 0 && otherTotal < round(min)) continue;
      if (this.pd && !this.warmIp && others.filter((cidr) => cidr.assigned === 0).length < wpt) continue;
      return eni;
    }
    return null;
  }
}
