/**
 * The plugin killed with SIGKILL at random points of its ADD: the runtime's
 * DEL (without a prevResult, since the ADD never answered) must clean up fully.
 * ipamd down during DEL: the release is queued, the pod unwired at once, and
 * the release applied when ipamd starts again.
 */
import assert from "node:assert/strict";
import { auditNode, hostPlumbing, savedAllocations } from "./_audit.ts";
import { prng, SIZES } from "./_config.ts";
import { nodesReady, podEnv, startNode } from "../../testing/node.ts";
import { recordResult } from "./_results.ts";
import { Runtime, type Slot } from "./_runtime.ts";
import { hostVethKey, hostVethName } from "../../cni/pod_net.ts";

const ready = await nodesReady();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When a kill lands: at a random time, once ipamd has assigned, or once the host veth exists. */
type KillPoint = "random" | "assigned" | "veth";
const KILL_POINTS: readonly KillPoint[] = ["random", "assigned", "veth"];

/** Resolves once `probe` holds (checked every 5 ms), or after `timeoutMs`. */
async function until(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && !await probe().catch(() => false)) await sleep(5);
}

/** Spawns ADD for `slot` and SIGKILLs it at `point`; the slot is left uncertain. */
async function killedAdd(
  runtime: Runtime,
  slot: Slot,
  options: { point: KillPoint; randomMs: number },
): Promise<"killed" | "finished"> {
  slot.generation++;
  slot.state = "uncertain";
  const containerId = runtime.containerId(slot);
  const node = runtime.node;
  const child = node.spawnPlugin(podEnv("ADD", slot.netns.path, containerId), JSON.stringify(node.netconf()));
  const exited = child.status.then(() => true);
  const done = () => Promise.race([exited, sleep(0).then(() => false)]);
  if (options.point === "random") await sleep(options.randomMs);
  else if (options.point === "assigned") {
    await until(
      async () => await done() || (await node.readFile(node.paths.checkpoint) ?? "").includes(containerId),
      15_000,
    );
  } else {
    const veth = await hostVethName("eni", hostVethKey("default", containerId, containerId));
    await until(
      async () => await done() || (await node.netns.ipJson("link", "show", "dev", veth)).length > 0,
      15_000,
    );
  }
  try {
    child.kill("SIGKILL");
  } catch {
    // it finished first
  }
  const status = await child.output();
  return status.signal === "SIGKILL" ? "killed" : "finished";
}

Deno.test({
  name: `${SIZES.pluginKills} plugins SIGKILLed mid-ADD: the runtime's DEL leaves nothing behind`,
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const rand = prng(SIZES.seed + 1);
    await using node = await startNode({
      label: "pkill",
      cloud: { instanceType: "c5.4xlarge" },
      env: { IP_COOLDOWN_PERIOD: "1" },
    });
    const runtime = await Runtime.create(node, 4, "kill");
    // How long an ADD takes here, so kills spread over the whole of it.
    const timed = runtime.slots[0]!;
    const t0 = performance.now();
    assert.ok((await runtime.add(timed)).ok);
    const addMs = performance.now() - t0;
    assert.ok((await runtime.del(timed)).ok);
    let killed = 0;
    let assigned = 0;
    let wired = 0;
    let operations = 2;
    for (let done = 0; done < SIZES.pluginKills; done += runtime.slots.length) {
      const batch = runtime.slots.slice(0, Math.min(runtime.slots.length, SIZES.pluginKills - done));
      const outcomes = await Promise.all(batch.map((slot, i) =>
        killedAdd(runtime, slot, {
          point: KILL_POINTS[(done + i) % KILL_POINTS.length]!,
          randomMs: rand() * addMs,
        })
      ));
      killed += outcomes.filter((o) => o === "killed").length;
      const saved = new Set((await savedAllocations(node)).map((a) => a.containerId));
      const host = await hostPlumbing(node.netns);
      assigned += batch.filter((slot) => saved.has(runtime.containerId(slot))).length;
      wired += host.veths.size;
      operations += batch.length;
      operations += await runtime.retryUncertain();
    }
    const findings = await auditNode(node, [], runtime.slots.map((s) => s.netns));
    await recordResult({
      area: "Plugin SIGKILLed mid-ADD, then runtime DEL",
      operations,
      faults: killed,
      duplicates: findings.duplicates.length,
      leaks: findings.leaks.length,
      lost: findings.lost.length,
      notes:
        `${killed} kills (random, once assigned, once the veth exists): ${assigned} after ipamd assigned, ${wired} with a veth up`,
    });
    assert.deepEqual([...findings.duplicates, ...findings.lost, ...findings.leaks], []);
    assert.ok(
      killed > 0 && assigned > 0 && wired > 0,
      `kills landed in every phase: ${killed}/${assigned}/${wired}`,
    );
    assert.deepEqual(runtime.malformed, []);
  },
});

Deno.test({
  name: "ipamd down during DEL: the pod is unwired at once, the release queued and applied at the next start",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using node = await startNode({
      label: "qdel",
      cloud: { instanceType: "c5.4xlarge" },
      env: { IP_COOLDOWN_PERIOD: "1" },
    });
    const runtime = await Runtime.create(node, 8, "qdel");
    const [killedMidAdd, ...pods] = runtime.slots;
    for (const slot of pods) assert.ok((await runtime.add(slot)).ok);
    // One sandbox whose ADD never answered: DEL comes without a prevResult.
    const midAdd = await killedAdd(runtime, killedMidAdd!, { point: "veth", randomMs: 0 });
    await node.daemon.kill9();
    const before = await savedAllocations(node);
    for (const slot of runtime.slots) {
      assert.ok((await runtime.del(slot)).ok, `DEL of slot ${slot.index} succeeds`);
    }
    const queue = (await node.readFile(node.paths.queue) ?? "").trim().split("\n");
    assert.equal(queue.length, runtime.slots.length, "every DEL queued its release");
    const unwired = await auditNode(node, [], runtime.slots.map((s) => s.netns));
    // ipamd is down: only its checkpoint may still hold the addresses, until it starts.
    const hostLeft = unwired.leaks.filter((leak) => !leak.startsWith("checkpoint:"));
    await node.daemon.start();
    const findings = await auditNode(node, [], runtime.slots.map((s) => s.netns));
    await recordResult({
      area: "ipamd down during DEL (release queue)",
      operations: runtime.slots.length * 2,
      faults: 2,
      duplicates: findings.duplicates.length,
      leaks: findings.leaks.length + hostLeft.length,
      lost: findings.lost.length,
      notes: `${queue.length} releases queued (one of an ADD ${
        midAdd === "killed" ? "SIGKILLed once its veth was up" : "that finished"
      }, without prevResult), applied at restart`,
    });
    assert.deepEqual(hostLeft, [], "the host is clean while ipamd is down");
    assert.ok(before.length >= pods.length);
    assert.deepEqual([...findings.duplicates, ...findings.lost, ...findings.leaks], []);
  },
});

Deno.test({
  name: "CNI GC releases the address, route and rules of a sandbox the runtime forgot",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using node = await startNode({ label: "gc" });
    const runtime = await Runtime.create(node, 3, "gc");
    for (const slot of runtime.slots) assert.ok((await runtime.add(slot)).ok);
    // The runtime loses one sandbox: its namespace goes, and no DEL ever comes.
    const forgotten = runtime.slots[1]!;
    await forgotten.netns[Symbol.asyncDispose]();
    forgotten.state = "absent";
    forgotten.pod = undefined;
    const gc = await runtime.gc();
    assert.ok(gc.ok, gc.result.stdout);
    const live = runtime.live();
    const findings = await auditNode(
      node,
      live,
      runtime.slots.filter((s) => s !== forgotten).map((s) => s.netns),
    );
    await recordResult({
      area: "CNI GC of a forgotten sandbox",
      operations: runtime.slots.length + 1,
      faults: 1,
      duplicates: findings.duplicates.length,
      leaks: findings.leaks.length,
      lost: findings.lost.length,
      notes: "valid-attachments without one running sandbox: its address, route and rules go",
    });
    assert.deepEqual([...findings.duplicates, ...findings.lost, ...findings.leaks], []);
    assert.equal(live.length, 2);
  },
});
