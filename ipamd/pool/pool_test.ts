import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { ManualTimers } from "../../testing/manual_timers.ts";
import { waitFor, withTimeout } from "../../testing/rpc_sockets.ts";
import { Ec2Simulation, SimEc2Port, sleepOnManualClock } from "../../sim/ec2/mod.ts";
import type { Ec2Port } from "../cloud/mod.ts";
import { instanceLimits, lookupInstanceType } from "../limits/limits.ts";
import { Pool } from "./pool.ts";
import { DEFAULT_POOL_SETTINGS, type PoolSettings } from "./types.ts";
import { AddCancelledError, NoAddressError } from "./waiters.ts";

const META = { podNamespace: "default", podName: "p" };
const key = (containerId: string) => ({ networkName: "aws-cni", containerId, ifName: "eth0" });

/** A pool on a fresh simulated t3.small (3 ENIs of 3 addresses), its clock and timers moved by hand. */
async function setup(
  settings: Partial<PoolSettings> = {},
  options: { wrap?: (port: Ec2Port) => Ec2Port; random?: () => number } = {},
) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const sim = new Ec2Simulation({
    vpcCidr: "10.0.0.0/16",
    subnets: [{ subnetId: "subnet-a", cidr: "10.0.0.0/20", availabilityZone: "us-west-2a" }],
    seed: 1,
    clock,
  });
  sim.registerInstanceType({ instanceType: "t3.small", maxEnis: 3, ipv4PerEni: 4 });
  const { instanceId } = sim.launchInstance({
    instanceType: "t3.small",
    subnetId: "subnet-a",
    securityGroups: [],
  });
  const ec2 = new SimEc2Port(sim, instanceId, { sleep: sleepOnManualClock(clock) });
  const timers = new ManualTimers(clock);
  const limits = instanceLimits(lookupInstanceType("t3.small"), { prefixDelegation: false });
  const events: string[] = [];
  const pool = new Pool({
    ec2: options.wrap?.(ec2) ?? ec2,
    limits,
    settings: { ...DEFAULT_POOL_SETTINGS, ...settings },
    clock,
    timers,
    random: options.random,
  });
  pool.observe({
    passed: (outcome) => void events.push(`passed ${outcome.applied.map((a) => a.kind).join(",")}`),
    changed: () => void events.push("changed"),
    served: (waitedMs, queued) => void events.push(`served ${waitedMs} ${queued}`),
    timedOut: (reason) => void events.push(`timed out ${reason}`),
  });
  pool.adopt(await ec2.describeNode());
  return { pool, sim, clock, timers, events };
}

Deno.test("Pool.adopt() puts the node's ENIs and their addresses in the datastore", async () => {
  const { pool } = await setup();
  deepStrictEqual(pool.datastore.enis().map((eni) => [eni.deviceNumber, eni.primary, eni.cidrs.length]), [
    [0, true, 0],
  ]);
});

Deno.test("Pool.acquire() wakes the loop at once when an ADD has to wait, and the grown pool serves it", async () => {
  const { pool, timers, events, clock } = await setup({ warmIpTarget: 1 });
  await using _loop = pool.run(60_000);
  await waitFor(() => events.includes("passed assign") && timers.pending === 1);
  equal(pool.datastore.stats(clock.now()).free, 1);
  await pool.acquire(key("a"), META, 10_000);
  deepStrictEqual(events.slice(-1), ["served 0 false"]);
  // Nothing is free now: the ADD waits, and only the urgent wake-up (no timer moves) grows the pool.
  const allocation = await withTimeout(pool.acquire(key("b"), META, 10_000), 5_000);
  equal(pool.datastore.get(key("b"))?.ip, allocation.ip);
  ok(events.includes("served 0 true"), events.join("; "));
});

Deno.test("Pool.acquire() fails with why the pool could not grow once the wait runs out", async () => {
  const { pool, timers, sim } = await setup({ warmIpTarget: 1 });
  await pool.reconciler.pass();
  await pool.acquire(key("a"), META, 10_000);
  sim.knobs.failNext("AssignPrivateIpAddresses", { code: "UnauthorizedOperation", httpStatus: 403 });
  const waiting = pool.acquire(key("b"), META, 2_000);
  await pool.reconciler.pass();
  timers.advance(2_000);
  await rejects(
    waiting,
    (error: unknown) => error instanceof NoAddressError && error.reason === "unauthorized",
  );
});

Deno.test("Pool.release() ends the pod's waiting ADD and cools its address down", async () => {
  const { pool, clock } = await setup({ warmIpTarget: 1 });
  await pool.reconciler.pass();
  const held = await pool.acquire(key("a"), META, 10_000);
  const waiting = pool.acquire(key("b"), META, 10_000);
  equal(pool.release(key("b")), null, "b held nothing");
  await rejects(waiting, AddCancelledError);
  equal(pool.release(key("a"))?.ip, held.ip);
  deepStrictEqual(pool.datastore.coolingEntries(clock.now()).map((entry) => entry.ip), [held.ip]);
});

Deno.test("Pool.changed() tells the observers and wakes the loop after the settle time", async () => {
  const { pool, timers, events } = await setup();
  pool.changed();
  deepStrictEqual(events, ["changed"]);
  equal(timers.pending, 1, "the settle timer");
  await pool[Symbol.asyncDispose]();
  equal(timers.pending, 0, "disposing drops it");
});

Deno.test("Pool.canServe is false only when nothing is free and growth is blocked", async () => {
  const { pool } = await setup({ maxEni: 1 });
  equal(pool.canServe, true, "nothing blocks growth yet");
  await pool.reconciler.pass();
  for (const id of ["a", "b", "c"]) await pool.acquire(key(id), META, Infinity);
  equal(pool.canServe, true, "the last pass was not blocked");
  await pool.reconciler.pass();
  equal(pool.growth.current?.reason, "max-enis");
  equal(pool.canServe, false);
  pool.release(key("a"));
  equal(pool.canServe, false, "a cooling address cannot be handed out");
});

Deno.test("Pool[Symbol.asyncDispose]() stops the loop, ends waiting ADDs and leaves no timer", async () => {
  const { pool, timers, events } = await setup({ maxEni: 1 });
  const loop = pool.run(60_000);
  await waitFor(() => events.includes("passed assign") && timers.pending === 1);
  for (const id of ["a", "b", "c"]) await pool.acquire(key(id), META, 10_000);
  const waiting = pool.acquire(key("d"), META, 10_000);
  await waitFor(() => pool.growth.current?.reason === "max-enis");
  equal(timers.pending, 2, "the loop's nap and the ADD's deadline");
  await pool[Symbol.asyncDispose]();
  await rejects(waiting, AddCancelledError);
  await loop.done;
  equal(timers.pending, 0);
});

Deno.test("Pool grows no spare address for an ADD that a cooling address serves within 5 s while spare growth waits", async () => {
  const { pool, clock, timers, sim } = await setup({ warmIpTarget: 1 }, { random: () => 0.5 });
  sim.knobs.failNext("AssignPrivateIpAddresses", { code: "RequestLimitExceeded", httpStatus: 503 });
  const throttledAtMs = clock.now();
  equal((await pool.reconciler.pass()).failed.length, 1);
  clock.advanceTo(pool.growth.hold?.untilMs ?? clock.now());
  equal(pool.growth.spareHeldUntilMs, throttledAtMs + 60_000, "spare growth waits after the throttle");
  const a = pool.acquire(key("a"), META, 60_000);
  const grown = await pool.reconciler.pass();
  deepStrictEqual(grown.applied.map((action) => [action.kind, "count" in action ? action.count : 0]), [
    ["assign", 2],
  ]);
  await a;
  await pool.acquire(key("b"), META, 60_000);
  pool.release(key("a"));
  clock.advance(DEFAULT_POOL_SETTINGS.ipCooldownMs - 4_000);
  const c = pool.acquire(key("c"), META, 60_000);
  const outcome = await pool.reconciler.pass();
  equal(outcome.applied.length, 0, "the ADD waits for the cooling address; spare growth still waits");
  equal(outcome.plan.shortIps, 1, "the warm target is short");
  timers.advance(4_000);
  equal((await c).ip, pool.datastore.get(key("c"))?.ip);
  ok(clock.now() < pool.growth.spareHeldUntilMs!, "served while spare growth still waits");
});

/** The port with `assignAddresses` replaced; counts its calls. */
function assignAnswers(answer: (port: Ec2Port, eniId: string, count: number) => Promise<string[]>) {
  const calls = { count: 0 };
  const wrap = (port: Ec2Port): Ec2Port => ({
    describeNode: () => port.describeNode(),
    createEni: (request) => port.createEni(request),
    assignAddresses: (eniId, request) => (calls.count++, answer(port, eniId, request.count)),
    releaseAddresses: (eniId, cidrs) => port.releaseAddresses(eniId, cidrs),
    freeEni: (eniId) => port.freeEni(eniId),
  });
  return { calls, wrap };
}

Deno.test("Pool keeps what fits of an Assign answer that lists the ENI's own address, and asks no more", async () => {
  const { calls, wrap } = assignAnswers(async (port, eniId, count) => {
    const cidrs = await port.assignAddresses(eniId, { count, prefixes: false });
    const own = (await port.describeNode()).find((eni) => eni.eniId === eniId)!.primaryIp;
    return [`${own}/32`, ...cidrs];
  });
  const { pool, clock } = await setup({ warmIpTarget: 2 }, { wrap, random: () => 0.5 });
  const outcome = await pool.reconciler.pass();
  deepStrictEqual(outcome.applied.map((action) => action.kind), ["assign"]);
  equal(outcome.failed.length, 0);
  equal(pool.datastore.stats(clock.now()).free, 2, "the two addresses EC2 assigned");
  equal((await pool.reconciler.pass()).applied.length, 0);
  equal(calls.count, 1, "the answer was kept, not repeated");
});

Deno.test("Pool backs off, further each time, from an Assign that brings nothing", async () => {
  const { calls, wrap } = assignAnswers(() => Promise.resolve([]));
  const { pool, clock } = await setup({ warmIpTarget: 2 }, { wrap, random: () => 0.5 });
  const startMs = clock.now();
  const pauses: number[] = [];
  while (clock.now() < startMs + 60_000) {
    const outcome = await pool.reconciler.pass();
    const untilMs = outcome.hold?.untilMs ?? undefined;
    if (untilMs !== undefined && outcome.failed.length > 0) pauses.push(untilMs - clock.now());
    clock.advanceTo(Math.min(untilMs ?? Infinity, clock.now() + 5_000));
  }
  equal(pool.growth.whyNoAddress.reason, "cloud-error");
  deepStrictEqual(pauses, [500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
  equal(calls.count, 8, "one Assign per pause, not one per pass round");
});
