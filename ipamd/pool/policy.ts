/**
 * The warm-pool policy: one pure function from a snapshot of the node to a plan.
 *
 * It follows the reference's semantics (low/high tests, short/over, when an ENI is
 * created or freed, the primary ENI is kept, minimum ENI age, decrease spacing)
 * with these deliberate differences:
 * - placement is deterministic: grow the lowest device with room, release from the
 *   highest device and address first, free the highest eligible ENI;
 * - the pool never holds more addresses than max pods (rounded up to whole /28s);
 * - cooling addresses count toward the warm target but are never handed out or
 *   released before their cooldown ends; an ADD that would need one gets growth
 *   unless its cooldown ends within 5 s;
 * - an ENI or address is only given back if the pool would not be low afterwards,
 *   so nothing flaps (WARM_ENI_TARGET=0 included), nor low at the demand peak of
 *   the scale-down window, so churn around a mean does not create and free ENIs;
 * - pods waiting for an address make the pool grow by what they need, whatever
 *   the targets say;
 * - one plan covers the whole shortfall instead of one step per 5 s tick.
 *
 * @module
 */
import type { GrowthBlockReason } from "./growth.ts";
import { type SubnetRoom, subnetSpare } from "./subnet_room.ts";
import type {
  AddressState,
  CidrSnapshot,
  EniSnapshot,
  InstanceLimits,
  PoolAction,
  PoolPlan,
  PoolSettings,
  PoolSnapshot,
  PoolStats,
} from "./types.ts";

/** What the policy is bounded by. */
export interface PolicyInput {
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  readonly nowMs: number;
  /**
   * False plans growth for the waiting ADDs alone, as if every warm target were 0
   * (the account is throttled, so spare addresses wait); default true.
   */
  readonly spare?: boolean;
  /** The subnets' free addresses, for subnet-aware targets (POOL_SUBNET_AWARE) and where growth fits. */
  readonly room?: SubnetRoom | undefined;
}

/** The policy's arithmetic for one node and one instant. */
interface Shape {
  /** Addresses per unit: 1 for secondary IPs, 16 for /28 prefixes. */
  readonly unitSize: number;
  /** Units an ENI holds besides its own primary address. */
  readonly unitsPerEni: number;
  readonly maxEnis: number;
  /** Most addresses the pool may hold. */
  readonly capIps: number;
  readonly capByPods: boolean;
  /** Grow by filling whole ENIs (WARM_ENI_TARGET mode). */
  readonly wholeEnis: boolean;
  /** Whether single addresses or prefixes are ever given back (not in WARM_ENI_TARGET mode). */
  readonly releases: boolean;
  /** Addresses missing for a given usable and total count. */
  deficit(usable: number, total: number): number;
  /** Custom networking: the primary ENI carries no pod addresses. */
  readonly noPrimary: boolean;
  /** Free addresses in an ENI's subnet or where a new ENI goes (null). */
  free(eniId: string | null): number;
  /** The spare addresses subnet-aware targets cut the targets to, or null when they do not. */
  readonly subnetSpare: number | null;
}

/**
 * An ADD waits this long for a cooling address rather than making the pool grow.
 * Cooling addresses count toward the warm target (as the reference counts them),
 * but are never handed out before their cooldown ends.
 */
export const COOLING_WAIT_MS = 5_000;

/** The scale-down window when POOL_SCALE_DOWN_WINDOW is unset: shorter where addresses go back one by one. */
export function scaleDownWindowMs(settings: PoolSettings): number {
  if (settings.scaleDownWindowMs !== null) return settings.scaleDownWindowMs;
  const byAddress = settings.warmIpTarget > 0 || settings.minimumIpTarget > 0 || settings.prefixDelegation;
  return byAddress ? 180_000 : 300_000;
}

/** Decides what the pool should do now. Pure: the same input always gives the same plan. */
export function planPool(snapshot: PoolSnapshot, input: PolicyInput): PoolPlan {
  const { settings, nowMs } = input;
  const enis = [...snapshot.enis].sort((a, b) => a.deviceNumber - b.deviceNumber);
  const cooling = (address: AddressState) => address.kind === "cooling" && nowMs < address.untilMs;
  const inMode = (cidr: CidrSnapshot) => cidr.prefix === settings.prefixDelegation;
  const stats = statsOf(enis, inMode, cooling);
  const wake = new Wake();
  let coolingSoon = 0;
  for (const eni of enis) {
    for (const cidr of eni.cidrs) {
      if (!inMode(cidr)) continue;
      for (const address of cidr.addresses) {
        if (address.kind !== "cooling" || !cooling(address)) continue;
        wake.at(address.untilMs);
        if (address.untilMs <= nowMs + COOLING_WAIT_MS) coolingSoon++;
      }
    }
  }
  const shape = shapeOf(input, snapshot.waitingAdds, {
    cooling: stats.cooling,
    coolingSoon,
    usable: stats.usable,
  });
  const shortIps = shape.deficit(stats.usable, stats.total);
  if (shortIps > 0) {
    const { actions, blocked } = grow(enis, shape, stats, shortIps);
    return { actions, stats, shortIps, blocked, nextWakeMs: wake.ms, subnetSpare: shape.subnetSpare };
  }
  const actions = shrink(enis, { shape, stats, snapshot, input, inMode, cooling, wake });
  return { actions, stats, shortIps, blocked: null, nextWakeMs: wake.ms, subnetSpare: shape.subnetSpare };
}

function shapeOf(
  { limits, settings, spare, room }: PolicyInput,
  waitingAdds: number,
  counted: { readonly cooling: number; readonly coolingSoon: number; readonly usable: number },
): Shape {
  const unitSize = settings.prefixDelegation ? 16 : 1;
  const unitsPerEni = Math.max(limits.ipv4PerEni - 1, 0);
  const maxEnis = settings.maxEni > 0 ? Math.min(settings.maxEni, limits.maxEnis) : limits.maxEnis;
  const podCap = Math.ceil(limits.maxPods / unitSize) * unitSize;
  const eniCap = (maxEnis - (settings.customNetworking ? 1 : 0)) * unitsPerEni * unitSize;
  const warmIp = settings.warmIpTarget > 0 || settings.minimumIpTarget > 0;
  // What the waiting ADDs lack: usable addresses, counting cooling ones that are about to be usable.
  const forWaiting = (usable: number) => waitingAdds - usable - counted.coolingSoon;
  // For the warm target, cooling addresses stand in for usable ones.
  const warmUsable = (usable: number) => usable + counted.cooling;
  let deficit: Shape["deficit"];
  let warm = settings.prefixDelegation
    ? settings.warmPrefixTarget * unitSize
    : settings.warmEniTarget * unitsPerEni;
  warm = warmIp ? settings.warmIpTarget : Math.max(warm, 1); // a target of zero keeps one, as the reference
  // Free in the subnets counts the pool's own usable addresses too: taking or giving them back moves no cut.
  const cut = room !== undefined && settings.subnetAware
    ? subnetSpare(warm, room.total() + counted.usable)
    : warm;
  if (spare === false) {
    deficit = (usable) => Math.max(forWaiting(usable), 0);
  } else if (cut < warm) {
    deficit = (usable) => Math.max(cut + waitingAdds - warmUsable(usable), forWaiting(usable), 0);
  } else if (warmIp) {
    deficit = (usable, total) =>
      Math.max(
        settings.warmIpTarget + waitingAdds - warmUsable(usable),
        forWaiting(usable),
        settings.minimumIpTarget - total,
        0,
      );
  } else {
    deficit = (usable) => Math.max(warm + waitingAdds - warmUsable(usable), forWaiting(usable), 0);
  }
  return {
    unitSize,
    unitsPerEni,
    maxEnis,
    capIps: Math.min(podCap, eniCap),
    capByPods: podCap < eniCap,
    wholeEnis: !warmIp && !settings.prefixDelegation && cut === warm,
    releases: warmIp || settings.prefixDelegation || cut < warm,
    deficit,
    noPrimary: settings.customNetworking,
    free: (eniId) => room?.free(eniId) ?? Infinity,
    subnetSpare: cut < warm ? cut : null,
  };
}

function statsOf(
  enis: readonly EniSnapshot[],
  inMode: (cidr: CidrSnapshot) => boolean,
  cooling: (address: AddressState) => boolean,
): PoolStats {
  let total = 0, assigned = 0, cool = 0;
  for (const eni of enis) {
    for (const cidr of eni.cidrs) {
      if (!inMode(cidr)) continue;
      for (const address of cidr.addresses) {
        total++;
        if (address.kind === "assigned") assigned++;
        else if (cooling(address)) cool++;
      }
    }
  }
  return { enis: enis.length, total, assigned, cooling: cool, usable: total - assigned - cool };
}

function grow(
  enis: readonly EniSnapshot[],
  shape: Shape,
  stats: PoolStats,
  shortIps: number,
): { actions: PoolAction[]; blocked: GrowthBlockReason | null } {
  const actions: PoolAction[] = [];
  let remaining = shortIps;
  let capUnits = Math.max(Math.floor((shape.capIps - stats.total) / shape.unitSize), 0);
  const want = (room: number) => shape.wholeEnis ? room : Math.ceil(remaining / shape.unitSize);
  const fits = (eniId: string | null) => Math.floor(shape.free(eniId) / shape.unitSize);
  let subnetFull = false;
  const take = (count: number) => {
    remaining -= count * shape.unitSize;
    capUnits -= count;
  };
  for (const eni of enis) {
    const room = eni.primary && shape.noPrimary ? 0 : shape.unitsPerEni - eni.cidrs.length;
    const count = Math.min(room, want(room), capUnits, fits(eni.eniId));
    subnetFull ||= room > 0 && fits(eni.eniId) <= 0;
    if (remaining <= 0 || count <= 0) continue;
    actions.push({ kind: "assign", eniId: eni.eniId, count });
    take(count);
  }
  for (let count = enis.length; count < shape.maxEnis && remaining > 0 && capUnits > 0; count++) {
    const fitsNew = Math.floor((shape.free(null) - 1) / shape.unitSize); // the ENI's own address too
    const units = Math.min(shape.unitsPerEni, want(shape.unitsPerEni), capUnits, fitsNew);
    subnetFull ||= fitsNew <= 0;
    if (units <= 0) break;
    actions.push({ kind: "create-eni", count: units });
    take(units);
  }
  if (remaining <= 0) return { actions, blocked: null };
  if (subnetFull && capUnits > 0) return { actions, blocked: "subnet-full" };
  return { actions, blocked: capUnits <= 0 && shape.capByPods ? "max-pods" : "max-enis" };
}

interface ShrinkContext {
  readonly shape: Shape;
  readonly stats: PoolStats;
  readonly snapshot: PoolSnapshot;
  readonly input: PolicyInput;
  readonly inMode: (cidr: CidrSnapshot) => boolean;
  readonly cooling: (address: AddressState) => boolean;
  readonly wake: Wake;
}

function shrink(enis: readonly EniSnapshot[], context: ShrinkContext): PoolAction[] {
  const { shape, snapshot, input, inMode, cooling, wake } = context;
  const { settings, nowMs } = input;
  const isFree = (cidr: CidrSnapshot) =>
    cidr.addresses.every((a) => a.kind === "free" || (a.kind === "cooling" && !cooling(a)));
  const sizeInMode = (cidrs: readonly CidrSnapshot[]) =>
    cidrs.reduce((sum, cidr) => sum + (inMode(cidr) ? cidr.addresses.length : 0), 0);
  let { usable, total } = context.stats;
  const peak = snapshot.peakDemand;
  // What the window measures: the addresses pods hold (cooling ones count as warm, not as demand).
  const held = total - usable - context.stats.cooling;
  if (peak !== undefined && peak.addresses > held) {
    // Shrink as if the peak were here now, and look again once it leaves the window.
    usable = Math.max(usable - (peak.addresses - held), 0);
    wake.at(peak.untilMs);
  }
  const actions: PoolAction[] = [];
  const freed = new Set<string>();

  for (const eni of [...enis].reverse()) {
    if (eni.primary) continue;
    const held = eni.cidrs.some((cidr) => cidr.addresses.some((a) => a.kind === "assigned"));
    if (held) continue;
    const size = sizeInMode(eni.cidrs);
    if (shape.deficit(usable - size, total - size) > 0) continue;
    if (!eni.cidrs.every(isFree)) continue; // cooling addresses: the wake above covers their expiry
    const matureAtMs = eni.createdAtMs + settings.minEniAgeMs;
    if (nowMs < matureAtMs) {
      wake.at(matureAtMs);
      continue;
    }
    actions.push({ kind: "free-eni", eniId: eni.eniId });
    freed.add(eni.eniId);
    usable -= size;
    total -= size;
  }

  const releases: { eniId: string; cidrs: string[] }[] = [];
  let spent = false;
  for (const eni of [...enis].reverse()) {
    if (freed.has(eni.eniId)) continue;
    const cidrs: string[] = [];
    for (const cidr of [...eni.cidrs].reverse()) {
      if (!isFree(cidr)) continue;
      if (!inMode(cidr)) {
        cidrs.push(cidr.cidr); // left over from the other mode: never counted, always released
        continue;
      }
      const size = cidr.addresses.length;
      if (spent || !shape.releases || shape.deficit(usable - size, total - size) > 0) {
        spent = true;
        continue;
      }
      cidrs.push(cidr.cidr);
      usable -= size;
      total -= size;
    }
    if (cidrs.length > 0) releases.push({ eniId: eni.eniId, cidrs });
  }
  const last = snapshot.lastDecreaseAtMs;
  const dueAtMs = last === null ? nowMs : last + settings.decreaseIntervalMs;
  if (releases.length > 0 && nowMs < dueAtMs) {
    wake.at(dueAtMs);
  } else {
    for (const release of releases) actions.push({ kind: "release", ...release });
  }
  return actions;
}

/** The earliest of several due times. */
class Wake {
  ms: number | null = null;

  at(ms: number): void {
    if (this.ms === null || ms < this.ms) this.ms = ms;
  }
}
