/**
 * Crashes and state: ipamd (`dist/aws-cni --daemon` on a test node, against the
 * simulated cloud of a c5.4xlarge) is SIGKILLed at a random point of every
 * round of concurrent plugin ADD/DEL execs, and restarted over the same
 * checkpoint and cloud while the storm goes on. After each round the runtime retries DEL for
 * every uncertain sandbox and runs CNI GC; then no address may be held twice,
 * every acknowledged pod must keep its address, route and rules, and nothing
 * else may hold an address or leave plumbing behind.
 */
import assert from "node:assert/strict";
import { auditNode, type Findings } from "./_audit.ts";
import { prng, progress, SIZES } from "./_config.ts";
import { nodesReady, startNode } from "../../testing/node.ts";
import { recordResult } from "./_results.ts";
import { Runtime, type Slot } from "./_runtime.ts";

const ready = await nodesReady();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `ops` plugin operations with `concurrency` workers; `onStart(n)` is told each operation's number. */
async function storm(
  runtime: Runtime,
  options: { ops: number; concurrency: number; rand: () => number; onStart: (n: number) => void },
): Promise<{ failed: number; codes: Map<number, number> }> {
  let started = 0;
  let failed = 0;
  const codes = new Map<number, number>();
  // ADDs outnumber DELs 3:2, so about half the pods run at any time and must outlive every kill.
  const pick = (): Slot | undefined => {
    const free = runtime.slots.filter((slot) => !slot.busy);
    const absent = free.filter((slot) => slot.state === "absent");
    const present = free.filter((slot) => slot.state !== "absent");
    const pool = (options.rand() < 0.6 && absent.length > 0) || present.length === 0 ? absent : present;
    return pool[Math.floor(options.rand() * pool.length)];
  };
  const worker = async () => {
    while (started < options.ops) {
      const slot = pick();
      if (slot === undefined) {
        await sleep(5);
        continue;
      }
      slot.busy = true;
      options.onStart(++started);
      try {
        const outcome = slot.state === "absent" ? await runtime.add(slot) : await runtime.del(slot);
        if (!outcome.ok) {
          failed++;
          codes.set(outcome.code ?? -1, (codes.get(outcome.code ?? -1) ?? 0) + 1);
        }
      } finally {
        slot.busy = false;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { failed, codes };
}

function describe(findings: Findings): string[] {
  return [...findings.duplicates, ...findings.lost, ...findings.leaks];
}

Deno.test({
  name:
    `ipamd SIGKILLed in each of ${SIZES.rounds} rounds of ${SIZES.opsPerRound} plugin ADD/DELs loses and leaks nothing`,
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const rand = prng(SIZES.seed);
    await using node = await startNode({
      label: "storm",
      cloud: { instanceType: "c5.4xlarge" },
      // Short cooldowns make addresses come back during the run, so a double hand-out would show.
      env: { IP_COOLDOWN_PERIOD: "3", WARM_IP_TARGET: "8", MINIMUM_IP_TARGET: "16" },
    });
    const runtime = await Runtime.create(node, SIZES.concurrency * 2, "storm");
    const totals = { operations: 0, failed: 0, retries: 0, duplicates: 0, leaks: 0, lost: 0 };
    const problems: string[] = [];
    const codes = new Map<number, number>();
    for (let round = 0; round < SIZES.rounds; round++) {
      const killAt = Math.max(1, Math.floor(SIZES.opsPerRound * (0.15 + 0.7 * rand())));
      const restartDelayMs = Math.floor(rand() * 500);
      const t0 = performance.now();
      let restarted: Promise<void> | undefined;
      const result = await storm(runtime, {
        ops: SIZES.opsPerRound,
        concurrency: SIZES.concurrency,
        rand,
        onStart: (n) => {
          if (n !== killAt) return;
          restarted = (async () => {
            const exit = await node.daemon.kill9();
            assert.equal(exit?.signal, "SIGKILL");
            await sleep(restartDelayMs);
            await node.daemon.start();
          })();
        },
      });
      await restarted;
      for (const [code, n] of result.codes) codes.set(code, (codes.get(code) ?? 0) + n);
      totals.operations += SIZES.opsPerRound;
      totals.failed += result.failed;
      const tRetry = performance.now();
      totals.retries += await runtime.retryUncertain();
      progress(`retries ${((performance.now() - tRetry) / 1000).toFixed(1)} s`);
      const gc = await runtime.gc();
      if (!gc.ok) problems.push(`round ${round}: GC failed: ${gc.result.stdout}`);
      const t1 = performance.now();
      const findings = await auditNode(node, runtime.live(), runtime.slots.map((s) => s.netns));
      progress(
        `storm round ${round}: ops ${((t1 - t0) / 1000).toFixed(1)} s (${result.failed} failed), audit ${
          ((performance.now() - t1) / 1000).toFixed(1)
        } s, ${runtime.live().length} running`,
      );
      totals.duplicates += findings.duplicates.length;
      totals.leaks += findings.leaks.length;
      totals.lost += findings.lost.length;
      problems.push(...describe(findings).map((f) => `round ${round} (kill at op ${killAt}): ${f}`));
    }
    // The end: every pod deleted, then nothing may be left anywhere.
    for (const slot of runtime.slots) if (slot.state !== "absent") await runtime.del(slot);
    totals.retries += await runtime.retryUncertain();
    const end = await auditNode(node, [], runtime.slots.map((s) => s.netns));
    totals.duplicates += end.duplicates.length;
    totals.leaks += end.leaks.length;
    totals.lost += end.lost.length;
    problems.push(...describe(end).map((f) => `after deleting every pod: ${f}`));
    problems.push(...runtime.malformed.map((m) => `malformed plugin output: ${m}`));
    const stopped = await node.daemon.stop();
    await recordResult({
      area: "ipamd kill -9 mid-storm (plugin execs, host network)",
      rounds: SIZES.rounds,
      operations: totals.operations + totals.retries,
      faults: SIZES.rounds,
      duplicates: totals.duplicates,
      leaks: totals.leaks,
      lost: totals.lost,
      notes: `${SIZES.rounds} SIGKILLs; ${totals.failed} ops failed (codes ${
        [...codes].map(([c, n]) => `${c}×${n}`).join(", ")
      }), ${totals.retries} DEL retries`,
    });
    assert.deepEqual(problems, []);
    assert.equal(stopped.code, 0, `ipamd stops cleanly on SIGTERM: ${stopped.stderr}`);
  },
});
