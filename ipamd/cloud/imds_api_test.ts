import assert from "node:assert/strict";
import { sdkFixture } from "../../testing/ec2_sdk_fixture.ts";
import { waitForImdsEni } from "./imds_api.ts";

Deno.test("HttpImdsApi.instance() reads the instance, its region and its primary MAC", async () => {
  await using fx = await sdkFixture();
  const instance = await fx.imds.instance();
  assert.deepEqual(instance, {
    instanceId: fx.instanceId,
    instanceType: "m5.large",
    region: "us-east-1",
    availabilityZone: "us-east-1a",
    primaryMac: fx.primaryMac,
    localIpv4: "10.0.1.4",
  });
});

Deno.test("HttpImdsApi.enis() reads every per-MAC key of each attached ENI, by device number", async () => {
  await using fx = await sdkFixture();
  const created = await fx.port.createEni({ count: 1, prefixes: true });
  await fx.port.assignAddresses(fx.primaryEniId, { count: 2, prefixes: false });
  const enis = await fx.imds.enis();
  assert.deepEqual(enis, [
    {
      mac: fx.primaryMac,
      eniId: fx.primaryEniId,
      deviceNumber: 0,
      networkCard: 0,
      subnetId: "subnet-a",
      subnetCidr: "10.0.1.0/24",
      vpcId: fx.sim.vpcId,
      vpcCidrs: ["10.0.0.0/16"],
      securityGroupIds: ["sg-node"],
      primaryIp: "10.0.1.4",
      cidrs: ["10.0.1.6/32", "10.0.1.7/32"],
    },
    {
      mac: created.mac,
      eniId: created.eniId,
      deviceNumber: 1,
      networkCard: 0,
      subnetId: "subnet-a",
      subnetCidr: "10.0.1.0/24",
      vpcId: fx.sim.vpcId,
      vpcCidrs: ["10.0.0.0/16"],
      securityGroupIds: ["sg-node"],
      primaryIp: "10.0.1.5",
      cidrs: ["10.0.1.16/28"],
    },
  ]);
  assert.equal(await fx.imds.eni("02:00:00:00:00:99"), null);
});

Deno.test("waitForImdsEni() looks with back-off until the ENI and its addresses show", async () => {
  await using fx = await sdkFixture({ emulator: { imdsLagMs: 3_000 } });
  const eniId = fx.sim.createNetworkInterface({ subnetId: "subnet-a", secondaryPrivateIpAddressCount: 2 })
    .networkInterface.networkInterfaceId;
  const mac =
    fx.sim.describeNetworkInterfaces({ networkInterfaceIds: [eniId] }).networkInterfaces[0]!.macAddress;
  fx.sim.attachNetworkInterface({ networkInterfaceId: eniId, instanceId: fx.instanceId, deviceIndex: 1 });
  const options = { timeoutMs: 60_000, clock: fx.clock, sleep: fx.sleep };
  const seen = await waitForImdsEni(fx.imds, { mac, minIps: 2, minPrefixes: 0 }, options);
  assert.equal(seen.complete, true);
  assert.equal(seen.eni?.eniId, eniId);
  assert.ok(
    seen.waitedMs >= 5_000 && seen.waitedMs < 7_500,
    `attach 2 s + lag 3 s, waited ${seen.waitedMs} ms`,
  );
  fx.sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 1 });
  const partial = await waitForImdsEni(fx.imds, { mac, minIps: 4, minPrefixes: 0 }, {
    ...options,
    timeoutMs: 10_000,
  });
  assert.equal(partial.complete, false, "a fourth address never comes");
  assert.equal(partial.eni?.cidrs.length, 3);
  assert.equal(partial.waitedMs, 10_000);
  const never = await waitForImdsEni(fx.imds, { mac: "02:00:00:00:00:99", minIps: 0, minPrefixes: 0 }, {
    ...options,
    timeoutMs: 1_000,
  });
  assert.deepEqual([never.eni, never.complete], [null, false]);
});
