/**
 * The replay scoreboard's results as data (what `--json` prints and the committed
 * JSON holds) and as the README's Markdown table, judged against the targets of
 * `_scoreboard_scenarios.ts`: median and worst over the seeds, and in how many
 * seeds each target was met. Misses are listed in words under the table.
 *
 * @module
 */
import { metricName, METRICS, type RunMetrics, type ScenarioKind, TARGETS } from "./_scoreboard_scenarios.ts";

/** One scenario's runs. */
export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly kind: ScenarioKind;
  readonly instanceType: string;
  readonly runs: readonly {
    readonly seed: number;
    readonly ours: RunMetrics;
    readonly reference: RunMetrics;
  }[];
}

/** What a scoreboard run measured. */
export interface ScoreboardResult {
  readonly seeds: readonly number[];
  readonly scenarios: readonly ScenarioResult[];
}

/** A target's outcome over the seeds. */
export interface TargetOutcome {
  readonly scenario: string;
  readonly metric: keyof RunMetrics;
  readonly text: string;
  /** Seeds judged (the others were reported only). */
  readonly judged: number;
  readonly metIn: number;
  readonly missedSeeds: readonly number[];
  /** Why some seeds were only reported. */
  readonly reported: readonly string[];
  /** The largest ours ÷ reference over the judged seeds, or null when a value is missing. */
  readonly worstRatio: number | null;
}

/** Judges every target of every scenario. */
export function outcomes(result: ScoreboardResult): TargetOutcome[] {
  return result.scenarios.flatMap((scenario) =>
    TARGETS[scenario.kind].map((target) => {
      const missedSeeds: number[] = [];
      const reported: string[] = [];
      const ratios: (number | null)[] = [];
      let judged = 0;
      for (const run of scenario.runs) {
        const verdict = target.judge(run.ours, run.reference);
        if (typeof verdict === "object") {
          reported.push(`seed ${run.seed}: ${verdict.reported}`);
          continue;
        }
        judged++;
        if (!verdict) missedSeeds.push(run.seed);
        const [ours, reference] = [run.ours[target.metric], run.reference[target.metric]];
        ratios.push(ours === null || reference === null || reference === 0 ? null : ours / reference);
      }
      const worstRatio = ratios.length === 0 || ratios.includes(null)
        ? null
        : Math.max(...(ratios as number[]));
      return {
        scenario: scenario.id,
        metric: target.metric,
        text: target.text,
        judged,
        metIn: judged - missedSeeds.length,
        missedSeeds,
        reported,
        worstRatio,
      };
    })
  );
}

/** The README's table and the list of misses. */
export function renderScoreboard(result: ScoreboardResult): string {
  const judged = outcomes(result);
  const lines = [
    `Seeds ${result.seeds.join(", ")}; each cell is the median over the seeds, the worst in brackets.`,
    "",
    "| scenario | metric | aws-cni | reference | target | result |",
    "|---|---|---:|---:|---|---|",
  ];
  for (const scenario of result.scenarios) {
    METRICS[scenario.kind].forEach((metric, i) => {
      const target = judged.find((o) => o.scenario === scenario.id && o.metric === metric);
      const cells = [
        i === 0 ? scenario.title : "",
        metricName(scenario.kind, metric),
        spread(scenario.runs.map((run) => run.ours[metric]), metric),
        spread(scenario.runs.map((run) => run.reference[metric]), metric),
        target?.text ?? "(reported)",
        target === undefined ? "–" : verdict(target, scenario.runs.length),
      ];
      lines.push(`| ${cells.join(" | ")} |`);
    });
  }
  const missed = judged.filter((o) => o.missedSeeds.length > 0);
  lines.push("");
  if (missed.length === 0) {
    lines.push(`Every target met in every seed it applies to (${judged.length} targets).`);
  } else {
    lines.push(`Targets missed: ${missed.length} of ${judged.length}.`, "");
    for (const miss of missed) {
      const scenario = result.scenarios.find((s) => s.id === miss.scenario)!;
      const seeds = miss.missedSeeds.map((seed) => {
        const run = scenario.runs.find((r) => r.seed === seed)!;
        return `seed ${seed}: ${format(run.ours[miss.metric], miss.metric)} against ${
          format(run.reference[miss.metric], miss.metric)
        }`;
      });
      lines.push(
        `- ${scenario.title}, ${metricName(scenario.kind, miss.metric)} (target ${miss.text}): ` +
          `missed in ${miss.missedSeeds.length} of ${miss.judged} seeds (${seeds.join("; ")}).`,
      );
    }
  }
  const sideBySide = judged.filter((o) => o.reported.length > 0);
  for (const o of sideBySide) {
    const scenario = result.scenarios.find((s) => s.id === o.scenario)!;
    lines.push(
      "",
      `${scenario.title}: ${metricName(scenario.kind, o.metric)} is reported side by side in ` +
        `${o.reported.length} of ${scenario.runs.length} seeds, where the reference failed ADDs ` +
        `(${
          o.reported.map((r) => r.replace(/^seed (\d+): the reference failed (\d+) ADDs$/, "$2 in seed $1"))
            .join(", ")
        }).`,
    );
  }
  return lines.join("\n") + "\n";
}

function verdict(target: TargetOutcome, seeds: number): string {
  if (target.judged === 0) return "– reported";
  const reported = target.judged < seeds ? `, ${seeds - target.judged} reported` : "";
  const ratio = target.worstRatio === null || target.metric === "failedAddsWithCapacity"
    ? ""
    : `, worst ${target.worstRatio.toFixed(2)}×`;
  return target.missedSeeds.length === 0
    ? `✅ met in ${target.metIn}/${target.judged}${ratio}${reported}`
    : `❌ MISSED in ${target.missedSeeds.length}/${target.judged}${ratio}${reported}`;
}

/** Median and worst (the largest) of one metric over the seeds. */
function spread(values: readonly (number | null)[], metric: keyof RunMetrics): string {
  const worst = values.some((v) => v === null) ? null : Math.max(...(values as number[]));
  const sorted = [...values].sort((a, b) => (a ?? Infinity) - (b ?? Infinity));
  const median = sorted[Math.floor((sorted.length - 1) / 2)] ?? null;
  return values.length === 1
    ? format(median, metric)
    : `${format(median, metric)} (${format(worst, metric)})`;
}

function format(value: number | null, metric: keyof RunMetrics): string {
  if (value === null) return "never";
  if (metric === "allServedMs" || metric === "waitP99Ms") return `${(value / 1000).toFixed(1)} s`;
  return Math.round(value).toLocaleString("en-US");
}
