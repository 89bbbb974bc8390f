/**
 * EC2 throttling against the adapter, over the wire: the simulated account
 * throttles with AWS's token buckets (503 RequestLimitExceeded); the adapter's
 * own buckets pace requests before they are sent, and what still gets a 503 is
 * sent again after an exponential back-off with jitter, until every call succeeds.
 */
import assert from "node:assert/strict";
import { sdkFixture } from "../testing/ec2_sdk_fixture.ts";

Deno.test("a burst beyond EC2's bucket gets 503s, the adapter backs off, and every call succeeds", async () => {
  await using fx = await sdkFixture({ budget: { buckets: null, maxRetries: 10 } });
  const second = await fx.port.createEni({ count: 0, prefixes: false });
  const third = await fx.port.createEni({ count: 0, prefixes: false });
  fx.sim.throttle.enable({ AssignPrivateIpAddresses: { capacity: 5, refillPerSecond: 2 } });
  const enis = [fx.primaryEniId, second.eniId, third.eniId];
  const startMs = fx.clock.now();
  const assigned = await Promise.all(
    Array.from(
      { length: 24 },
      (_, i) => fx.port.assignAddresses(enis[i % 3]!, { count: 1, prefixes: false }),
    ),
  );
  assert.equal(new Set(assigned.flat()).size, 24, "24 distinct addresses");
  const throttled = fx.budget.throttled("AssignPrivateIpAddresses");
  assert.ok(throttled >= 19, `EC2 answered 503 to the burst beyond its 5 tokens (${throttled} times)`);
  assert.ok(fx.budget.waitedMs("AssignPrivateIpAddresses") > 0, "the back-off is counted as budget wait");
  assert.ok(fx.clock.now() - startMs >= (24 - 5) / 2 * 1000, "no faster than EC2 refills");
  const held = fx.sim.exportState().networkInterfaces.map((eni) => eni.secondaryPrivateIpAddresses.length);
  assert.deepEqual(held, [8, 8, 8]);
});

Deno.test("with buckets below EC2's, the adapter waits instead of getting 503s", async () => {
  // Below: EC2's bucket starts when the first request arrives, and answers take varying time.
  const ours = { capacity: 3, refillPerSecond: 3 };
  await using fx = await sdkFixture({
    realTime: true,
    budget: { buckets: { AssignPrivateIpAddresses: ours } },
  });
  await fx.directory.describeSubnet("subnet-a"); // the connection is open before the burst
  fx.sim.throttle.enable({ AssignPrivateIpAddresses: { capacity: 3, refillPerSecond: 5 } });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 9 }, () => fx.port.assignAddresses(fx.primaryEniId, { count: 1, prefixes: false })),
  );
  const elapsedMs = performance.now() - started;
  assert.equal(fx.budget.throttled("AssignPrivateIpAddresses"), 0, "no 503s");
  const waitedMs = fx.budget.waitedMs("AssignPrivateIpAddresses");
  assert.ok(waitedMs >= 1_900, `waited for tokens (${waitedMs} ms in all)`);
  assert.ok(elapsedMs >= 1_900, `6 requests beyond the bucket at 3 per second (${Math.round(elapsedMs)} ms)`);
  assert.equal(fx.budget.waitedMs("mutating"), 0, "other categories did not wait");
});

Deno.test("on the wall clock, a throttled burst of describes gets through with back-off", async () => {
  await using fx = await sdkFixture({
    realTime: true,
    budget: {
      buckets: null,
      maxRetries: 10,
      backoff: { initialMs: 50, factor: 2, maxMs: 800, jitter: 0.5 },
      random: Math.random,
    },
  });
  fx.sim.throttle.enable({ "non-mutating": { capacity: 3, refillPerSecond: 10 } });
  const started = performance.now();
  const subnets = await Promise.all(
    Array.from({ length: 15 }, () => fx.directory.describeSubnet("subnet-a")),
  );
  const elapsedMs = performance.now() - started;
  assert.ok(subnets.every((subnet) => subnet?.cidr === "10.0.1.0/24"));
  assert.ok(fx.budget.throttled("non-mutating") > 0, "some were throttled");
  assert.ok(elapsedMs >= 1_000, `EC2 refills 10 per second (${Math.round(elapsedMs)} ms)`);
  assert.ok(elapsedMs < 10_000, `took ${Math.round(elapsedMs)} ms`);
});
