/**
 * `/v1/pool`: our own introspection document, the one `aws-cni status` reads.
 * It puts side by side what the settings ask for and what the pool holds, shows
 * every ENI with its addresses, what the next reconcile pass will do, why the
 * pool cannot grow (if it cannot) and the last cloud failures.
 *
 * @module
 */
import { VERSION } from "../../shared/mod.ts";
import type {
  AddressQueue,
  CidrSnapshot,
  Datastore,
  GrowthBlock,
  GrowthState,
  InstanceLimits,
  PoolAction,
  PoolSettings,
  Reconciler,
} from "../pool/mod.ts";
import type { CloudFailure } from "./cloud_failures.ts";
import type { PermissionStatus } from "../cloud/mod.ts";

/** Address counts of a set of CIDRs. */
export interface AddressCounts {
  readonly total: number;
  readonly assigned: number;
  readonly cooling: number;
  /** Assignable now. */
  readonly free: number;
}

/** One ENI and its addresses. */
export interface EniReport extends AddressCounts {
  readonly eniId: string;
  readonly deviceNumber: number;
  readonly primary: boolean;
  /** "" when not known. */
  readonly subnetId: string;
  readonly subnetCidr: string;
  /** Secondary IPs (`/32`) and prefixes (`/28`) in address order. */
  readonly cidrs: readonly string[];
}

/** One setting the pool is steered by, against what the pool holds. */
export interface TargetReport {
  /** The env var, e.g. "WARM_IP_TARGET". */
  readonly setting: string;
  /** The setting's value; null when unset. */
  readonly target: number | null;
  readonly actual: number;
  /** What `actual` counts, e.g. "free IPs". */
  readonly measure: string;
  /** False when another setting overrides this one. */
  readonly active: boolean;
}

/** Everything `/v1/pool` returns. */
export interface PoolReport {
  readonly version: string;
  readonly atMs: number;
  readonly limits: InstanceLimits & { readonly maxEnisUsable: number };
  readonly settings: PoolSettings;
  readonly pool: AddressCounts & {
    readonly enis: number;
    readonly prefixes: number;
    readonly waitingAdds: number;
  };
  readonly targets: readonly TargetReport[];
  readonly enis: readonly EniReport[];
  /** The plan the next pass starts with. */
  readonly next: {
    readonly actions: readonly PoolAction[];
    readonly shortIps: number;
    /** The spare addresses subnet-aware targets allow while a subnet runs low; null: the targets apply. */
    readonly subnetSpare?: number | null;
    /** When a deferred decision (cooldown, ENI minimum age, decrease spacing) comes due. */
    readonly nextWakeMs: number | null;
  };
  /** Why the pool cannot grow: a pause or a limit, else the wait of spare growth while EC2 throttles and the pool is short. */
  readonly growthBlock: GrowthBlock | null;
  /** The last cloud failures, newest first, and how many there were since start. */
  readonly cloudErrors: { readonly recent: readonly CloudFailure[]; readonly total: number };
  /** Each EC2 action's permission: granted, missing, unchecked (no DryRun, not called yet) or unknown. */
  readonly iam: readonly PermissionStatus[];
}

/** What the report is made from. */
export interface PoolReportSource {
  readonly datastore: Datastore;
  readonly reconciler: Pick<Reconciler, "preview">;
  readonly growth: Pick<GrowthState, "current" | "spareHold">;
  readonly queue: Pick<AddressQueue, "waiting">;
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  readonly subnetOf: (eniId: string) => string;
  readonly failures: { list(): CloudFailure[]; readonly total: number };
  /** The node role's EC2 permissions, when known. */
  readonly iam?: { list(): PermissionStatus[] };
}

function count(cidrs: readonly CidrSnapshot[]): AddressCounts {
  let total = 0, assigned = 0, cooling = 0;
  for (const cidr of cidrs) {
    for (const address of cidr.addresses) {
      total++;
      if (address.kind === "assigned") assigned++;
      else if (address.kind === "cooling") cooling++;
    }
  }
  return { total, assigned, cooling, free: total - assigned - cooling };
}

const idle = (cidrs: readonly CidrSnapshot[]) => count(cidrs).free === count(cidrs).total;

/** Builds the report at `nowMs`. */
export function poolReport(source: PoolReportSource, nowMs: number): PoolReport {
  const { datastore, limits, settings } = source;
  const waitingAdds = source.queue.waiting;
  const snapshot = datastore.snapshot(nowMs, { waitingAdds, lastDecreaseAtMs: null });
  const infos = new Map(datastore.enis().map((eni) => [eni.eniId, eni]));
  const enis = snapshot.enis.map((eni): EniReport => ({
    eniId: eni.eniId,
    deviceNumber: eni.deviceNumber,
    primary: eni.primary,
    subnetId: source.subnetOf(eni.eniId),
    subnetCidr: infos.get(eni.eniId)?.subnetCidr ?? "",
    cidrs: eni.cidrs.map((cidr) => cidr.cidr),
    ...count(eni.cidrs),
  }));
  const all = count(snapshot.enis.flatMap((eni) => eni.cidrs));
  const prefixes = snapshot.enis.flatMap((eni) => eni.cidrs.filter((cidr) => cidr.prefix));
  const maxEnisUsable = settings.maxEni > 0 ? Math.min(settings.maxEni, limits.maxEnis) : limits.maxEnis;
  const ipTargets = settings.warmIpTarget > 0 || settings.minimumIpTarget > 0;
  const unset = (value: number) => value > 0 ? value : null;
  const targets: TargetReport[] = [
    {
      setting: "WARM_ENI_TARGET",
      target: settings.warmEniTarget,
      actual: snapshot.enis.filter((eni) => idle(eni.cidrs)).length,
      measure: "ENIs with no address in use",
      active: !ipTargets && !settings.prefixDelegation,
    },
    {
      setting: "WARM_IP_TARGET",
      target: unset(settings.warmIpTarget),
      actual: all.free,
      measure: "free IPs",
      active: settings.warmIpTarget > 0,
    },
    {
      setting: "MINIMUM_IP_TARGET",
      target: unset(settings.minimumIpTarget),
      actual: all.total,
      measure: "IPs held",
      active: settings.minimumIpTarget > 0,
    },
    {
      setting: "WARM_PREFIX_TARGET",
      target: settings.warmPrefixTarget,
      actual: prefixes.filter((cidr) => idle([cidr])).length,
      measure: "prefixes with no address in use",
      active: !ipTargets && settings.prefixDelegation,
    },
    {
      setting: "MAX_ENI",
      target: maxEnisUsable,
      actual: enis.length,
      measure: "ENIs attached",
      active: true,
    },
    { setting: "MAX_PODS", target: limits.maxPods, actual: all.assigned, measure: "pods", active: true },
  ];
  const plan = source.reconciler.preview();
  return {
    version: VERSION,
    atMs: nowMs,
    limits: { ...limits, maxEnisUsable },
    settings,
    pool: { ...all, enis: enis.length, prefixes: prefixes.length, waitingAdds },
    targets,
    enis,
    next: {
      actions: plan.actions,
      shortIps: plan.shortIps,
      subnetSpare: plan.subnetSpare ?? null,
      nextWakeMs: plan.nextWakeMs,
    },
    growthBlock: source.growth.current ?? (plan.shortIps > 0 ? source.growth.spareHold : null),
    cloudErrors: { recent: source.failures.list(), total: source.failures.total },
    iam: source.iam?.list() ?? [],
  };
}
