/**
 * `SdkEc2Port` and `Ec2Requests` over the wire: the real AWS SDK and the IMDS
 * client against the in-process EC2 + IMDS emulator, one test per EC2 action the
 * adapter makes, checking the simulated account's state afterwards.
 */
import assert from "node:assert/strict";
import { sdkFixture } from "../testing/ec2_sdk_fixture.ts";
import type { Ec2Port } from "../ipamd/cloud/ec2_port.ts";
import { CloudError } from "../ipamd/cloud/errors.ts";

function eniState(
  fx: { sim: { exportState(): { networkInterfaces: readonly { networkInterfaceId: string }[] } } },
) {
  return fx.sim.exportState().networkInterfaces;
}

Deno.test("SdkEc2Port satisfies Ec2Port", async () => {
  await using fx = await sdkFixture();
  const port: Ec2Port = fx.port;
  assert.ok(port);
});

Deno.test("SdkEc2Port.createEni() creates with our description, groups, subnet and tags, attaches, marks delete-on-termination", async () => {
  await using fx = await sdkFixture({
    port: { clusterName: "prod", additionalTags: { team: "net", "cost-center": "42" } },
  });
  const startMs = fx.clock.now();
  const eni = await fx.port.createEni({ count: 3, prefixes: false });
  assert.ok(fx.clock.now() - startMs >= 2000, "waited for the attach (on IMDS)");
  assert.equal(eni.deviceNumber, 1);
  assert.equal(eni.primary, false);
  assert.equal(eni.subnetId, "subnet-a");
  assert.equal(eni.subnetCidr, "10.0.1.0/24");
  assert.deepEqual(eni.cidrs, ["10.0.1.6/32", "10.0.1.7/32", "10.0.1.8/32"]);
  const view = fx.sim.describeNetworkInterfaces({ networkInterfaceIds: [eni.eniId] }).networkInterfaces[0]!;
  assert.equal(view.description, `aws-K8S-${fx.instanceId}`);
  assert.deepEqual(view.groups, [{ groupId: "sg-node" }]);
  assert.equal(view.subnetId, "subnet-a");
  assert.equal(view.attachment?.deleteOnTermination, true);
  assert.equal(view.attachment?.status, "attached");
  const tags = Object.fromEntries(view.tagSet.map((tag) => [tag.key, tag.value]));
  assert.deepEqual(tags, {
    team: "net",
    "cost-center": "42",
    "node.k8s.amazonaws.com/instance_id": fx.instanceId,
    "node.k8s.amazonaws.com/createdAt": "2024-01-01T00:00:00Z",
    "cluster.k8s.amazonaws.com/name": "prod",
  });
  assert.deepEqual(eni.tags, tags);
  const prefixed = await fx.port.createEni({ count: 1, prefixes: true });
  assert.equal(prefixed.deviceNumber, 2, "the next device index free in IMDS and in the port's records");
  assert.deepEqual(prefixed.cidrs, ["10.0.1.16/28"]);
});

Deno.test("SdkEc2Port.createEni() without CLUSTER_NAME adds no cluster tag", async () => {
  await using fx = await sdkFixture();
  const eni = await fx.port.createEni({ count: 0, prefixes: false });
  assert.deepEqual(Object.keys(eni.tags).sort(), [
    "node.k8s.amazonaws.com/createdAt",
    "node.k8s.amazonaws.com/instance_id",
  ]);
  assert.deepEqual(eni.cidrs, []);
});

Deno.test("SdkEc2Port.createEni() waits until IMDS shows the ENI and its addresses, not on EC2", async () => {
  await using fx = await sdkFixture({ emulator: { imdsLagMs: 5_000 } });
  fx.sim.knobs.failAtRate("DescribeNetworkInterfaces", { code: "UnauthorizedOperation" }, 1);
  const startMs = fx.clock.now();
  const eni = await fx.port.createEni({ count: 2, prefixes: false });
  const waitedMs = fx.clock.now() - startMs;
  assert.ok(waitedMs >= 7_000, `attach 2 s + IMDS lag 5 s (waited ${waitedMs} ms)`);
  assert.ok(waitedMs < 7_000 + 2_500, `looked again within the back-off cap (waited ${waitedMs} ms)`);
  const seen = await fx.imds.eni(eni.mac);
  assert.deepEqual(seen?.cidrs, eni.cidrs);
});

Deno.test("SdkEc2Port.createEni() fails with 'unavailable' when IMDS never shows the ENI, leaving it attached", async () => {
  await using fx = await sdkFixture({ emulator: { imdsLagMs: 600_000 }, port: { attachWaitMs: 10_000 } });
  const error = await fx.port.createEni({ count: 1, prefixes: false }).catch((e: unknown) => e);
  assert.ok(error instanceof CloudError && error.kind === "unavailable", String(error));
  assert.equal(error.code, "AttachTimeout");
  const attached = eniState(fx).length;
  assert.equal(attached, 2, "the ENI stays (delete-on-termination); reconciliation adopts it later");
});

Deno.test("SdkEc2Port assigns secondary IPs and prefixes by count and releases them", async () => {
  await using fx = await sdkFixture();
  const ips = await fx.port.assignAddresses(fx.primaryEniId, { count: 2, prefixes: false });
  assert.deepEqual(ips, ["10.0.1.5/32", "10.0.1.6/32"]);
  const prefixes = await fx.port.assignAddresses(fx.primaryEniId, { count: 2, prefixes: true });
  assert.deepEqual(prefixes, ["10.0.1.16/28", "10.0.1.32/28"]);
  assert.deepEqual(await fx.port.assignAddresses(fx.primaryEniId, { count: 0, prefixes: false }), []);
  await fx.port.releaseAddresses(fx.primaryEniId, ["10.0.1.6/32", "10.0.1.16/28"]);
  const [primary] = await fx.port.describeNode();
  assert.deepEqual(primary?.cidrs, ["10.0.1.5/32", "10.0.1.32/28"]);
  await assert.rejects(fx.port.releaseAddresses(fx.primaryEniId, ["10.0.1.0/24"]), RangeError);
  await assert.rejects(fx.port.assignAddresses(fx.primaryEniId, { count: -1, prefixes: false }), RangeError);
});

Deno.test("SdkEc2Port.describeNode() lists IMDS's ENIs with EC2's addresses and tags", async () => {
  await using fx = await sdkFixture({ emulator: { imdsLagMs: 1_000 } });
  fx.clock.advance(1_000);
  const created = await fx.port.createEni({ count: 1, prefixes: false });
  await fx.port.assignAddresses(created.eniId, { count: 2, prefixes: false });
  const enis = await fx.port.describeNode();
  assert.deepEqual(enis.map((eni) => [eni.eniId, eni.deviceNumber, eni.primary]), [
    [fx.primaryEniId, 0, true],
    [created.eniId, 1, false],
  ]);
  assert.equal(enis[1]?.cidrs.length, 3, "EC2's addresses, ahead of the lagging IMDS");
  assert.equal(enis[1]?.tags["node.k8s.amazonaws.com/instance_id"], fx.instanceId);
  assert.equal(enis[0]?.mac, fx.primaryMac);
  assert.equal(enis[0]?.subnetCidr, "10.0.1.0/24");
});

Deno.test("SdkEc2Port.freeEni() detaches, retries the delete while detaching, and treats gone as freed", async () => {
  await using fx = await sdkFixture();
  const eni = await fx.port.createEni({ count: 2, prefixes: false });
  const startMs = fx.clock.now();
  await fx.port.freeEni(eni.eniId);
  assert.ok(fx.clock.now() - startMs >= 3_000, "deleted once the 3 s detach completed");
  assert.deepEqual(eniState(fx).map((e) => e.networkInterfaceId), [fx.primaryEniId]);
  await fx.port.freeEni(eni.eniId);
  await fx.port.freeEni("eni-0000000000000404");
  const primary = await fx.port.freeEni(fx.primaryEniId).catch((e: unknown) => e);
  assert.ok(primary instanceof CloudError && primary.code === "OperationNotPermitted");
});

Deno.test("SdkEc2Port.freeEni() waits about as long as a detach takes before its first delete", async () => {
  await using fx = await sdkFixture({ port: { random: () => 0 } });
  const eni = await fx.port.createEni({ count: 2, prefixes: false });
  const startMs = fx.clock.now();
  await fx.port.freeEni(eni.eniId);
  assert.equal(fx.clock.now() - startMs, 4_000, "the longest wait drawn from 2 to 4 s");
  const calls = fx.emulator.ec2Calls();
  assert.deepEqual(
    [calls.DetachNetworkInterface, calls.DeleteNetworkInterface],
    [1, 1],
    "no delete of an ENI still detaching",
  );
});

Deno.test("SdkEc2Port.freeEni() of an ENI it did not create looks up the attachment first", async () => {
  await using fx = await sdkFixture();
  const created = fx.sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId;
  fx.sim.attachNetworkInterface({ networkInterfaceId: created, instanceId: fx.instanceId, deviceIndex: 2 });
  await fx.port.freeEni(created);
  assert.equal(eniState(fx).length, 1);
});

Deno.test("SdkEc2Port.createEni() deletes the ENI when the attach fails, and detaches and deletes when marking fails", async () => {
  await using fx = await sdkFixture();
  fx.sim.knobs.failNext("AttachNetworkInterface", { code: "AttachmentLimitExceeded" });
  const attach = await fx.port.createEni({ count: 1, prefixes: false }).catch((e: unknown) => e);
  assert.ok(attach instanceof CloudError && attach.kind === "attachment-limit");
  assert.equal(eniState(fx).length, 1);
  fx.sim.knobs.failNext("ModifyNetworkInterfaceAttribute", { code: "UnauthorizedOperation" });
  const mark = await fx.port.createEni({ count: 1, prefixes: false }).catch((e: unknown) => e);
  assert.ok(mark instanceof CloudError && mark.kind === "unauthorized");
  assert.equal(eniState(fx).length, 1);
  assert.equal(fx.sim.describeSubnets({ subnetIds: ["subnet-a"] }).subnets[0]?.availableIpAddressCount, 250);
});

Deno.test("Ec2Requests.describeEnis() leaves out ids EC2 does not know", async () => {
  await using fx = await sdkFixture();
  const records = await fx.requests.describeEnis([
    fx.primaryEniId,
    "eni-0000000000000404",
    "eni-00000000000000aa",
  ]);
  assert.deepEqual(records.map((r) => r.eniId), [fx.primaryEniId]);
  assert.equal(records[0]?.interfaceType, "interface");
  assert.equal(records[0]?.attachment?.deviceIndex, 0);
  assert.deepEqual(await fx.requests.describeEnis(["eni-0000000000000404"]), []);
  assert.deepEqual(await fx.requests.describeEnis([]), []);
});

Deno.test("Ec2Requests.listEnis() follows every page of a filtered DescribeNetworkInterfaces", async () => {
  await using fx = await sdkFixture({ pageSize: 5 });
  for (let i = 0; i < 12; i++) {
    fx.sim.createNetworkInterface({
      subnetId: i % 2 === 0 ? "subnet-a" : "subnet-c",
      tags: [{ key: "node.k8s.amazonaws.com/instance_id", value: "i-gone" }],
    });
  }
  const tagged = await fx.directory.listEnis({ "tag-key": ["node.k8s.amazonaws.com/instance_id"] });
  assert.equal(tagged.length, 12);
  const inA = await fx.directory.listEnis({ status: ["available"], "subnet-id": ["subnet-a"] });
  assert.equal(inA.length, 6);
  assert.ok(inA.every((eni) => eni.status === "available" && eni.attachment === null));
});

Deno.test("Ec2Requests tags and deletes ENIs, and describes instance types and subnets", async () => {
  await using fx = await sdkFixture();
  const eniId = fx.sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId;
  await fx.directory.tagEni(eniId, { "node.k8s.amazonaws.com/createdAt": "2024-01-01T00:00:00Z" });
  const [tagged] = await fx.requests.describeEnis([eniId]);
  assert.equal(tagged?.tags["node.k8s.amazonaws.com/createdAt"], "2024-01-01T00:00:00Z");
  await fx.requests.deleteEni(eniId);
  await fx.requests.deleteEni(eniId);
  assert.equal(eniState(fx).length, 1);
  assert.deepEqual(await fx.directory.describeInstanceType("m5.large"), {
    maximumNetworkInterfaces: 3,
    ipv4AddressesPerInterface: 10,
    hypervisor: "nitro",
    bareMetal: false,
    defaultNetworkCardIndex: 0,
    networkCards: [{ networkCardIndex: 0, maximumNetworkInterfaces: 3 }],
  });
  assert.equal(await fx.directory.describeInstanceType("x9.nothing"), null);
  assert.deepEqual(await fx.directory.describeSubnet("subnet-a"), {
    subnetId: "subnet-a",
    cidr: "10.0.1.0/24",
    availableIps: 250,
    vpcId: fx.sim.vpcId,
    zone: "us-east-1a",
    tags: {},
  });
  assert.equal(await fx.directory.describeSubnet("subnet-0000000000404"), null);
});

Deno.test("SdkEc2Port.createEni() keeps an ENI whose attach EC2 throttled, and the next create attaches it instead of creating one", async () => {
  await using fx = await sdkFixture({ budget: { maxRetries: 0 } });
  fx.sim.knobs.failNext("AttachNetworkInterface", { code: "RequestLimitExceeded", httpStatus: 503 });
  const throttled = await fx.port.createEni({ count: 2, prefixes: false }).catch((e: unknown) => e);
  assert.ok(throttled instanceof CloudError && throttled.kind === "throttled", String(throttled));
  const kept = eniState(fx).find((eni) => eni.networkInterfaceId !== fx.primaryEniId);
  assert.ok(kept !== undefined, "the new ENI was not deleted");
  assert.equal(fx.port.keptEnis, 1);
  fx.sim.knobs.failAtRate("CreateNetworkInterface", { code: "UnauthorizedOperation" }, 1);
  const eni = await fx.port.createEni({ count: 2, prefixes: false });
  assert.equal(eni.eniId, kept.networkInterfaceId, "attached, not created again");
  assert.equal(eni.cidrs.length, 2);
  assert.equal(fx.port.keptEnis, 0);
  assert.equal(eniState(fx).length, 2);
});

Deno.test("SdkEc2Port.createEni() keeps an attached ENI whose mark EC2 throttled, and marks it with the next create", async () => {
  await using fx = await sdkFixture({ budget: { maxRetries: 0 } });
  fx.sim.knobs.failNext("ModifyNetworkInterfaceAttribute", { code: "RequestLimitExceeded", httpStatus: 503 });
  const first = await fx.port.createEni({ count: 1, prefixes: false });
  const view = () =>
    fx.sim.describeNetworkInterfaces({ networkInterfaceIds: [first.eniId] }).networkInterfaces[0]!;
  assert.equal(view().attachment?.status, "attached", "usable at once");
  assert.equal(view().attachment?.deleteOnTermination, false);
  await fx.port.createEni({ count: 1, prefixes: false });
  assert.equal(view().attachment?.deleteOnTermination, true);
});

Deno.test("SdkEc2Port.createEni() takes the device index from IMDS and its own records, and asks DescribeInstances only when EC2 says it is taken", async () => {
  await using fx = await sdkFixture({ emulator: { imdsLagMs: 60_000 }, port: { attachWaitMs: 120_000 } });
  fx.sim.knobs.failAtRate("DescribeInstances", { code: "UnauthorizedOperation" }, 1);
  const first = await fx.port.createEni({ count: 1, prefixes: false });
  assert.equal(first.deviceNumber, 1);
  const second = await fx.port.createEni({ count: 1, prefixes: false });
  assert.equal(second.deviceNumber, 2, "device 1 is the port's own, whatever IMDS lists");
  await fx.port.freeEni(first.eniId);
  await fx.port.freeEni(second.eniId);
  fx.clock.advance(61_000); // IMDS has caught up: it lists the primary ENI alone
  const foreign = fx.sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId;
  fx.sim.attachNetworkInterface({ networkInterfaceId: foreign, instanceId: fx.instanceId, deviceIndex: 1 });
  fx.sim.knobs.clearFaults("DescribeInstances");
  const third = await fx.port.createEni({ count: 1, prefixes: false });
  assert.equal(third.deviceNumber, 2, "EC2 said 1 is taken (IMDS lags): DescribeInstances found the next");
});

Deno.test("SdkEc2Port.describeNode() reads a fresh node from IMDS alone", async () => {
  await using fx = await sdkFixture();
  fx.sim.knobs.failAtRate("DescribeNetworkInterfaces", { code: "UnauthorizedOperation" }, 1);
  const enis = await fx.port.describeNode();
  assert.deepEqual(enis.map((eni) => [eni.eniId, eni.deviceNumber, eni.primary]), [[
    fx.primaryEniId,
    0,
    true,
  ]]);
  assert.equal(enis[0]?.subnetCidr, "10.0.1.0/24");
});
