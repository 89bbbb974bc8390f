import {
  CreateNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { systemClock } from "../../shared/clock.ts";
import { assertServiceError, emulatorFixture, sdkError } from "../../testing/emulator_fixture.ts";

/** A client that gives up on a call after `ms`. */
const timeoutAfter = (ms: number) => ({
  requestHandler: { requestTimeout: ms, throwOnRequestTimeout: true },
});

Deno.test("a burst beyond the throttle bucket gets 503 RequestLimitExceeded", async () => {
  await using fx = await emulatorFixture({ sim: { clock: systemClock } });
  fx.sim.throttle.enable({ "non-mutating": { capacity: 3, refillPerSecond: 1 } });
  const results = await Promise.allSettled(
    Array.from({ length: 8 }, () => fx.ec2.send(new DescribeSubnetsCommand({}))),
  );
  const failed = results.filter((result) => result.status === "rejected");
  assert.equal(results.length - failed.length, 3);
  for (const result of failed) assertServiceError(result.reason, "RequestLimitExceeded", 503);
  assert.equal(failed[0]?.reason.$fault, "server");
});

Deno.test("the SDK's own retries get a throttled burst through", async () => {
  await using fx = await emulatorFixture({ sim: { clock: systemClock } });
  fx.sim.throttle.enable({ "non-mutating": { capacity: 2, refillPerSecond: 20 } });
  const client = fx.client({ maxAttempts: 8 });
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: 6 }, () => client.send(new DescribeSubnetsCommand({}))),
  );
  const elapsedMs = performance.now() - started;
  const attempts = results.map((result) => result.$metadata.attempts ?? 1);
  assert.ok(attempts.some((count) => count > 1), `attempts ${attempts}`);
  assert.ok(results.every((result) => result.Subnets?.length === 3));
  assert.ok(elapsedMs < 8000, `took ${elapsedMs} ms`);
});

Deno.test("the latency knob delays the answer", async () => {
  await using fx = await emulatorFixture();
  fx.sim.knobs.setLatencyMs("DescribeSubnets", 150);
  const started = performance.now();
  await fx.ec2.send(new DescribeSubnetsCommand({}));
  assert.ok(performance.now() - started >= 145);
  const quick = performance.now();
  await fx.ec2.send(new DescribeNetworkInterfacesCommand({}));
  assert.ok(performance.now() - quick < 140);
});

Deno.test("a hung call times out in the client and never runs", async () => {
  await using fx = await emulatorFixture();
  fx.emulator.ec2Transport.hangNext("CreateNetworkInterface");
  const client = fx.client(timeoutAfter(200));
  const error = await sdkError(client.send(new CreateNetworkInterfaceCommand({ SubnetId: "subnet-a" })));
  assert.equal(error.name, "TimeoutError");
  assert.equal(fx.sim.describeNetworkInterfaces().networkInterfaces.length, 1);
  const next = await client.send(new CreateNetworkInterfaceCommand({ SubnetId: "subnet-a" }));
  assert.ok(next.NetworkInterface?.NetworkInterfaceId);
});

Deno.test("a call whose answer is lost runs once; the SDK's retry gets the same ENI by ClientToken", async () => {
  await using fx = await emulatorFixture();
  fx.emulator.ec2Transport.hangNext("CreateNetworkInterface", { applied: true });
  const client = fx.client({ maxAttempts: 2, ...timeoutAfter(200) });
  const out = await client.send(new CreateNetworkInterfaceCommand({ SubnetId: "subnet-a" }));
  assert.equal(out.$metadata.attempts, 2);
  const enis = fx.sim.describeNetworkInterfaces().networkInterfaces;
  assert.equal(enis.length, 2);
  assert.equal(out.NetworkInterface?.NetworkInterfaceId, enis[1]?.networkInterfaceId);
});

Deno.test("closing the emulator ends hung and delayed calls at once", async () => {
  await using fx = await emulatorFixture();
  fx.emulator.ec2Transport.hangNext("DescribeSubnets", { times: Infinity });
  fx.sim.knobs.setLatencyMs("DescribeNetworkInterfaces", 60_000);
  const hung = sdkError(fx.ec2.send(new DescribeSubnetsCommand({})));
  const slow = sdkError(fx.ec2.send(new DescribeNetworkInterfacesCommand({})));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const started = performance.now();
  await fx.emulator.close();
  assert.ok(performance.now() - started < 1000);
  for (const error of await Promise.all([hung, slow])) {
    // Usually the 503 gets out; Deno's shutdown sometimes closes the socket before it is written.
    if (error.message === "socket hang up") continue;
    assertServiceError(error, "Unavailable", 503);
  }
});

Deno.test("hang knobs count calls, can be cleared, and refuse bad counts", async () => {
  await using fx = await emulatorFixture();
  const knobs = fx.emulator.ec2Transport;
  assert.throws(() => knobs.hangNext("CreateTags", { times: 0 }), RangeError);
  assert.throws(() => knobs.hangNext("CreateTags", { times: 1.5 }), RangeError);
  knobs.hangNext("CreateTags", { times: 2, applied: true });
  assert.deepEqual(knobs.draw("CreateTags"), { applied: true });
  assert.equal(knobs.draw("DescribeSubnets"), null);
  knobs.clearHangs("CreateTags");
  assert.equal(knobs.draw("CreateTags"), null);
  knobs.hangNext("DescribeSubnets");
  knobs.clearHangs();
  assert.equal((await fx.ec2.send(new DescribeSubnetsCommand({}))).Subnets?.length, 3);
});
