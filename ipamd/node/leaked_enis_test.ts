import assert from "node:assert/strict";
import { silentLogger } from "../../shared/log.ts";
import { type SdkFixture, sdkFixture } from "../../testing/ec2_sdk_fixture.ts";
import { LeakedEniCleaner } from "./leaked_enis.ts";

function leftover(fx: SdkFixture, tags: Record<string, string>, description = "aws-K8S-i-0dead"): string {
  return fx.sim.createNetworkInterface({
    subnetId: "subnet-a",
    description,
    secondaryPrivateIpAddressCount: 1,
    tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
  }).networkInterface.networkInterfaceId;
}

function cleaner(fx: SdkFixture, clusterName = ""): LeakedEniCleaner {
  return new LeakedEniCleaner({
    directory: fx.directory,
    vpcId: fx.sim.vpcId,
    clusterName,
    clock: fx.clock,
    log: silentLogger,
  });
}

const INSTANCE = "node.k8s.amazonaws.com/instance_id";
const CREATED = "node.k8s.amazonaws.com/createdAt";

Deno.test("LeakedEniCleaner.sweep() deletes our available ENIs older than 5 minutes and nothing else", async () => {
  await using fx = await sdkFixture();
  const old = leftover(fx, { [INSTANCE]: "i-0dead", [CREATED]: "2023-12-31T23:50:00Z" });
  const young = leftover(fx, { [INSTANCE]: "i-0dead", [CREATED]: "2023-12-31T23:58:00Z" });
  const foreign = leftover(fx, { [CREATED]: "2023-12-31T23:50:00Z" });
  const described = leftover(
    fx,
    { [INSTANCE]: "i-0dead", [CREATED]: "2023-12-31T23:50:00Z" },
    "someone else's",
  );
  const attached = await fx.port.createEni({ count: 1, prefixes: false });
  const free = () =>
    fx.sim.describeSubnets({ subnetIds: ["subnet-a"] }).subnets[0]?.availableIpAddressCount ?? 0;
  const freeBefore = free();
  const sweep = await cleaner(fx).sweep();
  assert.deepEqual(sweep, { deleted: [old], tagged: [], young: [young], failed: [] });
  const left = fx.sim.exportState().networkInterfaces.map((eni) => eni.networkInterfaceId);
  assert.deepEqual(left.sort(), [fx.primaryEniId, young, foreign, described, attached.eniId].sort());
  assert.equal(free() - freeBefore, 2, "its two addresses went back to the subnet");
});

Deno.test("LeakedEniCleaner.sweep() tags a leftover without createdAt now and deletes it once it is old enough", async () => {
  await using fx = await sdkFixture();
  const eniId = leftover(fx, { [INSTANCE]: "i-0dead" });
  const sweeper = cleaner(fx);
  assert.deepEqual((await sweeper.sweep()).tagged, [eniId]);
  const [record] = await fx.requests.describeEnis([eniId]);
  assert.equal(record?.tags[CREATED], "2024-01-01T00:00:00Z");
  fx.clock.advance(4 * 60_000);
  assert.deepEqual((await sweeper.sweep()).young, [eniId]);
  fx.clock.advance(60_000);
  assert.deepEqual((await sweeper.sweep()).deleted, [eniId]);
});

Deno.test("LeakedEniCleaner.sweep() with CLUSTER_NAME looks only at that cluster's leftovers", async () => {
  await using fx = await sdkFixture();
  const ours = leftover(fx, {
    [INSTANCE]: "i-0dead",
    [CREATED]: "2023-12-31T00:00:00Z",
    "cluster.k8s.amazonaws.com/name": "prod",
  });
  leftover(fx, {
    [INSTANCE]: "i-0dead",
    [CREATED]: "2023-12-31T00:00:00Z",
    "cluster.k8s.amazonaws.com/name": "dev",
  });
  const sweeper = cleaner(fx, "prod");
  assert.deepEqual(sweeper.filters["tag:cluster.k8s.amazonaws.com/name"], ["prod"]);
  assert.deepEqual((await sweeper.sweep()).deleted, [ours]);
});

Deno.test("LeakedEniCleaner.sweep() goes on after one delete fails", async () => {
  await using fx = await sdkFixture({ budget: { maxRetries: 0 } });
  const first = leftover(fx, { [INSTANCE]: "i-0dead", [CREATED]: "2023-12-31T00:00:00Z" });
  const second = leftover(fx, { [INSTANCE]: "i-0dead", [CREATED]: "2023-12-31T00:00:00Z" });
  fx.sim.knobs.failNext("DeleteNetworkInterface", { code: "UnauthorizedOperation" });
  const sweep = await cleaner(fx).sweep();
  assert.deepEqual([sweep.failed, sweep.deleted], [[first], [second]]);
});
