/**
 * The replay scoreboard's scenarios and targets. A scenario is a workload, the
 * instance type and settings it runs with, and its kind, which says what is
 * measured and what counts as a win; add a scenario by adding an entry (a new kind
 * also needs its metrics and targets here).
 *
 * @module
 */
import type { PoolSettings } from "../../ipamd/pool/types.ts";
import type { ReplayOptions } from "../../sim/replay/engine.ts";
import { scenario, type Workload } from "../../sim/replay/scenarios.ts";

/** What a scenario measures: a cold node's burst, a node's churn, a fleet's launch, or a fleet in small subnets. */
export type ScenarioKind = "burst" | "churn" | "launch" | "subnets";

/** One scoreboard scenario. */
export interface ScoreScenario {
  /** Stable key in the JSON. */
  readonly id: string;
  /** What the README's first column says. */
  readonly title: string;
  readonly kind: ScenarioKind;
  readonly instanceType: string;
  /** Over the defaults (DEFAULT_POOL_SETTINGS). */
  readonly settings: Partial<PoolSettings>;
  readonly workload: (seed: number) => Workload;
  /** Anything else the replay takes (timing, ADD wait, …). */
  readonly replay?: Partial<Omit<ReplayOptions, "policy" | "workload" | "seed" | "limits" | "settings">>;
}

/** One run's figures (one policy, one seed). */
export interface RunMetrics {
  /** burst: from the first ADD until every pod has an address; launch: from the start until all pods run; null: never. */
  readonly allServedMs: number | null;
  readonly ec2Calls: number;
  readonly throttled: number;
  readonly idleIpSeconds: number;
  readonly failedAdds: number;
  /** ADDs that failed while the node had room for the pod. */
  readonly failedAddsWithCapacity: number;
  /** Wait of pods for an address, p99, in ms. */
  readonly waitP99Ms: number;
  /** Pods that never got an address. */
  readonly unserved: number;
}

/** A target: what it says, and whether one seed's run met it (null: reported only, with why). */
export interface Target {
  readonly id: string;
  readonly metric: keyof RunMetrics;
  readonly text: string;
  judge(ours: RunMetrics, reference: RunMetrics): boolean | { readonly reported: string };
}

const noFailures: Target = {
  id: "no-failed-adds",
  metric: "failedAddsWithCapacity",
  text: "0",
  judge: (ours) => ours.failedAddsWithCapacity === 0,
};

const fewerCalls: Target = {
  id: "calls",
  metric: "ec2Calls",
  text: "≤ reference",
  judge: (ours, reference) => ours.ec2Calls <= reference.ec2Calls,
};

function faster(share: number): Target {
  return {
    id: "time",
    metric: "allServedMs",
    text: `≤ ${share} × reference`,
    judge: (ours, reference) =>
      ours.allServedMs !== null &&
      (reference.allServedMs === null || ours.allServedMs <= share * reference.allServedMs),
  };
}

const fewerIdle: Target = {
  id: "idle",
  metric: "idleIpSeconds",
  text: "≤ reference where it fails no ADD",
  judge: (ours, reference) =>
    reference.failedAdds > 0
      ? { reported: `the reference failed ${reference.failedAdds} ADDs` }
      : ours.idleIpSeconds <= reference.idleIpSeconds,
};

const noStranded: Target = {
  id: "stranded",
  metric: "unserved",
  text: "0 where the reference strands some",
  judge: (ours, reference) =>
    reference.unserved > 0 ? ours.unserved === 0 : { reported: "the reference stranded no pod" },
};

/** The targets of each kind. */
export const TARGETS: Readonly<Record<ScenarioKind, readonly Target[]>> = {
  burst: [faster(0.5), noFailures],
  churn: [fewerCalls, fewerIdle, noFailures],
  launch: [faster(0.6), fewerCalls, noFailures],
  subnets: [noStranded],
};

/** The metrics each kind shows, in order (those with a target and those reported). */
export const METRICS: Readonly<Record<ScenarioKind, readonly (keyof RunMetrics)[]>> = {
  burst: ["allServedMs", "failedAddsWithCapacity", "ec2Calls"],
  churn: ["ec2Calls", "idleIpSeconds", "failedAddsWithCapacity", "waitP99Ms"],
  launch: ["allServedMs", "ec2Calls", "failedAddsWithCapacity", "throttled"],
  subnets: ["unserved", "idleIpSeconds", "ec2Calls", "waitP99Ms"],
};

/** What each metric is called in the table, per kind where it differs. */
export function metricName(kind: ScenarioKind, metric: keyof RunMetrics): string {
  switch (metric) {
    case "allServedMs":
      return kind === "launch" ? "time until all pods run" : "time until every pod has an address";
    case "ec2Calls":
      return "EC2 calls (throttled ones too)";
    case "throttled":
      return "throttled EC2 calls";
    case "idleIpSeconds":
      return "idle IP-seconds";
    case "failedAdds":
      return "failed ADDs";
    case "failedAddsWithCapacity":
      return "failed ADDs while the node had room";
    case "waitP99Ms":
      return "pod wait for an address, p99";
    case "unserved":
      return "pods never addressed";
  }
}

const CHURN = (nodes?: number) => (seed: number) => scenario("churn", { seed, nodes });
const LAUNCH = (nodes: number) => (seed: number) => scenario("launch", { seed, nodes });

/** The scoreboard's scenarios, on an m5.xlarge (4 ENIs of 15 IPv4 addresses, 58 pods) but for the small subnets' m5.large. */
export const SCENARIOS: readonly ScoreScenario[] = [
  {
    id: "burst",
    title: "burst: 30 pods on a cold node, WARM_ENI_TARGET=1",
    kind: "burst",
    instanceType: "m5.xlarge",
    settings: { warmEniTarget: 1 },
    workload: (seed) => scenario("burst", { seed }),
  },
  {
    id: "churn-eni",
    title: "churn: about 20 pods, 30 min, WARM_ENI_TARGET=1",
    kind: "churn",
    instanceType: "m5.xlarge",
    settings: { warmEniTarget: 1 },
    workload: CHURN(),
  },
  {
    id: "churn-ip",
    title: "churn: about 20 pods, 30 min, WARM_IP_TARGET=2, MINIMUM_IP_TARGET=10",
    kind: "churn",
    instanceType: "m5.xlarge",
    settings: { warmIpTarget: 2, minimumIpTarget: 10 },
    workload: CHURN(),
  },
  {
    id: "churn-prefix",
    title: "churn: about 20 pods, 30 min, prefix delegation, WARM_PREFIX_TARGET=1",
    kind: "churn",
    instanceType: "m5.xlarge",
    settings: { prefixDelegation: true, warmPrefixTarget: 1 },
    workload: CHURN(),
  },
  {
    id: "launch-eni",
    title: "launch: 150 nodes × 20 pods, WARM_ENI_TARGET=1",
    kind: "launch",
    instanceType: "m5.xlarge",
    settings: { warmEniTarget: 1 },
    workload: LAUNCH(150),
  },
  {
    id: "launch-prefix",
    title: "launch: 150 nodes × 20 pods, prefix delegation, WARM_PREFIX_TARGET=1",
    kind: "launch",
    instanceType: "m5.xlarge",
    settings: { prefixDelegation: true, warmPrefixTarget: 1 },
    workload: LAUNCH(150),
  },
  {
    id: "launch-ip",
    title: "launch: 150 nodes × 20 pods, WARM_IP_TARGET=2, MINIMUM_IP_TARGET=10",
    kind: "launch",
    instanceType: "m5.xlarge",
    settings: { warmIpTarget: 2, minimumIpTarget: 10 },
    workload: LAUNCH(150),
  },
  {
    id: "subnets",
    title:
      "subnets: 60 m5.large in a /24 with a tagged /26, 220 pods over 20 min, subnet-aware targets (default)",
    kind: "subnets",
    instanceType: "m5.large",
    settings: {},
    workload: (seed) => scenario("subnets", { seed }),
  },
  {
    id: "subnets-unaware",
    title: "subnets: the same with POOL_SUBNET_AWARE=false",
    kind: "subnets",
    instanceType: "m5.large",
    settings: { subnetAware: false },
    workload: (seed) => scenario("subnets", { seed }),
  },
];
