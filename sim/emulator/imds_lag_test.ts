import {
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DetachNetworkInterfaceCommand,
  UnassignPrivateIpAddressesCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { emulatorFixture } from "../../testing/emulator_fixture.ts";

const LAG_MS = 5000;

Deno.test("IMDS shows an address change only after the visibility lag", async () => {
  await using fx = await emulatorFixture({ emulator: { imdsLagMs: LAG_MS } });
  const token = await fx.imdsToken(3600);
  const [eth0] = fx.sim.describeNetworkInterfaces().networkInterfaces;
  const path = `/latest/meta-data/network/interfaces/macs/${eth0?.macAddress}/local-ipv4s`;
  const count = async () => (await fx.imds(path, token)).body.split("\n").length;
  const assigned = await fx.ec2.send(
    new AssignPrivateIpAddressesCommand({
      NetworkInterfaceId: fx.primaryEniId,
      SecondaryPrivateIpAddressCount: 2,
    }),
  );
  assert.equal(await count(), 1);
  fx.clock.advance(LAG_MS - 1);
  assert.equal(await count(), 1);
  fx.clock.advance(1);
  assert.equal(await count(), 3);

  const released = assigned.AssignedPrivateIpAddresses![0]!.PrivateIpAddress!;
  await fx.ec2.send(
    new UnassignPrivateIpAddressesCommand({
      NetworkInterfaceId: fx.primaryEniId,
      PrivateIpAddresses: [released],
    }),
  );
  fx.clock.advance(LAG_MS / 2);
  assert.ok((await fx.imds(path, token)).body.includes(released));
  fx.clock.advance(LAG_MS / 2);
  assert.ok(!(await fx.imds(path, token)).body.includes(released));
});

Deno.test("IMDS lists an attached ENI the lag after its attach completes, and drops it after the detach", async () => {
  await using fx = await emulatorFixture({ emulator: { imdsLagMs: LAG_MS } });
  const token = await fx.imdsToken(3600);
  const created = await fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: "subnet-a" }));
  const eniId = created.NetworkInterface!.NetworkInterfaceId!;
  const mac = created.NetworkInterface!.MacAddress!;
  const listed = async () =>
    (await fx.imds("/latest/meta-data/network/interfaces/macs/", token)).body.split("\n").includes(`${mac}/`);
  const { AttachmentId } = await fx.ec2.send(
    new AttachNetworkInterfaceCommand({
      NetworkInterfaceId: eniId,
      InstanceId: fx.instanceId,
      DeviceIndex: 2,
    }),
  );
  fx.clock.advance(2000);
  assert.equal(
    fx.sim.describeNetworkInterfaces({ networkInterfaceIds: [eniId] }).networkInterfaces[0]?.status,
    "in-use",
  );
  assert.equal(await listed(), false);
  fx.clock.advance(LAG_MS - 1);
  assert.equal(await listed(), false);
  fx.clock.advance(1);
  assert.equal(await listed(), true);
  const deviceNumber = await fx.imds(`/latest/meta-data/network/interfaces/macs/${mac}/device-number`, token);
  assert.deepEqual(deviceNumber, { status: 200, body: "2" });

  await fx.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
  fx.clock.advance(3000);
  assert.equal(await listed(), true, "still listed during the lag after the detach completed");
  fx.clock.advance(LAG_MS);
  assert.equal(await listed(), false);
});
