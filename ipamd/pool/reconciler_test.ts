import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { instanceLimits, lookupInstanceType } from "../limits/limits.ts";
import { SimulatedNode } from "../../sim/node/simulated_node.ts";
import { type PassOutcome, Reconciler } from "./reconciler.ts";
import { DEFAULT_POOL_SETTINGS, type PoolSettings } from "./types.ts";

async function node(
  settings: Partial<PoolSettings> = {},
  instanceType = "t3.small",
  onPass?: (outcome: PassOutcome) => void,
): Promise<SimulatedNode> {
  const limits = instanceLimits(lookupInstanceType(instanceType), { prefixDelegation: false });
  const full = { ...DEFAULT_POOL_SETTINGS, ...settings };
  return await SimulatedNode.start({ instanceType, limits, settings: full, ...(onPass ? { onPass } : {}) });
}

Deno.test("Reconciler.pass() covers the whole shortfall in one pass", async () => {
  const n = await node({ warmIpTarget: 2, minimumIpTarget: 5 });
  const outcome = await n.reconciler.pass();
  deepStrictEqual(outcome.applied.map((a) => a.kind), ["assign", "create-eni"]);
  equal(outcome.plan.actions.length, 0);
  deepStrictEqual((await n.view()).ipsPerEni, [3, 2]);
});

Deno.test("Reconciler.pass() holds growth after throttling and says why", async () => {
  const n = await node();
  n.sim.knobs.failNext("AssignPrivateIpAddresses", { code: "RequestLimitExceeded", httpStatus: 503 });
  const outcome = await n.reconciler.pass();
  equal(outcome.failed.length, 1);
  equal(outcome.hold?.reason, "throttled");
  equal((await n.reconciler.pass()).applied.length, 0, "no growth while held");
  n.clock.advance(1_000);
  equal((await n.reconciler.pass()).applied.length, 1, "growth resumes after the hold");
});

Deno.test("Reconciler.block keeps naming the last failure after its pause ran out, until the pool is not short", async () => {
  const n = await node();
  n.sim.knobs.failNext("AssignPrivateIpAddresses", { code: "RequestLimitExceeded", httpStatus: 503 });
  await n.reconciler.pass();
  equal(n.reconciler.block.reason, "throttled");
  n.clock.advance(1_000);
  equal(n.reconciler.hold, null, "the pause ran out");
  const block = n.reconciler.block;
  equal(block.reason, "throttled", "a waiting ADD still hears why the pool has not grown");
  equal(block.retryAfterMs, null);
  ok(block.detail?.includes("RequestLimitExceeded"), String(block.detail));
  await n.reconciler.pass();
  equal(n.reconciler.block.reason, "still-warming", "once the pool grew, the old reason is gone");
});

Deno.test("Reconciler.pass() waits 120 s after a full subnet", async () => {
  const n = await node();
  n.sim.knobs.failNext("AssignPrivateIpAddresses", {
    code: "InsufficientFreeAddressesInSubnet",
    httpStatus: 400,
  });
  const outcome = await n.reconciler.pass();
  equal(outcome.hold?.reason, "subnet-full");
  equal(outcome.hold?.untilMs, n.clock.now() + 120_000);
  n.clock.advance(119_000);
  equal((await n.reconciler.pass()).applied.length, 0);
  n.clock.advance(1_000);
  equal((await n.reconciler.pass()).applied.length, 1);
});

Deno.test("Reconciler.pass() keeps addresses whose release EC2 refused, and gives them back later", async () => {
  const outcomes: PassOutcome[] = [];
  const n = await node({ warmIpTarget: 1 }, "t3.small", (o) => outcomes.push(o));
  await n.addPod();
  await n.addPod();
  n.sim.knobs.failNext("UnassignPrivateIpAddresses", { code: "InternalError", httpStatus: 500 });
  await n.removePod();
  await n.removePod();
  const refused = outcomes.find((o) => o.failed[0]?.action.kind === "release");
  ok(refused !== undefined, "a release was refused");
  equal(refused.plan.stats.total, 3, "the refused addresses stayed in the pool");
  equal(n.datastore.stats(n.clock.now()).total, 1, "and were given back on a later pass");
});

Deno.test("Reconciler.pass() keeps an ENI whose detach failed, and frees it later", async () => {
  const outcomes: PassOutcome[] = [];
  const n = await node({ warmEniTarget: 1 }, "t3.small", (o) => outcomes.push(o));
  await n.scaleTo(4);
  equal(n.datastore.enis().length, 3);
  n.sim.knobs.failNext("DetachNetworkInterface", { code: "InternalError", httpStatus: 500 });
  await n.scaleTo(0);
  const refused = outcomes.find((o) => o.failed[0]?.action.kind === "free-eni");
  ok(refused !== undefined, "a free was refused");
  equal(refused.plan.stats.enis, 3, "the ENI stayed in the datastore");
  equal(n.datastore.enis().length, 1, "and was freed on a later pass");
});

Deno.test("Reconciler.wake() folds a stream of wake-ups into few passes", async () => {
  const n = await node();
  let passes = 0;
  const abort = new AbortController();
  const counting = new Reconciler({
    datastore: n.datastore,
    ec2: n.port,
    limits: instanceLimits(lookupInstanceType("t3.small"), { prefixDelegation: false }),
    settings: DEFAULT_POOL_SETTINGS,
    clock: n.clock,
    settleMs: 30,
    onPass: () => passes++,
  });
  const loop = counting.run(abort.signal, 60_000);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const first = passes;
  for (let i = 0; i < 100; i++) counting.wake();
  await new Promise((resolve) => setTimeout(resolve, 100));
  ok(passes - first <= 2, `${passes - first} passes for 100 wake-ups`);
  counting.wake(true);
  await new Promise((resolve) => setTimeout(resolve, 10));
  ok(passes - first >= 2, "an urgent wake-up runs a pass at once");
  abort.abort();
  await loop;
});

Deno.test("Reconciler.run() does not lose a wake-up that arrives during a pass", async () => {
  const n = await node();
  let passes = 0;
  const abort = new AbortController();
  const ref: { reconciler?: Reconciler } = {};
  const reconciler = ref.reconciler = new Reconciler({
    datastore: n.datastore,
    ec2: n.port,
    limits: instanceLimits(lookupInstanceType("t3.small"), { prefixDelegation: false }),
    settings: DEFAULT_POOL_SETTINGS,
    clock: n.clock,
    onPass: () => {
      if (passes++ === 0) ref.reconciler!.wake(true);
    },
  });
  const loop = reconciler.run(abort.signal, 60_000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  equal(passes, 2, "the wake-up during the first pass ran a second pass");
  abort.abort();
  await loop;
});
