/**
 * The README's replay scoreboard is the rendering of tests/bench/replay_scoreboard.json
 * (written by `deno run -A tests/bench/replay_scoreboard.ts --write-json … --write-readme …`),
 * and the scoreboard still runs end to end (a small smoke: one seed, small scenarios).
 */
import { deepStrictEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { blockIn, normalizeTable } from "../tools/readme_blocks.ts";
import { outcomes, renderScoreboard, type ScoreboardResult } from "./bench/_scoreboard_render.ts";
import { METRICS, SCENARIOS, type ScoreScenario, TARGETS } from "./bench/_scoreboard_scenarios.ts";
import { scoreboard } from "./bench/replay_scoreboard.ts";
import { scenario } from "../sim/replay/scenarios.ts";

/** Tables cell by cell, prose word by word: what `deno fmt` may change is left out. */
function normalize(text: string): string {
  const out: string[] = [];
  let prose: string[] = [];
  const flush = () => {
    if (prose.length > 0) out.push(prose.join(" ").split(/\s+/).join(" "));
    prose = [];
  };
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (line.startsWith("|")) {
      flush();
      out.push(normalizeTable(line));
    } else if (line === "") flush();
    else prose.push(line);
  }
  flush();
  return out.join("\n");
}

Deno.test("the README's replay scoreboard is the rendering of the committed results", async () => {
  const root = new URL("..", import.meta.url);
  const block = blockIn(await Deno.readTextFile(new URL("README.md", root)), "replay-scoreboard");
  notEqual(block, null, "README.md has the replay-scoreboard markers");
  const result: ScoreboardResult = JSON.parse(
    await Deno.readTextFile(new URL("tests/bench/replay_scoreboard.json", root)),
  );
  deepStrictEqual(result.scenarios.map((s) => s.id), SCENARIOS.map((s) => s.id), "every scenario was run");
  deepStrictEqual(result.seeds, [1, 2, 3, 4, 5]);
  equal(
    normalize(block!),
    normalize(renderScoreboard(result)),
    "run: deno run -A tests/bench/replay_scoreboard.ts --write-json tests/bench/replay_scoreboard.json --write-readme README.md",
  );
});

Deno.test("the replay scoreboard runs its kinds of scenario and judges every target", async () => {
  const small: ScoreScenario[] = [
    { ...SCENARIOS.find((s) => s.id === "burst")!, workload: (seed) => scenario("burst", { seed, pods: 8 }) },
    {
      ...SCENARIOS.find((s) => s.id === "churn-ip")!,
      workload: (seed) => scenario("churn", { seed, pods: 6, durationS: 300 }),
    },
    {
      ...SCENARIOS.find((s) => s.id === "launch-eni")!,
      workload: (seed) => scenario("launch", { seed, nodes: 4, pods: 16 }),
    },
  ];
  const result = await scoreboard(small, [1]);
  for (const s of result.scenarios) {
    const run = s.runs[0]!;
    ok(run.ours.ec2Calls > 0 && run.reference.ec2Calls > 0, s.id);
    equal(run.ours.failedAddsWithCapacity, 0, `${s.id}: no ADD fails while the node has room`);
  }
  const judged = outcomes(result);
  equal(judged.length, small.reduce((n, s) => n + TARGETS[s.kind].length, 0));
  const text = renderScoreboard(result);
  const rows = text.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| scenario"));
  equal(rows.length, small.reduce((n, s) => n + METRICS[s.kind].length, 0));
  match(text, /burst: 30 pods on a cold node/);
});
