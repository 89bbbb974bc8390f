/**
 * The replay scoreboard: our warm pool (the daemon's own Pool and EC2 adapter)
 * against the model of the reference's loop, in simulated time on one shared,
 * throttled EC2 account, for every scenario of `_scoreboard_scenarios.ts` over
 * several seeds: median and worst, and in how many seeds each target was met.
 *
 * ```
 * deno run -A tests/bench/replay_scoreboard.ts [--seeds 1-5] [--only ID,…] [--json] [--attach-wait link]
 *   [--write-json tests/bench/replay_scoreboard.json] [--write-readme README.md]
 * deno run -A tests/bench/replay_scoreboard.ts --from-json tests/bench/replay_scoreboard.json --write-readme README.md
 * ```
 *
 * The README's table (block `replay-scoreboard`) is rendered from the JSON, and
 * tests/readme_replay_scoreboard_test.ts checks it has not drifted.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { instanceLimits, lookupInstanceType } from "../../ipamd/limits/limits.ts";
import { DEFAULT_POOL_SETTINGS } from "../../ipamd/pool/types.ts";
import {
  type ReplayOptions,
  type ReplayPolicy,
  type ReplayResult,
  runReplay,
} from "../../sim/replay/engine.ts";
import { buildReport } from "../../sim/replay/report.ts";
import { writeBlock } from "../../tools/readme_blocks.ts";
import { renderScoreboard, type ScenarioResult, type ScoreboardResult } from "./_scoreboard_render.ts";
import { type RunMetrics, SCENARIOS, type ScoreScenario } from "./_scoreboard_scenarios.ts";

/** Runs one scenario with one policy and one seed. */
export async function runOnce(
  scenario: ScoreScenario,
  policy: ReplayPolicy,
  seed: number,
  extra: Partial<ReplayOptions> = {},
): Promise<RunMetrics> {
  const settings = { ...DEFAULT_POOL_SETTINGS, ...scenario.settings };
  const limits = instanceLimits(lookupInstanceType(scenario.instanceType), {
    prefixDelegation: settings.prefixDelegation,
  });
  const result = await runReplay({
    ...scenario.replay,
    ...extra,
    instanceType: scenario.instanceType,
    limits,
    settings,
    policy,
    workload: scenario.workload(seed),
    seed,
  });
  const total = buildReport(result).total;
  return {
    allServedMs: allServedMs(result, scenario.kind === "launch" ? "start" : "first-add"),
    ec2Calls: total.ec2Total,
    throttled: total.throttled,
    idleIpSeconds: total.idleIpSeconds,
    failedAdds: total.failedAdds,
    failedAddsWithCapacity: total.failedAddsWithCapacity,
    waitP99Ms: total.waitMs?.p99 ?? 0,
    unserved: total.unserved,
  };
}

/** From the first ADD (or the start) to the last pod's address, in ms; null if a pod alive at the end never got one. */
function allServedMs(result: ReplayResult, from: "first-add" | "start"): number | null {
  if (result.pods.some((pod) => pod.servedMs === null && pod.deletedMs === null)) return null;
  const start = from === "start" ? 0 : Math.min(...result.pods.map((pod) => pod.firstAddMs ?? Infinity));
  return Math.max(...result.pods.map((pod) => pod.servedMs ?? 0)) - start;
}

/** Runs `scenarios` with both policies over `seeds`. */
export async function scoreboard(
  scenarios: readonly ScoreScenario[],
  seeds: readonly number[],
  options: { onRun?: (what: string) => void; ours?: Partial<ReplayOptions> } = {},
): Promise<ScoreboardResult> {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const runs = [];
    for (const seed of seeds) {
      options.onRun?.(`${scenario.id} seed ${seed}`);
      runs.push({
        seed,
        ours: await runOnce(scenario, "aws-cni", seed, options.ours),
        reference: await runOnce(scenario, "reference", seed),
      });
    }
    const { id, title, kind, instanceType } = scenario;
    results.push({ id, title, kind, instanceType, runs });
  }
  return { seeds, scenarios: results };
}

/** "1-5" or "1,3,7". */
function parseSeeds(text: string): number[] {
  const range = /^(\d+)-(\d+)$/.exec(text);
  if (range) {
    return Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i);
  }
  return text.split(",").map(Number);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seeds: { type: "string" },
      only: { type: "string" },
      json: { type: "boolean" },
      "from-json": { type: "string" },
      "write-json": { type: "string" },
      "write-readme": { type: "string" },
      "attach-wait": { type: "string" },
    },
  });
  const say = (text: string) => Deno.stderr.writeSync(new TextEncoder().encode(text));
  let result: ScoreboardResult;
  if (values["from-json"] !== undefined) {
    result = JSON.parse(await Deno.readTextFile(values["from-json"]));
  } else {
    const only = values.only?.split(",");
    const scenarios = SCENARIOS.filter((s) => only === undefined || only.includes(s.id));
    const started = performance.now();
    const attachWait = values["attach-wait"] === "link" ? "link" : "imds";
    result = await scoreboard(scenarios, parseSeeds(values.seeds ?? "1-5"), {
      onRun: (what) => say(`${what}\n`),
      ours: { attachWait },
    });
    say(`wall time ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  const json = JSON.stringify(result, null, 2) + "\n";
  if (values["write-json"] !== undefined) await Deno.writeTextFile(values["write-json"], json);
  if (values["write-readme"] !== undefined) {
    await writeBlock(values["write-readme"], "replay-scoreboard", renderScoreboard(result));
  }
  Deno.stdout.writeSync(new TextEncoder().encode(values.json === true ? json : renderScoreboard(result)));
}
