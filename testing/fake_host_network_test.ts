import assert from "node:assert/strict";
import { LinkNotFoundError } from "../shared/ip_cmd.ts";
import { FakeHostNetwork } from "./fake_host_network.ts";

const ENI1 = { mac: "02:00:00:00:00:11", primaryIp: "10.0.1.5", subnetCidr: "10.0.1.0/24", deviceNumber: 1 };
const ENI2 = { mac: "02:00:00:00:00:12", primaryIp: "10.0.2.5", subnetCidr: "10.0.2.0/24", deviceNumber: 2 };

Deno.test("FakeHostNetwork keeps the configured ENIs and drops them on teardown and sync", async () => {
  const host = new FakeHostNetwork();
  await host.setupEni(ENI1);
  await host.setupEni(ENI1);
  await host.setupEni(ENI2);
  assert.deepEqual([...host.enis.keys()], [1, 2]);
  await host.teardownEni({ deviceNumber: 1, primaryIp: ENI1.primaryIp });
  assert.deepEqual([...host.enis.keys()], [2]);
  assert.deepEqual(await host.syncEnis([ENI1]), []);
  assert.deepEqual([...host.enis.keys()], [1]);
});

Deno.test("FakeHostNetwork fails ENIs without a link and injected calls", async () => {
  const host = new FakeHostNetwork();
  host.links = new Map([[ENI1.mac, "eth1"]]);
  assert.equal(await host.linkByMac("02:00:00:00:00:11"), "eth1");
  await assert.rejects(() => host.setupEni(ENI2), LinkNotFoundError);
  host.failWhen = (op) => op === "setupHost" ? new Error("boom") : undefined;
  const failures = await host.syncEnis([ENI1, ENI2]);
  assert.deepEqual(failures.map((f) => f.deviceNumber), [2]);
  await assert.rejects(
    () =>
      host.setupHost({
        primaryIf: "eth0",
        primaryIp: "10.0.0.5",
        vpcCidrs: [],
        excludeSnatCidrs: [],
        externalSnat: false,
        randomizeSnat: "prng",
        nodePortSupport: true,
        connmark: 0x80,
        vethPrefix: "eni",
        eniMtu: 9001,
      }),
    /boom/,
  );
  assert.equal(host.host, null);
});
