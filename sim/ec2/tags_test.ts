import assert from "node:assert/strict";
import { assertEc2Error, simFixture } from "../../testing/ec2_sim_fixture.ts";

Deno.test("Ec2Simulation.createTags() tags ENIs, instances and subnets, or nothing if one is unknown", () => {
  const { sim } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const tag = { key: "cluster", value: "blue" };
  assertEc2Error(
    () => sim.createTags({ resources: [node.networkInterfaceId, "eni-404"], tags: [tag] }),
    "InvalidNetworkInterfaceID.NotFound",
  );
  assertEc2Error(() => sim.createTags({ resources: ["vol-1"], tags: [tag] }), "InvalidID");
  assertEc2Error(() => sim.createTags({ resources: [node.instanceId], tags: [] }), "MissingParameter");
  assert.deepEqual(
    sim.describeNetworkInterfaces({ filters: { "tag-key": ["cluster"] } }).networkInterfaces,
    [],
  );
  sim.createTags({ resources: [node.networkInterfaceId, node.instanceId, "subnet-a"], tags: [tag] });
  sim.createTags({ resources: [node.networkInterfaceId], tags: [{ key: "cluster", value: "green" }] });
  const eni = sim.describeNetworkInterfaces({ filters: { "tag-key": ["cluster"] } }).networkInterfaces;
  assert.deepEqual(eni.map((e) => e.tagSet), [[{ key: "cluster", value: "green" }]]);
  assert.equal(sim.describeInstances({ filters: { "tag:cluster": ["blue"] } }).reservations.length, 1);
  assert.deepEqual(
    sim.describeSubnets({ filters: { "tag:cluster": ["blue"] } }).subnets.map((s) => s.subnetId),
    [
      "subnet-a",
    ],
  );
});
