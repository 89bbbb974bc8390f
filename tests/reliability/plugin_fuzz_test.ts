/**
 * Hostile input to the plugin: `RELIABILITY_FUZZ_CASES` generated invocations
 * (10,000 by default) in-process through `runPlugin` with recorded IO and fake
 * ports, and `RELIABILITY_BINARY_FUZZ_CASES` (300) through `dist/aws-cni` in a
 * node namespace next to a real ipamd. Every one must answer one spec error
 * document with the expected code and a non-zero exit, print no trace, run no
 * `ip` command, and leave no link, address, route, rule or allocation behind.
 */
import assert from "node:assert/strict";
import { createFakes, POD_NETNS } from "../../testing/plugin_deps.ts";
import { runPlugin } from "../../cni/mod.ts";
import { recordedIo } from "../../testing/recorded_io.ts";
import { hostPlumbing } from "./_audit.ts";
import { SIZES } from "./_config.ts";
import { errorDocumentProblem, hostileCases } from "../../testing/plugin_fuzz_cases.ts";
import { nodesReady, RUNTIME_DIR, startNode } from "../../testing/node.ts";
import { recordResult } from "./_results.ts";

const ready = await nodesReady();

Deno.test(`runPlugin() answers ${SIZES.fuzzCases} hostile invocations with one spec error each and touches nothing`, async () => {
  const fakes = createFakes();
  const cases = hostileCases(SIZES.fuzzCases, SIZES.seed, {
    netns: POD_NETNS,
    socket: "/run/aws-node/ipamd.sock",
    logFile: "stderr",
  });
  const problems: string[] = [];
  const codes = new Map<number, number>();
  for (const fuzz of cases) {
    const io = recordedIo({ env: fuzz.env });
    const stdin = fuzz.stdin;
    const status = await runPlugin({ ...io, readStdin: () => Promise.resolve(stdin) }, fakes.deps);
    const out = io.out.join("");
    const problem = errorDocumentProblem(out, status, fuzz);
    if (problem !== null) problems.push(problem);
    else {
      const code = JSON.parse(out).code as number;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
  }
  const touched = fakes.ip.execs + fakes.ipamd.held.size + fakes.ipamd.releases.length +
    fakes.queue.lines.length;
  await recordResult({
    area: "Plugin fuzz, in-process (runPlugin)",
    operations: cases.length,
    fuzzCases: cases.length,
    leaks: touched + (fakes.ip.host.isEmpty() ? 0 : 1),
    notes: `codes ${
      [...codes].sort(([a], [b]) => a - b).map(([c, n]) => `${c}×${n}`).join(", ")
    }; ${problems.length} bad answers`,
  });
  assert.deepEqual(problems.slice(0, 20), [], `${problems.length} bad answers`);
  assert.deepEqual([...codes.keys()].sort((a, b) => a - b), [1, 4, 6, 7], "every input-error code is met");
  assert.equal(touched, 0, "no ip command, allocation or queued release");
  assert.ok(fakes.ip.host.isEmpty());
});

Deno.test({
  name:
    `dist/aws-cni answers ${SIZES.binaryFuzzCases} hostile invocations in a node netns and leaves nothing`,
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using node = await startNode({ label: "fuzz" });
    await node.settled();
    const pod = await node.pod("fuzzpod");
    // A symlink to a namespace could lead past Deno's /proc guard to the host's own; it is refused.
    // (In a directory the plugin may read, so that it is the symlink, not the permission set, that refuses it.)
    const link = `${RUNTIME_DIR}/netns-link`;
    await Deno.symlink(pod.path, node.outside(link));
    const snapshot = async () =>
      JSON.stringify([
        await node.netns.ipJson("link", "show"),
        await node.netns.ipJson("rule", "show"),
        await node.netns.ipJson("route", "show", "table", "all"),
        await pod.ipJson("addr", "show"),
      ]);
    const before = await snapshot();
    const poolBefore = (await node.pool()).pool;
    const target = { netns: pod.path, socket: node.paths.socket, logFile: node.paths.pluginLog };
    // /proc/1/ns/net would be the root namespace if a case ever got through: keep it in-process only.
    // No process can get a NUL byte in its environment; those cases run in-process only.
    const cases = hostileCases(SIZES.binaryFuzzCases * 2, SIZES.seed + 7, target)
      .filter((c) => !c.label.includes("/proc/1/") && !Object.values(c.env).some((v) => v.includes("\0")))
      .slice(0, SIZES.binaryFuzzCases - 1);
    const symlinkEnv = {
      CNI_COMMAND: "ADD",
      CNI_CONTAINERID: "symlinked",
      CNI_NETNS: link,
      CNI_IFNAME: "eth0",
      CNI_PATH: "/opt/cni/bin",
    };
    cases.push({
      label: "CNI_NETNS is a symlink to a namespace",
      env: symlinkEnv,
      stdin: new TextEncoder().encode(JSON.stringify(node.netconf())),
      code: 4,
    });
    const problems: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < cases.length; i = next++) {
        const fuzz = cases[i]!;
        const result = await node.plugin(fuzz.env, new TextDecoder().decode(fuzz.stdin));
        const problem = errorDocumentProblem(result.stdout, result.code, fuzz);
        if (problem !== null) problems.push(`${problem} | stderr: ${result.stderr.slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    const after = await snapshot();
    const plumbing = await hostPlumbing(node.netns);
    const poolAfter = (await node.pool()).pool;
    await recordResult({
      area: "Plugin fuzz, dist/aws-cni in a node netns",
      operations: cases.length,
      fuzzCases: cases.length,
      leaks: (after === before ? 0 : 1) + plumbing.veths.size,
      notes: `${problems.length} bad answers; namespaces and ipamd's pool unchanged: ${after === before}`,
    });
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} bad answers`);
    assert.equal(after, before, "no link, address, route or rule changed");
    assert.deepEqual(poolAfter, poolBefore, "ipamd's pool unchanged");
  },
});
