import {
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  UnassignPrivateIpAddressesCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { assertServiceError, emulatorFixture, sdkError } from "../../testing/emulator_fixture.ts";

Deno.test("CreateNetworkInterface creates an ENI with secondary IPs, groups and tags", async () => {
  await using fx = await emulatorFixture();
  const out = await fx.ec2.send(
    new CreateNetworkInterfaceCommand({
      SubnetId: "subnet-a",
      Description: "aws-K8S-i-1",
      Groups: ["sg-0aa", "sg-0bb"],
      SecondaryPrivateIpAddressCount: 2,
      TagSpecifications: [{
        ResourceType: "network-interface",
        Tags: [{ Key: "node.k8s.amazonaws.com/instance_id", Value: fx.instanceId }],
      }],
    }),
  );
  const eni = out.NetworkInterface!;
  assert.match(eni.NetworkInterfaceId ?? "", /^eni-0[0-9a-f]{16}$/);
  assert.equal(eni.SubnetId, "subnet-a");
  assert.equal(eni.VpcId, fx.sim.vpcId);
  assert.equal(eni.AvailabilityZone, "us-east-1a");
  assert.equal(eni.Description, "aws-K8S-i-1");
  assert.equal(eni.Status, "available");
  assert.equal(eni.InterfaceType, "interface");
  assert.equal(eni.SourceDestCheck, true);
  assert.equal(eni.RequesterManaged, false);
  assert.match(eni.MacAddress ?? "", /^02(:[0-9a-f]{2}){5}$/);
  assert.deepEqual(eni.Groups?.map((group) => group.GroupId), ["sg-0aa", "sg-0bb"]);
  assert.deepEqual(eni.TagSet, [{ Key: "node.k8s.amazonaws.com/instance_id", Value: fx.instanceId }]);
  assert.equal(eni.PrivateIpAddresses?.length, 3);
  assert.equal(eni.PrivateIpAddresses?.[0]?.Primary, true);
  assert.equal(eni.PrivateIpAddresses?.[0]?.PrivateIpAddress, eni.PrivateIpAddress);
  assert.equal(eni.PrivateIpAddresses?.[1]?.Primary, false);
  assert.deepEqual(eni.Ipv4Prefixes ?? [], []);
  assert.equal(eni.Attachment, undefined);
  assert.match(out.$metadata.requestId ?? "", /^[0-9a-f-]{36}$/);
  assert.equal(out.$metadata.httpStatusCode, 200);
});

Deno.test("CreateNetworkInterface with Ipv4PrefixCount returns the /28 prefixes", async () => {
  await using fx = await emulatorFixture();
  const out = await fx.ec2.send(
    new CreateNetworkInterfaceCommand({ SubnetId: "subnet-a", Ipv4PrefixCount: 2 }),
  );
  const prefixes = out.NetworkInterface?.Ipv4Prefixes?.map((prefix) => prefix.Ipv4Prefix) ?? [];
  assert.equal(prefixes.length, 2);
  for (const prefix of prefixes) assert.match(prefix ?? "", /^10\.0\.1\.\d+\/28$/);
  assert.equal(out.NetworkInterface?.PrivateIpAddresses?.length, 1);
});

Deno.test("CreateNetworkInterface with a repeated ClientToken returns the same ENI", async () => {
  await using fx = await emulatorFixture();
  const request = { SubnetId: "subnet-a", ClientToken: "token-1" };
  const first = await fx.ec2.send(new CreateNetworkInterfaceCommand(request));
  const second = await fx.ec2.send(new CreateNetworkInterfaceCommand(request));
  assert.equal(second.NetworkInterface?.NetworkInterfaceId, first.NetworkInterface?.NetworkInterfaceId);
  assert.notEqual(second.$metadata.requestId, first.$metadata.requestId);
  assert.equal(fx.sim.describeNetworkInterfaces().networkInterfaces.length, 2);
  const mismatch = await sdkError(
    fx.ec2.send(new CreateNetworkInterfaceCommand({ ...request, Description: "other" })),
  );
  assertServiceError(mismatch, "IdempotentParameterMismatch", 400);
});

Deno.test("Attach, modify, detach and delete an ENI over the wire", async () => {
  await using fx = await emulatorFixture();
  const created = await fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: "subnet-a" }));
  const eniId = created.NetworkInterface!.NetworkInterfaceId!;
  const attached = await fx.ec2.send(
    new AttachNetworkInterfaceCommand({
      NetworkInterfaceId: eniId,
      InstanceId: fx.instanceId,
      DeviceIndex: 1,
    }),
  );
  assert.match(attached.AttachmentId ?? "", /^eni-attach-0/);
  assert.equal(attached.NetworkCardIndex, 0);
  const describe = async () =>
    (await fx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] })))
      .NetworkInterfaces![0]!;
  let eni = await describe();
  assert.equal(eni.Status, "attaching");
  assert.equal(eni.Attachment?.Status, "attaching");
  assert.equal(eni.Attachment?.InstanceId, fx.instanceId);
  assert.equal(eni.Attachment?.DeviceIndex, 1);
  assert.ok(eni.Attachment?.AttachTime instanceof Date);
  fx.clock.advance(2000);
  eni = await describe();
  assert.equal(eni.Status, "in-use");
  assert.equal(eni.Attachment?.Status, "attached");
  assert.equal(eni.Attachment?.DeleteOnTermination, false);

  await fx.ec2.send(
    new ModifyNetworkInterfaceAttributeCommand({
      NetworkInterfaceId: eniId,
      Attachment: { AttachmentId: attached.AttachmentId, DeleteOnTermination: true },
    }),
  );
  await fx.ec2.send(
    new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: ["sg-0cc"] }),
  );
  await fx.ec2.send(
    new ModifyNetworkInterfaceAttributeCommand({
      NetworkInterfaceId: eniId,
      Description: { Value: "x & <y>" },
    }),
  );
  await fx.ec2.send(
    new ModifyNetworkInterfaceAttributeCommand({
      NetworkInterfaceId: eniId,
      SourceDestCheck: { Value: false },
    }),
  );
  eni = await describe();
  assert.equal(eni.Attachment?.DeleteOnTermination, true);
  assert.deepEqual(eni.Groups?.map((group) => group.GroupId), ["sg-0cc"]);
  assert.equal(eni.Description, "x & <y>");
  assert.equal(eni.SourceDestCheck, false);

  const detached = await fx.ec2.send(
    new DetachNetworkInterfaceCommand({ AttachmentId: attached.AttachmentId }),
  );
  assert.equal(detached.$metadata.httpStatusCode, 200);
  assert.equal((await describe()).Status, "detaching");
  fx.clock.advance(3000);
  eni = await describe();
  assert.equal(eni.Status, "available");
  assert.equal(eni.Attachment, undefined);
  await fx.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eniId }));
  const gone = await sdkError(
    fx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] })),
  );
  assertServiceError(gone, "InvalidNetworkInterfaceID.NotFound", 400);
});

Deno.test("AssignPrivateIpAddresses by count and by prefix count, then UnassignPrivateIpAddresses", async () => {
  await using fx = await emulatorFixture();
  const eniId = fx.primaryEniId;
  const ips = await fx.ec2.send(
    new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 3 }),
  );
  assert.equal(ips.NetworkInterfaceId, eniId);
  const assigned = ips.AssignedPrivateIpAddresses?.map((address) => address.PrivateIpAddress!) ?? [];
  assert.equal(assigned.length, 3);
  assert.deepEqual(ips.AssignedIpv4Prefixes ?? [], []);
  const prefixes = await fx.ec2.send(
    new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4PrefixCount: 2 }),
  );
  const assignedPrefixes = prefixes.AssignedIpv4Prefixes?.map((prefix) => prefix.Ipv4Prefix!) ?? [];
  assert.equal(assignedPrefixes.length, 2);
  const explicit = await fx.ec2.send(
    new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, PrivateIpAddresses: ["10.0.1.200"] }),
  );
  assert.deepEqual(explicit.AssignedPrivateIpAddresses, [{ PrivateIpAddress: "10.0.1.200" }]);

  let eni = fx.sim.describeNetworkInterfaces({ networkInterfaceIds: [eniId] }).networkInterfaces[0]!;
  assert.deepEqual(
    eni.privateIpAddresses.slice(1).map((address) => address.privateIpAddress),
    [...assigned, "10.0.1.200"],
  );
  assert.deepEqual(eni.ipv4Prefixes.map((prefix) => prefix.ipv4Prefix), assignedPrefixes);

  await fx.ec2.send(
    new UnassignPrivateIpAddressesCommand({
      NetworkInterfaceId: eniId,
      PrivateIpAddresses: [assigned[0]!, "10.0.1.200"],
    }),
  );
  await fx.ec2.send(
    new UnassignPrivateIpAddressesCommand({
      NetworkInterfaceId: eniId,
      Ipv4Prefixes: [assignedPrefixes[1]!],
    }),
  );
  eni = fx.sim.describeNetworkInterfaces({ networkInterfaceIds: [eniId] }).networkInterfaces[0]!;
  assert.deepEqual(
    eni.privateIpAddresses.slice(1).map((address) => address.privateIpAddress),
    assigned.slice(1),
  );
  assert.deepEqual(eni.ipv4Prefixes.map((prefix) => prefix.ipv4Prefix), [assignedPrefixes[0]]);
});
