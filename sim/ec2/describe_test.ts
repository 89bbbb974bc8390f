import assert from "node:assert/strict";
import { assertEc2Error, simFixture } from "../../testing/ec2_sim_fixture.ts";
import type { Ec2Simulation } from "./simulation.ts";
import type { Ec2Filters } from "./types.ts";

function ids(sim: Ec2Simulation, filters: Ec2Filters): string[] {
  return sim.describeNetworkInterfaces({ filters }).networkInterfaces.map((eni) => eni.networkInterfaceId);
}

Deno.test("Ec2Simulation.describeNetworkInterfaces() pages with MaxResults and NextToken, even across deletions", () => {
  const { sim } = simFixture();
  const created = Array.from(
    { length: 12 },
    () => sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId,
  );
  const first = sim.describeNetworkInterfaces({ maxResults: 5 });
  assert.deepEqual(first.networkInterfaces.map((eni) => eni.networkInterfaceId), created.slice(0, 5));
  assert.ok(first.nextToken !== undefined);
  sim.deleteNetworkInterface({ networkInterfaceId: created[5]! });
  const second = sim.describeNetworkInterfaces({ maxResults: 5, nextToken: first.nextToken });
  assert.deepEqual(second.networkInterfaces.map((eni) => eni.networkInterfaceId), created.slice(6, 11));
  const third = sim.describeNetworkInterfaces({
    maxResults: 5,
    ...(second.nextToken ? { nextToken: second.nextToken } : {}),
  });
  assert.deepEqual(third.networkInterfaces.map((eni) => eni.networkInterfaceId), created.slice(11));
  assert.equal(third.nextToken, undefined);
  assert.equal(sim.describeNetworkInterfaces().networkInterfaces.length, 11);
  assert.equal(sim.describeNetworkInterfaces({ maxResults: 11 }).nextToken, undefined);
});

Deno.test("Ec2Simulation.describeNetworkInterfaces() checks MaxResults, NextToken and ids as EC2 does", () => {
  const { sim } = simFixture();
  const eniId = sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId;
  assertEc2Error(() => sim.describeNetworkInterfaces({ maxResults: 4 }), "InvalidParameterValue");
  assertEc2Error(() => sim.describeNetworkInterfaces({ maxResults: 1001 }), "InvalidParameterValue");
  assertEc2Error(() => sim.describeNetworkInterfaces({ nextToken: "nope" }), "InvalidPaginationToken");
  assertEc2Error(
    () => sim.describeNetworkInterfaces({ networkInterfaceIds: [eniId], maxResults: 5 }),
    "InvalidParameterCombination",
  );
  assertEc2Error(
    () => sim.describeNetworkInterfaces({ networkInterfaceIds: [eniId, "eni-404"] }),
    "InvalidNetworkInterfaceID.NotFound",
  );
  assertEc2Error(
    () => sim.describeNetworkInterfaces({ filters: { "colour": ["red"] } }),
    "InvalidParameterValue",
  );
  assertEc2Error(() => sim.describeNetworkInterfaces({ filters: { "status": [] } }), "MissingParameter");
});

Deno.test("Ec2Simulation.describeNetworkInterfaces() filters as the leaked-ENI scan and reconcile use them", () => {
  const { sim } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const mine = sim.createNetworkInterface({
    subnetId: "subnet-a",
    description: `aws-K8S-${node.instanceId}`,
    tags: [{ key: "node.k8s.amazonaws.com/instance_id", value: node.instanceId }],
  }).networkInterface.networkInterfaceId;
  const theirs = sim.createNetworkInterface({
    subnetId: "subnet-c",
    description: "aws-K8S-i-0other",
    tags: [{ key: "node.k8s.amazonaws.com/instance_id", value: "i-0other" }],
  }).networkInterface.networkInterfaceId;
  const untagged =
    sim.createNetworkInterface({ subnetId: "subnet-a", description: "manual" }).networkInterface
      .networkInterfaceId;
  sim.attachNetworkInterface({ networkInterfaceId: mine, instanceId: node.instanceId, deviceIndex: 1 });

  assert.deepEqual(ids(sim, { "tag-key": ["node.k8s.amazonaws.com/instance_id"] }), [mine, theirs]);
  assert.deepEqual(ids(sim, { "tag:node.k8s.amazonaws.com/instance_id": ["i-0other"] }), [theirs]);
  assert.deepEqual(ids(sim, { "status": ["available"] }), [theirs, untagged]);
  assert.deepEqual(ids(sim, { "status": ["attaching", "in-use"] }), [node.networkInterfaceId, mine]);
  assert.deepEqual(ids(sim, { "vpc-id": [sim.vpcId] }).length, 4);
  assert.deepEqual(ids(sim, { "vpc-id": ["vpc-other"] }), []);
  assert.deepEqual(ids(sim, { "attachment.instance-id": [node.instanceId] }), [
    node.networkInterfaceId,
    mine,
  ]);
  assert.deepEqual(ids(sim, { "subnet-id": ["subnet-c"] }), [theirs]);
  assert.deepEqual(ids(sim, { "description": ["aws-K8S-*"] }), [mine, theirs]);
  assert.deepEqual(
    ids(sim, {
      "tag-key": ["node.k8s.amazonaws.com/instance_id"],
      "status": ["available"],
      "vpc-id": [sim.vpcId],
    }),
    [theirs],
    "the leaked-ENI scan's filters are ANDed",
  );
});

Deno.test("Ec2Simulation.describeSubnets() reports AvailableIpAddressCount as addresses are taken", () => {
  const { sim } = simFixture();
  const before = sim.describeSubnets().subnets;
  assert.deepEqual(before.map((s) => [s.subnetId, s.availableIpAddressCount, s.cidrBlock]), [
    ["subnet-a", 251, "10.0.1.0/24"],
    ["subnet-b", 11, "10.0.2.0/28"],
    ["subnet-c", 251, "10.0.3.0/24"],
  ]);
  sim.createNetworkInterface({ subnetId: "subnet-a", ipv4PrefixCount: 1, secondaryPrivateIpAddressCount: 0 });
  const after = sim.describeSubnets({ filters: { "availability-zone": ["us-east-1a"] } }).subnets;
  assert.deepEqual(after.map((s) => [s.subnetId, s.availableIpAddressCount]), [["subnet-a", 234], [
    "subnet-b",
    11,
  ]]);
  assert.equal(after[0]?.vpcId, sim.vpcId);
  assertEc2Error(() => sim.describeSubnets({ subnetIds: ["subnet-x"] }), "InvalidSubnetID.NotFound");
});

Deno.test("Ec2Simulation.describeInstanceTypes() answers for registered types only", () => {
  const { sim } = simFixture();
  sim.registerInstanceType({ instanceType: "t3.medium", maxEnis: 3, ipv4PerEni: 6, hypervisor: "nitro" });
  const types = sim.describeInstanceTypes({ instanceTypes: ["t3.medium"] }).instanceTypes;
  assert.deepEqual(types, [{
    instanceType: "t3.medium",
    hypervisor: "nitro",
    bareMetal: false,
    networkInfo: {
      maximumNetworkInterfaces: 3,
      maximumNetworkCards: 1,
      defaultNetworkCardIndex: 0,
      ipv4AddressesPerInterface: 6,
    },
  }]);
  assert.deepEqual(sim.describeInstanceTypes().instanceTypes.map((t) => t.instanceType), [
    "m5.large",
    "t3.medium",
  ]);
  assertEc2Error(() => sim.describeInstanceTypes({ instanceTypes: ["x9.huge"] }), "InvalidInstanceType");
  assert.throws(
    () => sim.registerInstanceType({ instanceType: "t3.medium", maxEnis: 4, ipv4PerEni: 6 }),
    RangeError,
  );
});

Deno.test("Ec2Simulation.describeInstances() lists each instance's ENIs by device index", () => {
  const { sim } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-c" });
  const eniId = sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId;
  sim.attachNetworkInterface({ networkInterfaceId: eniId, instanceId: node.instanceId, deviceIndex: 2 });
  const result = sim.describeInstances({ filters: { "subnet-id": ["subnet-a"] } });
  assert.equal(result.reservations.length, 1);
  const instance = result.reservations[0]?.instances[0];
  assert.deepEqual(
    instance?.networkInterfaces.map((eni) => [eni.networkInterfaceId, eni.attachment?.deviceIndex]),
    [[node.networkInterfaceId, 0], [eniId, 2]],
  );
  assert.equal(instance?.placement.availabilityZone, "us-east-1a");
  assert.equal(sim.describeInstances().reservations.length, 2);
  assertEc2Error(() => sim.describeInstances({ instanceIds: ["i-404"] }), "InvalidInstanceID.NotFound");
});
