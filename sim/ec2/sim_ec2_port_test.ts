import assert from "node:assert/strict";
import { systemClock } from "../../shared/clock.ts";
import { type SimFixture, simFixture } from "../../testing/ec2_sim_fixture.ts";
import { SimEc2Port, sleepOnManualClock } from "./sim_ec2_port.ts";
import { CloudError, type CloudErrorKind } from "../../ipamd/cloud/errors.ts";
import type { Ec2Port } from "../../ipamd/cloud/ec2_port.ts";

interface PortFixture extends SimFixture {
  readonly port: SimEc2Port;
  readonly instanceId: string;
  readonly primaryEniId: string;
}

function portFixture(subnetId = "subnet-a", waitTimeoutMs?: number): PortFixture {
  const fixture = simFixture();
  const node = fixture.sim.launchInstance({
    instanceType: "m5.large",
    subnetId,
    securityGroups: ["sg-node"],
  });
  const port = new SimEc2Port(fixture.sim, node.instanceId, {
    sleep: sleepOnManualClock(fixture.clock),
    pollIntervalMs: 100,
    ...(waitTimeoutMs === undefined ? {} : { waitTimeoutMs }),
  });
  return { ...fixture, port, instanceId: node.instanceId, primaryEniId: node.networkInterfaceId };
}

async function assertCloudError(
  promise: Promise<unknown>,
  kind: CloudErrorKind,
  code?: string,
): Promise<CloudError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof CloudError, `expected CloudError ${kind}, got ${String(error)}`);
  assert.equal(error.kind, kind, error.message);
  if (code !== undefined) assert.equal(error.code, code);
  return error;
}

function eniIds(fixture: SimFixture): string[] {
  return fixture.sim.describeNetworkInterfaces().networkInterfaces.map((eni) => eni.networkInterfaceId);
}

Deno.test("SimEc2Port satisfies Ec2Port", () => {
  const port: Ec2Port = portFixture().port;
  assert.ok(port);
});

Deno.test("SimEc2Port.createEni() creates, attaches, marks delete-on-termination and waits until attached", async () => {
  const fixture = portFixture();
  const startMs = fixture.clock.now();
  const eni = await fixture.port.createEni({ count: 3, prefixes: false });
  assert.ok(fixture.clock.now() - startMs >= 2000, "waited out the attach latency");
  assert.equal(eni.deviceNumber, 1);
  assert.equal(eni.primary, false);
  assert.equal(eni.primaryIp, "10.0.1.5");
  assert.deepEqual(eni.cidrs, ["10.0.1.6/32", "10.0.1.7/32", "10.0.1.8/32"]);
  assert.equal(eni.subnetId, "subnet-a");
  assert.equal(eni.subnetCidr, "10.0.1.0/24");
  assert.match(eni.mac, /^02(:[0-9a-f]{2}){5}$/);
  assert.deepEqual(eni.tags, {
    "node.k8s.amazonaws.com/instance_id": fixture.instanceId,
    "node.k8s.amazonaws.com/createdAt": "2024-01-01T00:00:00Z",
  });
  const view =
    fixture.sim.describeNetworkInterfaces({ networkInterfaceIds: [eni.eniId] }).networkInterfaces[0];
  assert.equal(view?.description, `aws-K8S-${fixture.instanceId}`);
  assert.deepEqual(view?.groups, [{ groupId: "sg-node" }]);
  assert.equal(view?.attachment?.deleteOnTermination, true);
  const node = await fixture.port.describeNode();
  assert.deepEqual(node.map((e) => [e.eniId, e.deviceNumber, e.primary]), [
    [fixture.primaryEniId, 0, true],
    [eni.eniId, 1, false],
  ]);
  const prefixEni = await fixture.port.createEni({ count: 1, prefixes: true });
  assert.equal(prefixEni.deviceNumber, 2);
  assert.deepEqual(prefixEni.cidrs, ["10.0.1.16/28"]);
});

Deno.test("SimEc2Port assigns and releases addresses, returning them to the subnet", async () => {
  const fixture = portFixture();
  const eni = await fixture.port.createEni({ count: 0, prefixes: false });
  assert.deepEqual(eni.cidrs, []);
  const ips = await fixture.port.assignAddresses(eni.eniId, { count: 2, prefixes: false });
  const prefixes = await fixture.port.assignAddresses(eni.eniId, { count: 2, prefixes: true });
  assert.deepEqual(ips, ["10.0.1.6/32", "10.0.1.7/32"]);
  assert.deepEqual(prefixes, ["10.0.1.16/28", "10.0.1.32/28"]);
  assert.deepEqual(await fixture.port.assignAddresses(eni.eniId, { count: 0, prefixes: true }), []);
  await fixture.port.releaseAddresses(eni.eniId, ["10.0.1.7/32", "10.0.1.16/28"]);
  const after = (await fixture.port.describeNode()).find((e) => e.eniId === eni.eniId);
  assert.deepEqual(after?.cidrs, ["10.0.1.6/32", "10.0.1.32/28"]);
  assert.equal(
    fixture.sim.describeSubnets({ subnetIds: ["subnet-a"] }).subnets[0]?.availableIpAddressCount,
    251 - 19,
  );
  await assertCloudError(
    fixture.port.releaseAddresses(eni.eniId, ["10.0.1.7/32"]),
    "invalid",
    "InvalidParameterValue",
  );
  await assert.rejects(fixture.port.releaseAddresses(eni.eniId, ["10.0.1.0/24"]), RangeError);
  await assert.rejects(fixture.port.releaseAddresses(eni.eniId, ["nonsense"]), SyntaxError);
});

Deno.test("SimEc2Port.freeEni() detaches, waits until available, deletes, and treats a gone ENI as freed", async () => {
  const fixture = portFixture();
  const eni = await fixture.port.createEni({ count: 2, prefixes: false });
  const startMs = fixture.clock.now();
  await fixture.port.freeEni(eni.eniId);
  assert.ok(fixture.clock.now() - startMs >= 3000, "waited out the detach latency");
  assert.deepEqual(eniIds(fixture), [fixture.primaryEniId]);
  assert.equal(
    fixture.sim.describeSubnets({ subnetIds: ["subnet-a"] }).subnets[0]?.availableIpAddressCount,
    250,
  );
  await fixture.port.freeEni(eni.eniId);
  await fixture.port.freeEni("eni-0000000000000404");
  await assertCloudError(fixture.port.freeEni(fixture.primaryEniId), "invalid", "OperationNotPermitted");
});

Deno.test("SimEc2Port.createEni() undoes the attach and deletes the ENI when marking it fails", async () => {
  const fixture = portFixture();
  fixture.sim.knobs.failNext("ModifyNetworkInterfaceAttribute", { code: "UnauthorizedOperation" });
  const error = await assertCloudError(
    fixture.port.createEni({ count: 2, prefixes: false }),
    "unauthorized",
    "UnauthorizedOperation",
  );
  assert.ok(error.cause !== undefined);
  assert.deepEqual(eniIds(fixture), [fixture.primaryEniId]);
  assert.equal(
    fixture.sim.describeSubnets({ subnetIds: ["subnet-a"] }).subnets[0]?.availableIpAddressCount,
    250,
  );
  assert.equal((await fixture.port.describeNode()).length, 1);
});

Deno.test("SimEc2Port.createEni() deletes the new ENI when the instance has no free slot", async () => {
  const fixture = portFixture();
  await fixture.port.createEni({ count: 1, prefixes: false });
  await fixture.port.createEni({ count: 1, prefixes: false });
  await assertCloudError(fixture.port.createEni({ count: 1, prefixes: false }), "attachment-limit");
  assert.equal(eniIds(fixture).length, 3);
});

Deno.test("SimEc2Port surfaces EC2 limits and failures as CloudError kinds", async () => {
  const fixture = portFixture("subnet-b");
  await assertCloudError(fixture.port.createEni({ count: 11, prefixes: false }), "subnet-full");
  await assertCloudError(
    fixture.port.assignAddresses(fixture.primaryEniId, { count: 1, prefixes: true }),
    "no-cidr-blocks",
  );
  await assertCloudError(
    fixture.port.assignAddresses(fixture.primaryEniId, { count: 10, prefixes: false }),
    "ip-limit",
  );
  await assertCloudError(
    fixture.port.assignAddresses("eni-0000000000000404", { count: 1, prefixes: false }),
    "not-found",
  );
  fixture.sim.throttle.enable({ AssignPrivateIpAddresses: { capacity: 1, refillPerSecond: 1 } });
  await fixture.port.assignAddresses(fixture.primaryEniId, { count: 1, prefixes: false });
  await assertCloudError(
    fixture.port.assignAddresses(fixture.primaryEniId, { count: 1, prefixes: false }),
    "throttled",
    "RequestLimitExceeded",
  );
  await assert.rejects(fixture.port.createEni({ count: -1, prefixes: false }), RangeError);
});

Deno.test("SimEc2Port waits out the per-action transport latency", async () => {
  const fixture = portFixture();
  fixture.sim.knobs.setLatencyMs("AssignPrivateIpAddresses", 300);
  const startMs = fixture.clock.now();
  await fixture.port.assignAddresses(fixture.primaryEniId, { count: 1, prefixes: false });
  assert.equal(fixture.clock.now() - startMs, 300);
});

Deno.test("SimEc2Port.createEni() gives up waiting for a slow attach with an unavailable error", async () => {
  const fixture = simFixture({ attachLatency: { kind: "fixed", ms: 120_000 } });
  const node = fixture.sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const port = new SimEc2Port(fixture.sim, node.instanceId, {
    sleep: sleepOnManualClock(fixture.clock),
    waitTimeoutMs: 10_000,
  });
  await assertCloudError(port.createEni({ count: 1, prefixes: false }), "unavailable", "Timeout");
  fixture.clock.advance(120_000);
  assert.equal((await port.describeNode()).length, 2, "the ENI still attaches later");
});

Deno.test("SimEc2Port sleeps on real timers by default", async () => {
  const fixture = simFixture({ clock: systemClock, attachLatency: { kind: "fixed", ms: 30 } });
  const node = fixture.sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const port = new SimEc2Port(fixture.sim, node.instanceId, { pollIntervalMs: 10 });
  const eni = await port.createEni({ count: 1, prefixes: false });
  assert.equal(eni.deviceNumber, 1);
});

Deno.test("SimEc2Port.createEni() waits for the attach without DescribeNetworkInterfaces calls", async () => {
  const fixture = portFixture();
  fixture.sim.knobs.failAtRate("DescribeNetworkInterfaces", { code: "UnauthorizedOperation" }, 1);
  const startMs = fixture.clock.now();
  const eni = await fixture.port.createEni({ count: 2, prefixes: false });
  assert.ok(fixture.clock.now() - startMs >= 2000, "waited out the attach latency");
  assert.equal(eni.deviceNumber, 1);
  assert.deepEqual(eni.cidrs, ["10.0.1.6/32", "10.0.1.7/32"]);
  assert.ok(fixture.clock.now() - startMs < 2000 + 500, "looked again soon after the attach completed");
});
