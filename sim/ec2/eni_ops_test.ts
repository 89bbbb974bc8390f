import assert from "node:assert/strict";
import { assertEc2Error, simFixture } from "../../testing/ec2_sim_fixture.ts";
import type { Ec2Simulation } from "./simulation.ts";
import type { NetworkInterfaceView } from "./types.ts";

function describeEni(sim: Ec2Simulation, networkInterfaceId: string): NetworkInterfaceView {
  const eni =
    sim.describeNetworkInterfaces({ networkInterfaceIds: [networkInterfaceId] }).networkInterfaces[0];
  assert.ok(eni !== undefined);
  return eni;
}

function addresses(eni: NetworkInterfaceView): string[] {
  return [
    ...eni.privateIpAddresses.map((ip) => ip.privateIpAddress),
    ...eni.ipv4Prefixes.map((p) => p.ipv4Prefix),
  ];
}

function available(sim: Ec2Simulation, subnetId: string): number {
  return sim.describeSubnets({ subnetIds: [subnetId] }).subnets[0]?.availableIpAddressCount ?? -1;
}

Deno.test("Ec2Simulation.createNetworkInterface() makes an available ENI with the lowest free addresses", () => {
  const { sim } = simFixture();
  sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const eni = sim.createNetworkInterface({
    subnetId: "subnet-a",
    description: "aws-K8S-i-1",
    groups: ["sg-1"],
    tags: [{ key: "team", value: "net" }],
    secondaryPrivateIpAddressCount: 2,
  }).networkInterface;
  assert.equal(eni.status, "available");
  assert.equal(eni.attachment, undefined);
  assert.deepEqual(addresses(eni), ["10.0.1.5", "10.0.1.6", "10.0.1.7"]);
  assert.equal(eni.privateIpAddress, "10.0.1.5");
  assert.deepEqual(eni.groups, [{ groupId: "sg-1" }]);
  assert.deepEqual(eni.tagSet, [{ key: "team", value: "net" }]);
  assert.equal(eni.description, "aws-K8S-i-1");
  assert.equal(available(sim, "subnet-a"), 256 - 5 - 4);
});

Deno.test("Ec2Simulation.createNetworkInterface() takes /28 prefixes from aligned free blocks", () => {
  const { sim } = simFixture();
  const eni = sim.createNetworkInterface({ subnetId: "subnet-a", ipv4PrefixCount: 2 }).networkInterface;
  assert.deepEqual(addresses(eni), ["10.0.1.4", "10.0.1.16/28", "10.0.1.32/28"]);
  assert.equal(available(sim, "subnet-a"), 256 - 5 - 33);
  assert.equal(eni.groups.length, 1, "the VPC's default group when none is given");
});

Deno.test("Ec2Simulation.createNetworkInterface() rejects bad requests with EC2's codes", () => {
  const { sim } = simFixture({ maxUnattachedIpv4PerEni: 5 });
  assertEc2Error(() => sim.createNetworkInterface({ subnetId: "" }), "MissingParameter", 400);
  assertEc2Error(() => sim.createNetworkInterface({ subnetId: "subnet-x" }), "InvalidSubnetID.NotFound", 400);
  assertEc2Error(
    () => sim.createNetworkInterface({ subnetId: "subnet-a", secondaryPrivateIpAddressCount: -1 }),
    "InvalidParameterValue",
  );
  assertEc2Error(
    () =>
      sim.createNetworkInterface({
        subnetId: "subnet-a",
        secondaryPrivateIpAddressCount: 1,
        ipv4PrefixCount: 1,
      }),
    "InvalidParameterCombination",
  );
  assertEc2Error(
    () => sim.createNetworkInterface({ subnetId: "subnet-a", secondaryPrivateIpAddressCount: 5 }),
    "PrivateIpAddressLimitExceeded",
  );
  assertEc2Error(
    () => sim.createNetworkInterface({ subnetId: "subnet-a", tags: [{ key: "aws:owner", value: "x" }] }),
    "InvalidParameterValue",
  );
  assertEc2Error(
    () => sim.createNetworkInterface({ subnetId: "subnet-a", groups: ["web"] }),
    "InvalidGroupId.Malformed",
  );
  assert.equal(sim.describeNetworkInterfaces().networkInterfaces.length, 0);
  assert.equal(available(sim, "subnet-a"), 251, "no failed call took an address");
});

Deno.test("Ec2Simulation runs a subnet out of addresses and takes nothing on the failing call", () => {
  const { sim } = simFixture();
  const full = sim.createNetworkInterface({ subnetId: "subnet-b", secondaryPrivateIpAddressCount: 9 });
  assert.equal(available(sim, "subnet-b"), 1);
  const last = sim.createNetworkInterface({ subnetId: "subnet-b" }).networkInterface;
  assert.equal(last.privateIpAddress, "10.0.2.14");
  assertEc2Error(
    () => sim.createNetworkInterface({ subnetId: "subnet-b" }),
    "InsufficientFreeAddressesInSubnet",
    400,
  );
  sim.unassignPrivateIpAddresses({
    networkInterfaceId: full.networkInterface.networkInterfaceId,
    privateIpAddresses: ["10.0.2.6", "10.0.2.7"],
  });
  assertEc2Error(
    () =>
      sim.assignPrivateIpAddresses({
        networkInterfaceId: last.networkInterfaceId,
        secondaryPrivateIpAddressCount: 3,
      }),
    "InsufficientFreeAddressesInSubnet",
  );
  assert.equal(available(sim, "subnet-b"), 2);
  const assigned = sim.assignPrivateIpAddresses({
    networkInterfaceId: last.networkInterfaceId,
    secondaryPrivateIpAddressCount: 2,
  });
  assert.deepEqual(assigned.assignedPrivateIpAddresses, ["10.0.2.6", "10.0.2.7"]);
  assert.equal(available(sim, "subnet-b"), 0);
});

Deno.test("Ec2Simulation.assignPrivateIpAddresses() counts the primary, secondaries and each /28 against the type's limit", () => {
  const { sim } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const eniId = node.networkInterfaceId;
  sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 5 });
  const prefixes = sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4PrefixCount: 4 });
  assert.deepEqual(prefixes.assignedIpv4Prefixes, [
    "10.0.1.16/28",
    "10.0.1.32/28",
    "10.0.1.48/28",
    "10.0.1.64/28",
  ]);
  assert.equal(addresses(describeEni(sim, eniId)).length, 10);
  assertEc2Error(
    () => sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 1 }),
    "PrivateIpAddressLimitExceeded",
    400,
  );
  assertEc2Error(
    () => sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4PrefixCount: 1 }),
    "PrivateIpAddressLimitExceeded",
  );
  assert.equal(addresses(describeEni(sim, eniId)).length, 10);
});

Deno.test("Ec2Simulation.assignPrivateIpAddresses() limits an unattached ENI by the unattached limit", () => {
  const { sim } = simFixture({ maxUnattachedIpv4PerEni: 4 });
  const eniId = sim.createNetworkInterface({ subnetId: "subnet-a", secondaryPrivateIpAddressCount: 2 })
    .networkInterface.networkInterfaceId;
  sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 1 });
  assertEc2Error(
    () => sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 1 }),
    "PrivateIpAddressLimitExceeded",
  );
});

Deno.test("Ec2Simulation.assignPrivateIpAddresses() answers InsufficientCidrBlocks when the subnet is fragmented", () => {
  const { sim } = simFixture();
  const eniId = sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId;
  const oneInEachBlock = Array.from({ length: 14 }, (_, i) => `10.0.1.${(i + 1) * 16 + 4}`);
  sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: oneInEachBlock });
  assertEc2Error(
    () => sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4PrefixCount: 1 }),
    "InsufficientCidrBlocks",
    400,
  );
  assertEc2Error(
    () => sim.createNetworkInterface({ subnetId: "subnet-a", ipv4PrefixCount: 1 }),
    "InsufficientCidrBlocks",
  );
  assert.equal(available(sim, "subnet-a"), 251 - 15, "the failed create gave its primary address back");
  const single = sim.assignPrivateIpAddresses({
    networkInterfaceId: eniId,
    secondaryPrivateIpAddressCount: 1,
  });
  assert.deepEqual(single.assignedPrivateIpAddresses, ["10.0.1.5"]);
});

Deno.test("Ec2Simulation.assignPrivateIpAddresses() checks specific addresses and the request's form", () => {
  const { sim } = simFixture();
  const eniId = sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId;
  const assign = (request: Record<string, unknown>) => () =>
    sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, ...request });
  assertEc2Error(assign({ privateIpAddresses: ["10.0.1.4"] }), "InvalidIPAddress.InUse");
  assertEc2Error(assign({ privateIpAddresses: ["10.0.1.255"] }), "InvalidParameterValue");
  assertEc2Error(assign({ privateIpAddresses: ["10.0.9.9"] }), "InvalidParameterValue");
  assertEc2Error(assign({ privateIpAddresses: ["10.0.1.x"] }), "InvalidParameterValue");
  assertEc2Error(assign({ ipv4Prefixes: ["10.0.1.8/28"] }), "InvalidParameterValue");
  assertEc2Error(assign({}), "MissingParameter");
  assertEc2Error(assign({ secondaryPrivateIpAddressCount: 0 }), "InvalidParameterValue");
  assertEc2Error(
    assign({ secondaryPrivateIpAddressCount: 1, ipv4PrefixCount: 1 }),
    "InvalidParameterCombination",
  );
  assertEc2Error(
    () => sim.assignPrivateIpAddresses({ networkInterfaceId: "eni-404", secondaryPrivateIpAddressCount: 1 }),
    "InvalidNetworkInterfaceID.NotFound",
  );
  const taken = sim.assignPrivateIpAddresses({
    networkInterfaceId: eniId,
    privateIpAddresses: ["10.0.1.200"],
  });
  assert.deepEqual(taken.assignedPrivateIpAddresses, ["10.0.1.200"]);
  assert.deepEqual(
    sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4Prefixes: ["10.0.1.32/28"] })
      .assignedIpv4Prefixes,
    ["10.0.1.32/28"],
  );
  assert.deepEqual(addresses(describeEni(sim, eniId)), ["10.0.1.4", "10.0.1.200", "10.0.1.32/28"]);
});

Deno.test("Ec2Simulation.unassignPrivateIpAddresses() returns addresses to the subnet, all or none", () => {
  const { sim } = simFixture();
  const other = sim.createNetworkInterface({ subnetId: "subnet-a", secondaryPrivateIpAddressCount: 1 });
  const eni = sim.createNetworkInterface({
    subnetId: "subnet-a",
    secondaryPrivateIpAddressCount: 2,
    ipv4PrefixCount: 0,
  })
    .networkInterface;
  const prefix = sim.assignPrivateIpAddresses({
    networkInterfaceId: eni.networkInterfaceId,
    ipv4PrefixCount: 1,
  });
  const eniId = eni.networkInterfaceId;
  assert.deepEqual(addresses(describeEni(sim, eniId)), ["10.0.1.6", "10.0.1.7", "10.0.1.8", "10.0.1.16/28"]);
  assertEc2Error(
    () => sim.unassignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: ["10.0.1.6"] }),
    "InvalidParameterValue",
  );
  assertEc2Error(
    () =>
      sim.unassignPrivateIpAddresses({
        networkInterfaceId: eniId,
        privateIpAddresses: ["10.0.1.7", other.networkInterface.privateIpAddress],
      }),
    "InvalidParameterValue",
  );
  assertEc2Error(() => sim.unassignPrivateIpAddresses({ networkInterfaceId: eniId }), "MissingParameter");
  assert.equal(addresses(describeEni(sim, eniId)).length, 4, "nothing was unassigned by a failed call");
  sim.unassignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: ["10.0.1.7"] });
  sim.unassignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4Prefixes: prefix.assignedIpv4Prefixes });
  assert.deepEqual(addresses(describeEni(sim, eniId)), ["10.0.1.6", "10.0.1.8"]);
  assert.equal(available(sim, "subnet-a"), 251 - 4);
});

Deno.test("Ec2Simulation.deleteNetworkInterface() refuses attached ENIs and frees the addresses of others", () => {
  const { sim } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  assertEc2Error(
    () => sim.deleteNetworkInterface({ networkInterfaceId: node.networkInterfaceId }),
    "InvalidNetworkInterface.InUse",
    400,
  );
  const eniId = sim.createNetworkInterface({ subnetId: "subnet-a", ipv4PrefixCount: 1 }).networkInterface
    .networkInterfaceId;
  assert.equal(available(sim, "subnet-a"), 251 - 18);
  sim.deleteNetworkInterface({ networkInterfaceId: eniId });
  assert.equal(available(sim, "subnet-a"), 251 - 1);
  assertEc2Error(
    () => sim.deleteNetworkInterface({ networkInterfaceId: eniId }),
    "InvalidNetworkInterfaceID.NotFound",
    400,
  );
});

Deno.test("Ec2Simulation.modifyNetworkInterfaceAttribute() changes one attribute per call", () => {
  const { sim } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const eniId = sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId;
  const { attachmentId } = sim.attachNetworkInterface({
    networkInterfaceId: eniId,
    instanceId: node.instanceId,
    deviceIndex: 1,
  });
  assert.equal(describeEni(sim, eniId).attachment?.deleteOnTermination, false);
  sim.modifyNetworkInterfaceAttribute({
    networkInterfaceId: eniId,
    attachment: { attachmentId, deleteOnTermination: true },
  });
  assert.equal(describeEni(sim, eniId).attachment?.deleteOnTermination, true);
  sim.modifyNetworkInterfaceAttribute({ networkInterfaceId: eniId, groups: ["sg-2", "sg-3"] });
  assert.deepEqual(describeEni(sim, eniId).groups, [{ groupId: "sg-2" }, { groupId: "sg-3" }]);
  assertEc2Error(
    () => sim.modifyNetworkInterfaceAttribute({ networkInterfaceId: eniId }),
    "MissingParameter",
  );
  assertEc2Error(
    () =>
      sim.modifyNetworkInterfaceAttribute({
        networkInterfaceId: eniId,
        description: "x",
        sourceDestCheck: false,
      }),
    "InvalidParameterCombination",
  );
  const primaryAttachment = describeEni(sim, node.networkInterfaceId).attachment?.attachmentId ?? "";
  assertEc2Error(
    () =>
      sim.modifyNetworkInterfaceAttribute({
        networkInterfaceId: eniId,
        attachment: { attachmentId: primaryAttachment, deleteOnTermination: false },
      }),
    "InvalidAttachmentID.NotFound",
  );
  assertEc2Error(
    () =>
      sim.modifyNetworkInterfaceAttribute({
        networkInterfaceId: eniId,
        attachment: { attachmentId: "eni-attach-404", deleteOnTermination: false },
      }),
    "InvalidAttachmentID.NotFound",
  );
  assert.equal(describeEni(sim, eniId).attachment?.deleteOnTermination, true);
});
