import assert from "node:assert/strict";
import { assertEc2Error, simFixture } from "../../testing/ec2_sim_fixture.ts";
import type { Ec2Simulation } from "./simulation.ts";
import type { NetworkInterfaceView } from "./types.ts";

function describeEni(sim: Ec2Simulation, networkInterfaceId: string): NetworkInterfaceView | undefined {
  return sim.describeNetworkInterfaces({ filters: { "network-interface-id": [networkInterfaceId] } })
    .networkInterfaces[0];
}

function newEni(sim: Ec2Simulation, subnetId = "subnet-a"): string {
  return sim.createNetworkInterface({ subnetId }).networkInterface.networkInterfaceId;
}

Deno.test("Ec2Simulation.launchInstance() attaches a primary ENI at device 0, delete-on-termination", () => {
  const { sim } = simFixture();
  const node = sim.launchInstance({
    instanceType: "m5.large",
    subnetId: "subnet-a",
    securityGroups: ["sg-web"],
  });
  assert.match(node.instanceId, /^i-0[0-9a-f]{16}$/);
  assert.match(node.reservationId, /^r-0[0-9a-f]{16}$/);
  assert.equal(node.privateIpAddress, "10.0.1.4");
  const eni = describeEni(sim, node.networkInterfaceId);
  assert.equal(eni?.status, "in-use");
  assert.equal(eni?.attachment?.deviceIndex, 0);
  assert.equal(eni?.attachment?.status, "attached");
  assert.equal(eni?.attachment?.deleteOnTermination, true);
  assert.deepEqual(eni?.groups, [{ groupId: "sg-web" }]);
  const instance = sim.describeInstances({ instanceIds: [node.instanceId] }).reservations[0]?.instances[0];
  assert.equal(instance?.state.name, "running");
  assert.deepEqual(instance?.networkInterfaces.map((n) => n.networkInterfaceId), [node.networkInterfaceId]);
  assert.throws(() => sim.launchInstance({ instanceType: "c5.metal", subnetId: "subnet-a" }), TypeError);
});

Deno.test("Ec2Simulation.attachNetworkInterface() completes after the attach latency on the clock", () => {
  const { sim, clock } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const eniId = newEni(sim);
  const { attachmentId } = sim.attachNetworkInterface({
    networkInterfaceId: eniId,
    instanceId: node.instanceId,
    deviceIndex: 1,
  });
  assert.match(attachmentId, /^eni-attach-0[0-9a-f]{16}$/);
  assert.equal(describeEni(sim, eniId)?.status, "attaching");
  assert.equal(describeEni(sim, eniId)?.attachment?.status, "attaching");
  clock.advance(1999);
  assert.equal(describeEni(sim, eniId)?.status, "attaching");
  clock.advance(1);
  assert.equal(describeEni(sim, eniId)?.status, "in-use");
  assert.equal(describeEni(sim, eniId)?.attachment?.status, "attached");
  assert.equal(describeEni(sim, eniId)?.attachment?.attachTime, "2024-01-01T00:00:00.000Z");
});

Deno.test("knobs.setAttachLatency() replaces the account's attach latency for new attaches; null restores it", () => {
  const { sim, clock } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const attach = (eniId: string, deviceIndex: number) =>
    sim.attachNetworkInterface({ networkInterfaceId: eniId, instanceId: node.instanceId, deviceIndex });
  sim.knobs.setAttachLatency({ kind: "fixed", ms: 8000 });
  const slow = newEni(sim);
  attach(slow, 1);
  clock.advance(7999);
  assert.equal(describeEni(sim, slow)?.status, "attaching");
  clock.advance(1);
  assert.equal(describeEni(sim, slow)?.status, "in-use");
  sim.knobs.setAttachLatency(null);
  const usual = newEni(sim);
  attach(usual, 2);
  clock.advance(2000);
  assert.equal(describeEni(sim, usual)?.status, "in-use");
  assert.throws(() => sim.knobs.setAttachLatency({ kind: "fixed", ms: -1 }), RangeError);
});

Deno.test("knobs.holdAttaches keeps new attaches attaching until releaseAttaches(), which tells listeners", () => {
  const { sim, clock } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const mutations: string[] = [];
  sim.onMutation((mutation) => mutations.push(mutation));
  sim.knobs.holdAttaches = true;
  const held = newEni(sim);
  sim.attachNetworkInterface({ networkInterfaceId: held, instanceId: node.instanceId, deviceIndex: 1 });
  clock.advance(3_600_000);
  assert.equal(describeEni(sim, held)?.status, "attaching", "held for an hour");
  assert.equal(sim.releaseAttaches(), 1);
  assert.equal(describeEni(sim, held)?.status, "in-use");
  assert.equal(sim.knobs.holdAttaches, false, "releasing stops holding");
  assert.equal(mutations.at(-1), "ReleaseAttaches");
  const next = newEni(sim);
  sim.attachNetworkInterface({ networkInterfaceId: next, instanceId: node.instanceId, deviceIndex: 2 });
  clock.advance(2000);
  assert.equal(describeEni(sim, next)?.status, "in-use");
  assert.equal(sim.releaseAttaches(), 0);
});

Deno.test("Ec2Simulation.detachNetworkInterface() leaves the ENI available after the detach latency", () => {
  const { sim, clock } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const eniId = newEni(sim);
  const { attachmentId } = sim.attachNetworkInterface({
    networkInterfaceId: eniId,
    instanceId: node.instanceId,
    deviceIndex: 2,
  });
  clock.advance(2000);
  sim.detachNetworkInterface({ attachmentId });
  assert.equal(describeEni(sim, eniId)?.status, "detaching");
  assertEc2Error(
    () => sim.deleteNetworkInterface({ networkInterfaceId: eniId }),
    "InvalidNetworkInterface.InUse",
  );
  sim.detachNetworkInterface({ attachmentId });
  clock.advance(2999);
  assert.equal(describeEni(sim, eniId)?.status, "detaching");
  clock.advance(1);
  assert.equal(describeEni(sim, eniId)?.status, "available");
  assert.equal(describeEni(sim, eniId)?.attachment, undefined);
  assertEc2Error(() => sim.detachNetworkInterface({ attachmentId }), "InvalidAttachmentID.NotFound", 400);
  sim.deleteNetworkInterface({ networkInterfaceId: eniId });
  assert.equal(describeEni(sim, eniId), undefined);
});

Deno.test("Ec2Simulation.detachNetworkInterface() with force frees the slot at once", () => {
  const { sim } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const eniId = newEni(sim);
  const { attachmentId } = sim.attachNetworkInterface({
    networkInterfaceId: eniId,
    instanceId: node.instanceId,
    deviceIndex: 1,
  });
  sim.detachNetworkInterface({ attachmentId, force: true });
  assert.equal(describeEni(sim, eniId)?.status, "available");
  sim.attachNetworkInterface({
    networkInterfaceId: newEni(sim),
    instanceId: node.instanceId,
    deviceIndex: 1,
  });
});

Deno.test("Ec2Simulation.attachNetworkInterface() refuses past the instance's ENI limit", () => {
  const { sim, clock } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  sim.attachNetworkInterface({
    networkInterfaceId: newEni(sim),
    instanceId: node.instanceId,
    deviceIndex: 1,
  });
  sim.attachNetworkInterface({
    networkInterfaceId: newEni(sim),
    instanceId: node.instanceId,
    deviceIndex: 5,
  });
  const fourth = newEni(sim);
  const error = assertEc2Error(
    () =>
      sim.attachNetworkInterface({ networkInterfaceId: fourth, instanceId: node.instanceId, deviceIndex: 2 }),
    "AttachmentLimitExceeded",
    400,
  );
  assert.equal(error.message, "Interface count 4 exceeds the limit for m5.large");
  assert.equal(describeEni(sim, fourth)?.status, "available");
  clock.advance(10_000);
  assert.equal(sim.describeInstances().reservations[0]?.instances[0]?.networkInterfaces.length, 3);
});

Deno.test("Ec2Simulation.attachNetworkInterface() refuses a used device index, a busy ENI and bad ids", () => {
  const { sim } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const other = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const eniId = newEni(sim);
  const attach = (networkInterfaceId: string, instanceId: string, deviceIndex: number) => () =>
    sim.attachNetworkInterface({ networkInterfaceId, instanceId, deviceIndex });
  assertEc2Error(attach(eniId, node.instanceId, 0), "InvalidParameterValue", 400);
  assertEc2Error(attach(eniId, node.instanceId, -1), "InvalidParameterValue");
  assertEc2Error(attach("eni-404", node.instanceId, 1), "InvalidNetworkInterfaceID.NotFound", 400);
  assertEc2Error(attach(eniId, "i-404", 1), "InvalidInstanceID.NotFound", 400);
  assertEc2Error(attach(eniId, node.instanceId, 1.5), "InvalidParameterValue");
  assertEc2Error(attach(eniId, "", 1), "MissingParameter");
  assertEc2Error(attach(newEni(sim, "subnet-c"), node.instanceId, 1), "InvalidParameterCombination");
  attach(eniId, node.instanceId, 1)();
  assertEc2Error(attach(eniId, other.instanceId, 1), "InvalidNetworkInterface.InUse");
  sim.terminateInstance({ instanceId: other.instanceId });
  assertEc2Error(attach(newEni(sim), other.instanceId, 1), "IncorrectInstanceState");
});

Deno.test("Ec2Simulation.attachNetworkInterface() refuses an ENI holding more addresses than the type allows", () => {
  const { sim } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const eniId = sim.createNetworkInterface({ subnetId: "subnet-a", secondaryPrivateIpAddressCount: 10 })
    .networkInterface.networkInterfaceId;
  assertEc2Error(
    () =>
      sim.attachNetworkInterface({ networkInterfaceId: eniId, instanceId: node.instanceId, deviceIndex: 1 }),
    "InvalidInterface.IpAddressLimitExceeded",
  );
});

Deno.test("Ec2Simulation.detachNetworkInterface() refuses the primary ENI and unknown attachments", () => {
  const { sim } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const primary = describeEni(sim, node.networkInterfaceId)?.attachment?.attachmentId ?? "";
  assertEc2Error(() => sim.detachNetworkInterface({ attachmentId: primary }), "OperationNotPermitted", 400);
  assertEc2Error(
    () => sim.detachNetworkInterface({ attachmentId: "eni-attach-404" }),
    "InvalidAttachmentID.NotFound",
  );
  assertEc2Error(() => sim.detachNetworkInterface({ attachmentId: "" }), "MissingParameter");
  assert.equal(describeEni(sim, node.networkInterfaceId)?.status, "in-use");
});

Deno.test("Ec2Simulation.terminateInstance() deletes delete-on-termination ENIs and leaves the others available", () => {
  const { sim } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const kept = newEni(sim);
  const leaked = newEni(sim);
  const { attachmentId } = sim.attachNetworkInterface({
    networkInterfaceId: kept,
    instanceId: node.instanceId,
    deviceIndex: 1,
  });
  sim.modifyNetworkInterfaceAttribute({
    networkInterfaceId: kept,
    attachment: { attachmentId, deleteOnTermination: true },
  });
  sim.attachNetworkInterface({ networkInterfaceId: leaked, instanceId: node.instanceId, deviceIndex: 2 });
  const result = sim.terminateInstance({ instanceId: node.instanceId });
  assert.deepEqual(result.deletedNetworkInterfaceIds, [node.networkInterfaceId, kept]);
  assert.deepEqual(result.detachedNetworkInterfaceIds, [leaked]);
  const left = sim.describeNetworkInterfaces().networkInterfaces;
  assert.deepEqual(left.map((eni) => [eni.networkInterfaceId, eni.status]), [[leaked, "available"]]);
  assert.equal(sim.describeSubnets({ subnetIds: ["subnet-a"] }).subnets[0]?.availableIpAddressCount, 250);
  const instance = sim.describeInstances({ instanceIds: [node.instanceId] }).reservations[0]?.instances[0];
  assert.deepEqual(instance?.state, { code: 48, name: "terminated" });
  assert.deepEqual(instance?.networkInterfaces, []);
  assertEc2Error(() => sim.terminateInstance({ instanceId: "i-404" }), "InvalidInstanceID.NotFound");
});
