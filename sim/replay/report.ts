/**
 * A replay's report: per node and in total, EC2 calls by action and throttled
 * calls, idle IP-seconds and peak addresses held, pod waits for an address
 * (p50/p99/max), failed ADDs; the assumptions behind the run; as text or JSON.
 *
 * @module
 */
import type { GrowthBlockReason } from "../../ipamd/pool/mod.ts";
import type { Ec2Action } from "../ec2/mod.ts";
import { addressCapacity, type NodeResult, type ReplayPolicy, type ReplayResult } from "./engine.ts";
import type { PodRecord } from "./kubelet.ts";

/** Waits in ms; null when no pod was served. */
export interface WaitStats {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** One node's figures, or the total's. */
export interface NodeSummary {
  readonly node: string;
  readonly ec2Calls: Partial<Record<Ec2Action, number>>;
  readonly ec2Total: number;
  readonly throttled: number;
  readonly idleIpSeconds: number;
  readonly peakIps: number;
  readonly pods: number;
  /** Pods deleted or still alive without ever getting an address. */
  readonly unserved: number;
  readonly waitMs: WaitStats | null;
  readonly failedAdds: number;
  /** Failed ADDs whose reason is EC2 throttling. */
  readonly failedAddsThrottled: number;
  /** Failed ADDs that came while the node's pods fit its address capacity (the rest: more pods than it can address). */
  readonly failedAddsWithCapacity: number;
  readonly failedByReason: Readonly<Partial<Record<GrowthBlockReason, number>>>;
  /** Pods that did not get their address at once (they waited, or an ADD failed). */
  readonly podsWaited: number;
  /** When the last pod got its address (ms from start); null if some pod never did. */
  readonly allServedMs: number | null;
  readonly startFailures: number;
}

/** The whole report. */
export interface ReplayReport {
  readonly policy: ReplayPolicy;
  readonly workload: string;
  readonly about: string;
  readonly instanceType: string;
  readonly seed: number;
  readonly settings: Readonly<Record<string, number | boolean | string>>;
  /** Addresses one node can hold for pods (its ENIs' room, capped by max pods). */
  readonly capacity: number;
  readonly windowMs: number;
  readonly endMs: number;
  readonly total: NodeSummary;
  readonly nodes: readonly NodeSummary[];
  readonly assumptions: readonly string[];
}

/** Summarises a replay. */
export function buildReport(result: ReplayResult): ReplayReport {
  const { options } = result;
  const byNode = new Map<string, PodRecord[]>();
  for (const pod of result.pods) byNode.set(pod.node, [...(byNode.get(pod.node) ?? []), pod]);
  const nodes = result.nodes.map((node) => summarise(node.name, [node], byNode.get(node.name) ?? []));
  const total = { ...summarise("total", result.nodes, result.pods), peakIps: result.accountPeakIps };
  const { settings } = options;
  return {
    policy: options.policy,
    workload: options.workload.name,
    about: options.workload.about,
    instanceType: options.instanceType,
    seed: options.seed,
    settings: {
      WARM_ENI_TARGET: settings.warmEniTarget,
      WARM_IP_TARGET: settings.warmIpTarget,
      MINIMUM_IP_TARGET: settings.minimumIpTarget,
      MAX_ENI: settings.maxEni > 0 ? settings.maxEni : "unset",
      ENABLE_PREFIX_DELEGATION: settings.prefixDelegation,
      WARM_PREFIX_TARGET: settings.warmPrefixTarget,
      IP_COOLDOWN_PERIOD: settings.ipCooldownMs / 1000,
      MAX_PODS: options.limits.maxPods,
    },
    capacity: addressCapacity(options.limits, settings),
    windowMs: result.windowMs,
    endMs: result.endMs,
    total,
    nodes,
    assumptions: assumptionsOf(options.policy),
  };
}

function summarise(name: string, nodes: readonly NodeResult[], pods: readonly PodRecord[]): NodeSummary {
  const ec2Calls: Partial<Record<Ec2Action, number>> = {};
  const failedByReason: Partial<Record<GrowthBlockReason, number>> = {};
  for (const node of nodes) {
    for (const [action, count] of Object.entries(node.tally.calls) as [Ec2Action, number][]) {
      ec2Calls[action] = (ec2Calls[action] ?? 0) + count;
    }
    for (const [reason, count] of Object.entries(node.failures.byReason) as [GrowthBlockReason, number][]) {
      failedByReason[reason] = (failedByReason[reason] ?? 0) + count;
    }
  }
  const waits = pods.flatMap((pod) =>
    pod.servedMs === null || pod.firstAddMs === null ? [] : [pod.servedMs - pod.firstAddMs]
  ).sort((a, b) => a - b);
  const unserved = pods.filter((pod) => pod.servedMs === null).length;
  const sum = (f: (node: NodeResult) => number) => nodes.reduce((total, node) => total + f(node), 0);
  const reasons = Object.entries(failedByReason);
  return {
    node: name,
    ec2Calls,
    ec2Total: Object.values(ec2Calls).reduce((a, b) => a + b, 0),
    throttled: sum((node) => node.tally.throttled),
    idleIpSeconds: Math.round(sum((node) => node.idleIpSeconds)),
    peakIps: sum((node) => node.peakIps),
    pods: pods.length,
    unserved,
    waitMs: waits.length === 0 ? null : {
      p50: percentile(waits, 50),
      p99: percentile(waits, 99),
      max: waits.at(-1)!,
    },
    failedAdds: reasons.reduce((total, [, count]) => total + (count ?? 0), 0),
    failedAddsThrottled: failedByReason.throttled ?? 0,
    failedAddsWithCapacity: sum((node) => node.failures.withCapacity),
    failedByReason,
    podsWaited: pods.filter((pod) =>
      pod.failedAdds > 0 ||
      (pod.servedMs !== null && pod.firstAddMs !== null && pod.servedMs > pod.firstAddMs)
    ).length,
    allServedMs: unserved > 0 ? null : Math.max(0, ...pods.map((pod) => pod.servedMs ?? 0)),
    startFailures: sum((node) => node.startFailures),
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const COMMON_ASSUMPTIONS = [
  "One EC2 account for all nodes, throttled with EC2's documented token buckets",
  "Attach completes after a lognormal delay (median 2 s, capped at 10 s unless set); detach takes 2 to 3 s; every EC2 call takes 100 ms",
  "Pods reach a node only once its CNI is ready; a failed ADD is retried by kubelet after 10 to 15 s (pod worker back-off 10 s, jitter 0.5)",
  "Idle IP-seconds count addresses held for pods but not assigned (cooling ones included), sampled each simulated second over the window",
];

const OUR_ASSUMPTIONS = [
  "aws-cni: the daemon's own datastore, policy and reconciler, through SimEc2Port (no SDK retries: a throttled call holds growth 1 to 30 s)",
  "aws-cni: an ADD waits in ipamd up to 10 s for an address (first come first served), then fails and kubelet retries",
  "aws-cni: attaches and detaches are awaited without EC2 calls (looks from 100 ms, doubling up to 500 ms), as the real adapter waits on IMDS",
  "aws-cni: a daemon whose first DescribeInstances fails is restarted after 1 to 30 s (service manager)",
  "aws-cni: the loop is Reconciler.run(): a pass, then the 5 s interval, a due decision or the end of a hold; ADDs and DELs wake it; waiting ADDs use the daemon's AddressQueue",
];

const REFERENCE_ASSUMPTIONS = [
  "reference: v1.23.1 loop: sleep 2.5 s, updateIPPoolIfRequired, sleep 2.5 s; one increase action (one Assign, or one new ENI if nothing was added) per cycle; decreases 30 s apart; at most one ENI freed per cycle",
  "reference: cooling addresses count as available; an ENI with a cooling address is not freed; a decrease may release cooling addresses",
  "reference: Go map order is a seeded shuffle (ENI to grow, pod address, CIDRs to release, ENI to free)",
  "reference: ADD fails at once when nothing is assignable; the pool grows only from the loop",
  "reference: a new ENI blocks the loop until IMDS shows it: IMDS lags the attach by a lognormal delay (median 1 s, up to 30 s), polled from 100 ms doubling, 12 tries, 15 % jitter",
  "reference: SDK standard retryer on every call (3 attempts, full jitter up to 2^n s) for throttling and 5xx; Detach/Delete retried 12 times (200 ms / 500 ms doubling), 2 s sleep between",
  "reference: subnet discovery on (DescribeSubnets before each Create and in each setupENI); leaked-ENI cleanup, IMDS reconcile and SG refresh not modelled (no EC2 calls when IMDS agrees)",
  "reference: aws-node start (DescribeAllENIs, 12 tries) failing makes kubelet restart it (CrashLoopBackOff 10 s doubling); pre-scaling runs one increase before the node is ready",
  "reference: insufficient-CIDR errors stop increases for 120 s; a failed Unassign is re-added by reconcile after 60 s",
];

function assumptionsOf(policy: ReplayPolicy): string[] {
  return [...COMMON_ASSUMPTIONS, ...(policy === "aws-cni" ? OUR_ASSUMPTIONS : REFERENCE_ASSUMPTIONS)];
}

/** The report as text. */
export function renderReport(report: ReplayReport): string {
  const settings = Object.entries(report.settings).map(([k, v]) => `${k}=${v}`).join(" ");
  const lines = [
    `replay ${report.workload} (${report.about}) on ${report.instanceType}, policy ${report.policy}, seed ${report.seed}`,
    `settings: ${settings}`,
    `window ${seconds(report.windowMs)}, run ended at ${seconds(report.endMs)}`,
    "",
  ];
  const shown = report.nodes.length <= 20
    ? report.nodes
    : [...report.nodes].sort((a, b) => (b.waitMs?.max ?? 0) - (a.waitMs?.max ?? 0)).slice(0, 5);
  lines.push(table([report.total, ...shown]));
  if (shown.length < report.nodes.length) {
    lines.push(`(${shown.length} of ${report.nodes.length} nodes shown, slowest first; --json has all)`);
  }
  const { total } = report;
  lines.push(
    "",
    `EC2 calls by action: ${formatCounts(total.ec2Calls)}`,
    `failed ADDs by reason: ${formatCounts(total.failedByReason)}`,
    `every pod had an address ${
      total.allServedMs === null
        ? `never (${total.unserved} pods went without)`
        : `at ${seconds(total.allServedMs)}`
    }`,
  );
  if (total.startFailures > 0) {
    lines.push(`daemon starts that failed and were restarted: ${total.startFailures}`);
  }
  lines.push("", "assumptions:", ...report.assumptions.map((a) => `  - ${a}`), "");
  return lines.join("\n");
}

function table(rows: readonly NodeSummary[]): string {
  const head = [
    "node",
    "EC2 calls",
    "throttled",
    "idle IP-s",
    "peak IPs",
    "pods",
    "wait p50",
    "p99",
    "max",
    "failed ADDs",
  ];
  const body = rows.map((row) => [
    row.node,
    String(row.ec2Total),
    String(row.throttled),
    String(row.idleIpSeconds),
    String(row.peakIps),
    String(row.pods),
    row.waitMs === null ? "-" : seconds(row.waitMs.p50),
    row.waitMs === null ? "-" : seconds(row.waitMs.p99),
    row.waitMs === null ? "-" : seconds(row.waitMs.max),
    String(row.failedAdds),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join("  ");
  return [line(head), ...body.map(line)].join("\n");
}

function formatCounts(counts: Readonly<Record<string, number | undefined>>): string {
  const entries = Object.entries(counts).filter(([, n]) => n !== undefined && n > 0);
  return entries.length === 0
    ? "none"
    : entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(", ");
}

/** Milliseconds as seconds with one decimal. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
