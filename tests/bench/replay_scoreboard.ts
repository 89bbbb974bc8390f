/**
 * The replay scoreboard: our warm-pool policy against the model of the reference's
 * loop, in simulated time on one shared, throttled EC2 account, for the three
 * scenarios in one run. Prints a markdown table; every missed target is said so.
 *
 * Run: `deno run -A tests/bench/replay_scoreboard.ts [--launch-nodes N] [--seed S]`
 * Targets (ours vs the reference model):
 * - burst: every pod served in at most half the time, with zero failed ADDs;
 * - churn: no more EC2 calls, at equal or lower idle IP-seconds;
 * - launch: no ADD fails because of throttling, and every pod runs.
 */
import { parseArgs } from "node:util";
import { instanceLimits, lookupInstanceType } from "../../ipamd/limits/limits.ts";
import { DEFAULT_POOL_SETTINGS, type PoolSettings } from "../../ipamd/pool/types.ts";
import { type ReplayPolicy, type ReplayResult, runReplay } from "../../sim/replay/engine.ts";
import { buildReport, type ReplayReport } from "../../sim/replay/report.ts";
import { scenario, type ScenarioName } from "../../sim/replay/scenarios.ts";

const INSTANCE_TYPE = "m5.xlarge";
const POLICIES: readonly ReplayPolicy[] = ["aws-cni", "reference"];

interface Run {
  readonly result: ReplayResult;
  readonly report: ReplayReport;
}

interface Row {
  readonly scenario: string;
  readonly metric: string;
  readonly ours: string;
  readonly reference: string;
  readonly target: string;
  readonly met: boolean | null;
  readonly note?: string;
}

async function play(
  name: ScenarioName,
  policy: ReplayPolicy,
  options: { seed: number; nodes?: number; settings?: Partial<PoolSettings> },
): Promise<Run> {
  const limits = instanceLimits(lookupInstanceType(INSTANCE_TYPE), { prefixDelegation: false });
  const result = await runReplay({
    instanceType: INSTANCE_TYPE,
    limits,
    settings: { ...DEFAULT_POOL_SETTINGS, ...options.settings },
    policy,
    workload: scenario(name, { seed: options.seed, nodes: options.nodes }),
    seed: options.seed,
  });
  return { result, report: buildReport(result) };
}

/** From the first pod's ADD to the last pod's address, in ms; null if a pod never got one. */
function allServedAfterMs(result: ReplayResult, from: "first-add" | "start"): number | null {
  if (result.pods.some((pod) => pod.servedMs === null && pod.deletedMs === null)) return null;
  const start = from === "start" ? 0 : Math.min(...result.pods.map((pod) => pod.firstAddMs ?? Infinity));
  return Math.max(...result.pods.map((pod) => pod.servedMs ?? 0)) - start;
}

function s(ms: number | null): string {
  return ms === null ? "never" : `${(ms / 1000).toFixed(1)} s`;
}

/** Runs every scenario with both policies; returns the rows and the wall time. */
export async function scoreboard(options: { seed: number; launchNodes: number }): Promise<Row[]> {
  const { seed } = options;
  const rows: Row[] = [];
  const both = async (name: ScenarioName, extra: { nodes?: number; settings?: Partial<PoolSettings> }) => {
    const [ours, reference] = [
      await play(name, POLICIES[0]!, { seed, ...extra }),
      await play(name, POLICIES[1]!, { seed, ...extra }),
    ];
    return { ours: ours!, reference: reference! };
  };

  const burst = await both("burst", {});
  const oursTime = allServedAfterMs(burst.ours.result, "first-add");
  const refTime = allServedAfterMs(burst.reference.result, "first-add");
  const fast = oursTime !== null && (refTime === null || oursTime <= refTime / 2);
  rows.push({
    scenario: "burst (30 pods, cold node, WARM_ENI_TARGET=1)",
    metric: "time until every pod has an address",
    ours: s(oursTime),
    reference: s(refTime),
    target: "ours ≤ ½ reference",
    met: fast,
  }, {
    scenario: "",
    metric: "failed ADDs",
    ours: String(burst.ours.report.total.failedAdds),
    reference: String(burst.reference.report.total.failedAdds),
    target: "ours = 0",
    met: burst.ours.report.total.failedAdds === 0,
  });

  for (
    const [label, settings] of [
      ["WARM_ENI_TARGET=1", { warmEniTarget: 1 }],
      ["WARM_IP_TARGET=2, MINIMUM_IP_TARGET=10", { warmIpTarget: 2, minimumIpTarget: 10 }],
    ] as const
  ) {
    const churn = await both("churn", { settings });
    const [o, r] = [churn.ours.report.total, churn.reference.report.total];
    rows.push({
      scenario: `churn (about 20 pods, 30 min, ${label})`,
      metric: "EC2 calls",
      ours: String(o.ec2Total),
      reference: String(r.ec2Total),
      target: "ours ≤ reference",
      met: o.ec2Total <= r.ec2Total,
      note: `${label}: ours ${formatCalls(o.ec2Calls)}; reference ${formatCalls(r.ec2Calls)}`,
    }, {
      scenario: "",
      metric: "idle IP-seconds",
      ours: String(o.idleIpSeconds),
      reference: String(r.idleIpSeconds),
      target: "ours ≤ reference",
      met: o.idleIpSeconds <= r.idleIpSeconds,
    }, {
      scenario: "",
      metric: "pod wait for an address, p99 (failed ADDs)",
      ours: `${s(o.waitMs?.p99 ?? 0)} (${o.failedAdds})`,
      reference: `${s(r.waitMs?.p99 ?? 0)} (${r.failedAdds})`,
      target: "(reported)",
      met: null,
    });
  }

  const launch = await both("launch", { nodes: options.launchNodes });
  const [lo, lr] = [launch.ours.report.total, launch.reference.report.total];
  rows.push({
    scenario: `launch (${options.launchNodes} nodes × 20 pods, WARM_ENI_TARGET=1)`,
    metric: "throttled EC2 calls",
    ours: String(lo.throttled),
    reference: String(lr.throttled),
    target: "(reported)",
    met: null,
  }, {
    scenario: "",
    metric: "time until all pods run",
    ours: s(allServedAfterMs(launch.ours.result, "start")),
    reference: s(allServedAfterMs(launch.reference.result, "start")),
    target: "(reported)",
    met: null,
  }, {
    scenario: "",
    metric: "ADDs failed because of throttling (all failed ADDs)",
    ours: `${lo.failedAddsThrottled} (${lo.failedAdds})`,
    reference: `${lr.failedAddsThrottled} (${lr.failedAdds})`,
    target: "ours: 0, every pod runs",
    met: lo.failedAddsThrottled === 0 && lo.unserved === 0,
    note:
      `launch: ours failed ADDs by reason ${
        JSON.stringify(lo.failedByReason)
      }, daemon restarts ${lo.startFailures}; ` +
      `reference ${JSON.stringify(lr.failedByReason)}, aws-node restarts ${lr.startFailures}`,
  });
  return rows;
}

function formatCalls(calls: Readonly<Record<string, number | undefined>>): string {
  return Object.entries(calls).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(", ");
}

function render(
  rows: readonly Row[],
  wallMs: number,
  options: { seed: number; launchNodes: number },
): string {
  const mark = (met: boolean | null) => met === null ? "–" : met ? "✅ met" : "❌ MISSED";
  const lines = [
    `## Replay scoreboard: aws-cni vs reference model (${INSTANCE_TYPE}, seed ${options.seed})`,
    "",
    "| scenario | metric | aws-cni | reference | target | result |",
    "|---|---|---:|---:|---|---|",
    ...rows.map((r) =>
      `| ${r.scenario} | ${r.metric} | ${r.ours} | ${r.reference} | ${r.target} | ${mark(r.met)} |`
    ),
    "",
  ];
  const missed = rows.filter((r) => r.met === false);
  lines.push(
    missed.length === 0
      ? "All targets met."
      : `Targets missed: ${missed.length} of ${rows.filter((r) => r.met !== null).length}: ` +
        missed.map((r) => `${r.metric} (ours ${r.ours} vs reference ${r.reference}; target ${r.target})`)
          .join("; ") +
        ".",
  );
  lines.push("", ...rows.flatMap((r) => r.note === undefined ? [] : [`- ${r.note}`]));
  lines.push("", `Simulated on one shared throttled EC2 account; wall time ${(wallMs / 1000).toFixed(1)} s.`);
  lines.push("Assumptions: see `aws-cni replay --policy reference` (printed with every report).");
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { "launch-nodes": { type: "string" }, seed: { type: "string" } },
  });
  const options = { seed: Number(values.seed ?? "1"), launchNodes: Number(values["launch-nodes"] ?? "150") };
  const started = performance.now();
  const rows = await scoreboard(options);
  const text = render(rows, performance.now() - started, options);
  Deno.stdout.writeSync(new TextEncoder().encode(text + "\n"));
}
