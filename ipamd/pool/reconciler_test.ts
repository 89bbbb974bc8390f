import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { ManualTimers } from "../../testing/manual_timers.ts";
import { waitFor } from "../../testing/rpc_sockets.ts";
import { instanceLimits, lookupInstanceType } from "../limits/limits.ts";
import { SimulatedNode } from "../../sim/node/simulated_node.ts";
import { Pool } from "./pool.ts";
import type { PassOutcome } from "./reconciler.ts";
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

Deno.test("Reconciler.pass() holds growth after throttling for up to 1 s, spare growth for up to 2 min, and says why", async () => {
  const n = await node();
  const { growth } = n.pool;
  n.sim.knobs.failNext("AssignPrivateIpAddresses", { code: "RequestLimitExceeded", httpStatus: 503 });
  const startMs = n.clock.now();
  const outcome = await n.reconciler.pass();
  equal(outcome.failed.length, 1);
  equal(outcome.hold?.reason ?? "throttled", "throttled");
  const holdEndMs = outcome.hold?.untilMs ?? startMs;
  ok(holdEndMs <= startMs + 1_000, "the first pause is drawn from 0 to 1 s");
  equal((await n.reconciler.pass()).applied.length, 0, "no growth while held");
  n.clock.advanceTo(holdEndMs);
  const spareEndMs = growth.spareHeldUntilMs ?? startMs;
  ok(spareEndMs <= startMs + 120_000, "spare growth waits up to 2 min after the throttle");
  equal(
    (await n.reconciler.pass()).applied.length,
    0,
    "the warm target is spare: it waits while the account throttles",
  );
  n.clock.advanceTo(Math.max(spareEndMs, holdEndMs));
  equal(growth.spareHeldUntilMs, null);
  equal((await n.reconciler.pass()).applied.length, 1, "growth resumes after both pauses");
});

Deno.test("Reconciler.pass() grows for waiting ADDs while spare growth waits out the account's throttling, in as few calls", async () => {
  const n = await node({ warmIpTarget: 3 });
  n.sim.knobs.failNext("AssignPrivateIpAddresses", { code: "RequestLimitExceeded", httpStatus: 503 });
  await n.reconciler.pass();
  n.clock.advanceTo(n.pool.growth.hold?.untilMs ?? n.clock.now());
  ok(n.pool.growth.spareHeldUntilMs !== null, "drawn above 0 (seeded simulations draw the same way)");
  const key = { networkName: "aws-cni", containerId: "c1", ifName: "eth0" };
  const waiting = n.pool.acquire(key, { podNamespace: "default", podName: "p" }, 60_000);
  const outcome = await n.reconciler.pass();
  deepStrictEqual(outcome.applied.map((action) => [action.kind, "count" in action ? action.count : 0]), [
    ["assign", 3],
  ]);
  equal((await waiting).key.containerId, "c1");
  equal(
    n.pool.datastore.stats(n.clock.now()).total,
    3,
    "the one call the ADD needed also asked for what the warm target wants (t3.small: 3 per ENI)",
  );
  equal((await n.reconciler.pass()).applied.length, 0, "the rest of the warm target waits");
});

Deno.test("Reconciler.pass() leaves the growth state naming the last failure after its pause ran out, until the pool is not short", async () => {
  const n = await node();
  const { growth } = n.pool;
  n.sim.knobs.failNext("AssignPrivateIpAddresses", { code: "RequestLimitExceeded", httpStatus: 503 });
  await n.reconciler.pass();
  equal(growth.whyNoAddress.reason, "throttled");
  n.clock.advance(1_000);
  equal(growth.hold, null, "the pause ran out");
  const block = growth.whyNoAddress;
  equal(block.reason, "throttled", "a waiting ADD still hears why the pool has not grown");
  equal(block.untilMs, null);
  ok(block.detail.includes("RequestLimitExceeded"), block.detail);
  n.clock.advanceTo(growth.spareHeldUntilMs ?? n.clock.now());
  equal((await n.reconciler.pass()).applied.length, 1);
  equal(growth.whyNoAddress.reason, "still-warming", "once the pool grew, the old reason is gone");
});

for (
  const [code, httpStatus, reason] of [
    ["UnauthorizedOperation", 403, "unauthorized"],
    ["AttachmentLimitExceeded", 400, "max-enis"],
    ["InternalError", 500, "cloud-error"],
  ] as const
) {
  Deno.test(`Reconciler.pass() pauses growth after ${code} and says "${reason}"`, async () => {
    const n = await node({ warmIpTarget: 5 });
    n.sim.knobs.failNext("AssignPrivateIpAddresses", { code, httpStatus });
    await n.reconciler.pass();
    equal(n.pool.growth.current?.reason, reason);
    equal(n.pool.growth.whyNoAddress.reason, reason);
    ok(n.pool.growth.current?.detail.includes(code), n.pool.growth.current?.detail);
  });
}

Deno.test("Reconciler.pass() waits 120 s after a full subnet", async () => {
  const n = await node();
  n.sim.knobs.failNext("AssignPrivateIpAddresses", {
    code: "InsufficientFreeAddressesInSubnet",
    httpStatus: 400,
  });
  const startMs = n.clock.now();
  const outcome = await n.reconciler.pass();
  equal(outcome.hold?.reason, "subnet-full");
  const untilMs = outcome.hold?.untilMs ?? 0;
  ok(untilMs >= startMs + 60_000 && untilMs <= startMs + 120_000, "half of 120 s to all of it");
  n.clock.advanceTo(untilMs - 1);
  equal((await n.reconciler.pass()).applied.length, 0);
  n.clock.advance(1);
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

/** A pool over `n`'s simulated instance whose loop waits on timers moved by hand. */
async function loopPool(n: SimulatedNode, settleMs?: number) {
  const timers = new ManualTimers(n.clock);
  const limits = instanceLimits(lookupInstanceType("t3.small"), { prefixDelegation: false });
  const pool = new Pool({
    ec2: n.port,
    limits,
    settings: DEFAULT_POOL_SETTINGS,
    clock: n.clock,
    timers,
    settleMs,
  });
  pool.adopt(await n.port.describeNode());
  const passes: PassOutcome[] = [];
  pool.observe({ passed: (outcome) => passes.push(outcome) });
  return { pool, timers, passes };
}

Deno.test("Reconciler.wake() folds a stream of wake-ups into one pass, and runs one at once when urgent", async () => {
  const { pool, timers, passes } = await loopPool(await node(), 30);
  await using _loop = pool.run(60_000);
  await waitFor(() => passes.length === 1 && timers.pending === 1); // the first pass, then a nap
  for (let i = 0; i < 100; i++) pool.reconciler.wake();
  equal(timers.pending, 2, "the nap and one settle timer for 100 wake-ups");
  timers.advance(29);
  equal(passes.length, 1, "nothing before the settle time");
  timers.advance(1);
  await waitFor(() => passes.length === 2 && timers.pending === 1);
  pool.reconciler.wake(true);
  await waitFor(() => passes.length === 3 && timers.pending === 1);
  equal(timers.pending, 1, "only the nap is left");
});

Deno.test("Reconciler.run() does not lose a wake-up that arrives during a pass", async () => {
  const { pool, timers, passes } = await loopPool(await node());
  pool.observe({ passed: () => passes.length === 1 && pool.reconciler.wake(true) });
  await using _loop = pool.run(60_000);
  // Without the wake-up the loop would nap 60 s of a clock nobody moves.
  await waitFor(() => passes.length === 2 && timers.pending === 1);
});
