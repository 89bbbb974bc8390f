/**
 * The daemon has one code path: `deno info` of ipamd/mod.ts (what
 * `aws-cni --daemon` loads) holds no simulation (sim/) and no test code
 * (testing/), and its own TypeScript stays within a line budget. The
 * simulated cloud is a process of its own (sim/cloud); `plan` and `replay`
 * load the simulation through their own modules.
 *
 * @module
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url);

/**
 * Lines of the daemon's own .ts modules at most. Measured at 11,872 once the
 * simulation left the daemon, 11,996 with the IAM check and max pods, 12,637 with
 * the warm pool's economy (demand-first growth, the adaptive pace, kept ENIs),
 * 12,862 with custom networking, subnet discovery and subnet-aware targets, and
 * 12,892 with the memory gauges. The aim is 11,000: missed; the budget stops
 * further growth without a look.
 */
const LINE_BUDGET = 12_900;

interface InfoModule {
  readonly specifier: string;
}

/** The project's own modules in the graph of `entry`, as paths from the root. */
async function localModules(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--quiet", new URL(entry, ROOT).pathname],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
  return info.modules.map((m) => m.specifier).filter((s) => s.startsWith(ROOT.href))
    .map((s) => s.slice(ROOT.href.length)).sort();
}

async function lines(path: string): Promise<number> {
  const text = await Deno.readTextFile(new URL(path, ROOT));
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

Deno.test("aws-cni --daemon loads no simulation and no test code, and its TypeScript stays within budget", async () => {
  const modules = await localModules("ipamd/mod.ts");
  assert.ok(modules.includes("ipamd/daemon.ts"), "the graph is the daemon's");
  assert.deepEqual(modules.filter((path) => /^(sim|testing|tests|tools)\//.test(path)), []);
  const ts = modules.filter((path) => path.endsWith(".ts"));
  let total = 0;
  for (const path of ts) total += await lines(path);
  // deno-lint-ignore no-console
  console.log(`    the daemon's graph: ${ts.length} .ts modules, ${total.toLocaleString("en-US")} lines`);
  assert.ok(total <= LINE_BUDGET, `${total} lines of .ts in the daemon's graph, budget ${LINE_BUDGET}`);
});

Deno.test("plan and replay still run the simulation in process", async () => {
  for (const entry of ["cli/plan.ts", "cli/replay.ts"]) {
    const modules = await localModules(entry);
    assert.ok(modules.some((path) => path.startsWith("sim/")), `${entry} loads sim/`);
    assert.deepEqual(modules.filter((path) => path.startsWith("sim/cloud/")), [], `${entry} runs no cloud`);
  }
});
