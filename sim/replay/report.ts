/**
 * A replay's report: per node and in total, EC2 calls by action and throttled
 * calls, idle IP-seconds and peak addresses held, pod waits for an address
 * (p50/p99/max), failed ADDs; the assumptions behind the run; as text or JSON.
 *
 * @module
 */
import { GROWTH_BLOCK_TEXT, type GrowthBlockReason } from "../../ipamd/pool/mod.ts";
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
  /** Of `unserved`, the pods deleted while they waited. */
  readonly deletedWaiting: number;
  /** The most pods alive on one node at once (what the workload asked of a node). */
  readonly peakPods: number;
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
  const deletedWaiting = pods.filter((pod) => pod.servedMs === null && pod.deletedMs !== null).length;
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
    deletedWaiting,
    peakPods: peakPodsPerNode(pods),
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

/** The most pods alive on one node at once. */
function peakPodsPerNode(pods: readonly PodRecord[]): number {
  const byNode = new Map<string, { atMs: number; delta: number }[]>();
  for (const pod of pods) {
    const changes = byNode.get(pod.node) ?? [];
    changes.push({ atMs: pod.scheduledMs, delta: 1 });
    if (pod.deletedMs !== null) changes.push({ atMs: pod.deletedMs, delta: -1 });
    byNode.set(pod.node, changes);
  }
  let peak = 0;
  for (const changes of byNode.values()) {
    let alive = 0;
    for (const change of changes.sort((a, b) => a.atMs - b.atMs || a.delta - b.delta)) {
      alive += change.delta;
      peak = Math.max(peak, alive);
    }
  }
  return peak;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const COMMON_ASSUMPTIONS = [
  "One EC2 account for all nodes, throttled with EC2's documented token buckets; every attempt counts as a call, throttled ones too",
  "Attach completes after a lognormal delay (median 2 s, capped at 10 s unless set); detach takes 2 to 3 s; every EC2 call takes 100 ms; IMDS shows a new ENI after a further lognormal lag (median 1 s, up to 30 s)",
  "Pods reach a node only once its CNI is ready; a failed ADD is retried by kubelet after 10 to 15 s (pod worker back-off 10 s, jitter 0.5)",
  "A node can address its ENIs' room, capped by max pods; an ADD that fails while the node holds more pods than that fails whatever the pool does",
  "Idle IP-seconds count addresses held for pods but not assigned (cooling ones included), sampled each simulated second over the window",
];

const OUR_ASSUMPTIONS = [
  "aws-cni: the daemon's own Pool (datastore, policy, reconciler, waiting-ADD queue) over its own EC2 adapter (SdkEc2Port) and request budget: client-side buckets, throttled calls retried up to 5 times with full-jitter back-off, then growth pauses (full jitter); the steps of one growth plan go out side by side",
  "aws-cni: a new ENI is attached at a device index read from IMDS and awaited in IMDS (no EC2 call); an ENI whose attach was throttled is kept and attached by the next create",
  "aws-cni: start-up reads the node from IMDS (a fresh node makes no EC2 call), retrying with back-off; the daemon is never restarted; node reconciliation runs every 60 s",
  "aws-cni: an ADD waits in ipamd up to ADD_WAIT_TIMEOUT (60 s) for an address, first come first served; growth for waiting ADDs goes first (spare addresses ride along in its calls), spare growth alone waits 10 s of shortfall and up to 2 min after the node last saw EC2 throttle",
  "aws-cni: after a throttle, the node paces that action's calls (0.7 × per throttle, down to a fifth of the bucket's refill, recovering with answers and after a minute)",
  "aws-cni: cooling addresses count toward the warm target; an ADD waits for one only if its cooldown ends within 5 s, else the pool grows",
];

const REFERENCE_ASSUMPTIONS = [
  "reference: v1.23.1 loop: sleep 2.5 s, updateIPPoolIfRequired, sleep 2.5 s; one increase action (one Assign, or one new ENI if no ENI has room) per cycle; a failed Assign ends the increase; decreases 30 s apart; at most one ENI freed per cycle",
  "reference: cooling addresses count as available; an ENI with a cooling address is not freed; a decrease may release cooling addresses",
  "reference: Go map order is a seeded shuffle (ENI to grow, pod address, CIDRs to release, ENI to free)",
  "reference: ADD fails at once when nothing is assignable; the pool grows only from the loop",
  "reference: a new ENI blocks the loop until IMDS shows it (the attach plus the IMDS lag), polled from 100 ms doubling, 12 tries, 15 % jitter",
  "reference: SDK standard retryer on every call (3 attempts, full jitter up to 2^n s) for throttling and 5xx; Detach/Delete retried 12 times (200 ms / 500 ms doubling), 2 s sleep between",
  "reference: subnet discovery on (DescribeSubnets before each Create, falling back to the primary subnet; one in each setupENI, after the ENI joined the datastore; reconcile adds the addresses of an ENI whose check failed); leaked-ENI cleanup and SG refresh not modelled",
  "reference: aws-node start (DescribeAllENIs with 12 tries, TagENI, setupENI, then one pre-scaling increase) failing makes kubelet restart it (CrashLoopBackOff 10 s doubling)",
  "reference: insufficient-CIDR errors stop increases for 120 s; PrivateIpAddressLimitExceeded re-reads the ENI; a failed Unassign is re-added by reconcile after 60 s",
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
  lines.push("", `EC2 calls by action: ${formatCounts(total.ec2Calls)}`, ...summaryLines(report));
  if (total.startFailures > 0) {
    lines.push(`daemon starts that failed and were restarted: ${total.startFailures}`);
  }
  lines.push("", "assumptions:", ...report.assumptions.map((a) => `  - ${a}`), "");
  return lines.join("\n");
}

/** What happened to the pods, in sentences. */
function summaryLines(report: ReplayReport): string[] {
  const { total, capacity } = report;
  const room = total.peakPods > capacity
    ? `; the workload put up to ${total.peakPods} pods on a node that can address ${capacity}, ` +
      "so some ADDs fail whatever the pool does"
    : ` (at most ${total.peakPods} pods on a node that can address ${capacity})`;
  const lines = [`pods: ${total.pods}${room}`];
  if (total.failedAdds === 0) lines.push("failed ADDs: none");
  else {
    const reasons = Object.entries(total.failedByReason).map(([reason, n]) =>
      `${GROWTH_BLOCK_TEXT[reason as GrowthBlockReason]} ${n}`
    );
    lines.push(
      `failed ADDs: ${total.failedAdds} (${reasons.join(", ")}); ` +
        `${total.failedAddsWithCapacity} while the node had room for the pod`,
    );
  }
  if (total.podsWaited === 0) lines.push("no pod waited for an address");
  else if (total.allServedMs !== null) {
    lines.push(
      `${total.podsWaited} pods waited for an address; the last got one at ${seconds(total.allServedMs)}`,
    );
  } else {
    const stillWaiting = total.unserved - total.deletedWaiting;
    lines.push(
      `${total.podsWaited} pods waited for an address; ${total.unserved} never got one ` +
        `(${total.deletedWaiting} deleted while waiting, ${stillWaiting} still waiting at the end)`,
    );
  }
  return lines;
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
