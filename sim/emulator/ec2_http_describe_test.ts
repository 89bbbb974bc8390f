import {
  CreateNetworkInterfaceCommand,
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  paginateDescribeNetworkInterfaces,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { assertServiceError, emulatorFixture, sdkError } from "../../testing/emulator_fixture.ts";

Deno.test("DescribeInstances shows the instance, its placement and its ENIs", async () => {
  await using fx = await emulatorFixture();
  const out = await fx.ec2.send(new DescribeInstancesCommand({ InstanceIds: [fx.instanceId] }));
  assert.equal(out.Reservations?.length, 1);
  const reservation = out.Reservations![0]!;
  assert.match(reservation.ReservationId ?? "", /^r-0/);
  assert.match(reservation.OwnerId ?? "", /^\d{12}$/);
  const instance = reservation.Instances![0]!;
  assert.equal(instance.InstanceId, fx.instanceId);
  assert.equal(instance.InstanceType, "m5.large");
  assert.deepEqual(instance.State, { Code: 16, Name: "running" });
  assert.equal(instance.Placement?.AvailabilityZone, "us-east-1a");
  assert.equal(instance.SubnetId, "subnet-a");
  assert.equal(instance.VpcId, fx.sim.vpcId);
  assert.ok(instance.LaunchTime instanceof Date);
  assert.equal(instance.LaunchTime.getTime(), fx.clock.now());
  assert.equal(instance.SecurityGroups?.length, 1);
  const [eth0] = instance.NetworkInterfaces ?? [];
  assert.equal(eth0?.NetworkInterfaceId, fx.primaryEniId);
  assert.equal(eth0?.Attachment?.DeviceIndex, 0);
  assert.equal(eth0?.Attachment?.NetworkCardIndex, 0);
  assert.equal(eth0?.Attachment?.Status, "attached");
  assert.equal(eth0?.Attachment?.DeleteOnTermination, true);
  assert.equal(eth0?.PrivateIpAddress, instance.PrivateIpAddress);
  assert.equal(eth0?.PrivateIpAddresses?.[0]?.Primary, true);

  const filtered = await fx.ec2.send(
    new DescribeInstancesCommand({ Filters: [{ Name: "instance-type", Values: ["t3.*"] }] }),
  );
  assert.deepEqual(filtered.Reservations, []);
});

Deno.test("DescribeInstances pages with MaxResults and NextToken", async () => {
  await using fx = await emulatorFixture();
  for (let i = 0; i < 6; i++) fx.sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-c" });
  const first = await fx.ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }));
  assert.equal(first.Reservations?.length, 5);
  assert.ok(first.NextToken);
  const second = await fx.ec2.send(
    new DescribeInstancesCommand({ MaxResults: 5, NextToken: first.NextToken }),
  );
  assert.equal(second.Reservations?.length, 2);
  assert.equal(second.NextToken, undefined);
});

Deno.test("DescribeNetworkInterfaces filters by attachment, tag and status", async () => {
  await using fx = await emulatorFixture();
  for (const subnetId of ["subnet-a", "subnet-c"]) {
    await fx.ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: subnetId,
        TagSpecifications: [{ ResourceType: "network-interface", Tags: [{ Key: "owner", Value: subnetId }] }],
      }),
    );
  }
  const ids = async (filters: { Name: string; Values: string[] }[]) =>
    ((await fx.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: filters }))).NetworkInterfaces ?? [])
      .map((eni) => eni.SubnetId);
  assert.deepEqual(await ids([{ Name: "attachment.instance-id", Values: [fx.instanceId] }]), ["subnet-a"]);
  assert.deepEqual(await ids([{ Name: "tag-key", Values: ["owner"] }]), ["subnet-a", "subnet-c"]);
  assert.deepEqual(await ids([{ Name: "tag:owner", Values: ["subnet-c", "nope"] }]), ["subnet-c"]);
  assert.deepEqual(
    await ids([{ Name: "status", Values: ["available"] }, { Name: "subnet-id", Values: ["subnet-a"] }]),
    ["subnet-a"],
  );
  assert.deepEqual(await ids([{ Name: "description", Values: ["nothing*"] }]), []);
  const bad = await sdkError(
    fx.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "bogus", Values: ["x"] }] })),
  );
  assertServiceError(bad, "InvalidParameterValue", 400);
});

Deno.test("DescribeNetworkInterfaces pages through every ENI with the SDK paginator", async () => {
  await using fx = await emulatorFixture();
  for (let i = 0; i < 11; i++) {
    await fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: "subnet-c" }));
  }
  const pages: number[] = [];
  const seen: string[] = [];
  for await (const page of paginateDescribeNetworkInterfaces({ client: fx.ec2, pageSize: 5 }, {})) {
    pages.push(page.NetworkInterfaces?.length ?? 0);
    seen.push(...(page.NetworkInterfaces ?? []).map((eni) => eni.NetworkInterfaceId!));
  }
  assert.deepEqual(pages, [5, 5, 2]);
  assert.equal(new Set(seen).size, 12);
  const bad = await sdkError(
    fx.ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5, NextToken: "bogus" })),
  );
  assertServiceError(bad, "InvalidPaginationToken", 400);
});

Deno.test("DescribeInstanceTypes reports the network limits", async () => {
  await using fx = await emulatorFixture();
  const out = await fx.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ["m5.large"] }));
  const [type] = out.InstanceTypes ?? [];
  assert.equal(type?.InstanceType, "m5.large");
  assert.equal(type?.Hypervisor, "nitro");
  assert.equal(type?.BareMetal, false);
  assert.equal(type?.NetworkInfo?.MaximumNetworkInterfaces, 3);
  assert.equal(type?.NetworkInfo?.Ipv4AddressesPerInterface, 10);
  assert.equal(type?.NetworkInfo?.MaximumNetworkCards, 1);
  assert.equal(type?.NetworkInfo?.DefaultNetworkCardIndex, 0);
  assert.deepEqual(type?.NetworkInfo?.NetworkCards, [{ NetworkCardIndex: 0, MaximumNetworkInterfaces: 3 }]);
  const unknown = await sdkError(
    fx.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ["m5.xlarge"] })),
  );
  assertServiceError(unknown, "InvalidInstanceType", 400);
});

Deno.test("DescribeSubnets filters and counts free addresses", async () => {
  await using fx = await emulatorFixture();
  const out = await fx.ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: "availability-zone", Values: ["us-east-1a"] }] }),
  );
  assert.deepEqual(out.Subnets?.map((subnet) => subnet.SubnetId), ["subnet-a", "subnet-b"]);
  const a = out.Subnets![0]!;
  assert.equal(a.CidrBlock, "10.0.1.0/24");
  assert.equal(a.VpcId, fx.sim.vpcId);
  assert.equal(a.State, "available");
  assert.equal(a.AvailableIpAddressCount, 256 - 5 - 1);
  assert.deepEqual(a.Tags ?? [], []);
  const byId = await fx.ec2.send(new DescribeSubnetsCommand({ SubnetIds: ["subnet-c"] }));
  assert.equal(byId.Subnets?.[0]?.AvailabilityZone, "us-east-1b");
  const missing = await sdkError(fx.ec2.send(new DescribeSubnetsCommand({ SubnetIds: ["subnet-zz"] })));
  assertServiceError(missing, "InvalidSubnetID.NotFound", 400);
});

Deno.test("CreateTags tags ENIs and subnets", async () => {
  await using fx = await emulatorFixture();
  await fx.ec2.send(
    new CreateTagsCommand({
      Resources: [fx.primaryEniId, "subnet-b"],
      Tags: [{ Key: "kubernetes.io/role/cni", Value: "1" }, { Key: "empty", Value: "" }],
    }),
  );
  const enis = await fx.ec2.send(
    new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [fx.primaryEniId] }),
  );
  assert.deepEqual(enis.NetworkInterfaces?.[0]?.TagSet, [
    { Key: "kubernetes.io/role/cni", Value: "1" },
    { Key: "empty", Value: "" },
  ]);
  const subnets = await fx.ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: "tag:kubernetes.io/role/cni", Values: ["1"] }] }),
  );
  assert.deepEqual(subnets.Subnets?.map((subnet) => subnet.SubnetId), ["subnet-b"]);
  const reserved = await sdkError(
    fx.ec2.send(
      new CreateTagsCommand({ Resources: [fx.primaryEniId], Tags: [{ Key: "aws:x", Value: "1" }] }),
    ),
  );
  assertServiceError(reserved, "InvalidParameterValue", 400);
});

Deno.test("the SDK's round trip to the emulator takes a few milliseconds", async () => {
  await using fx = await emulatorFixture();
  const command = new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [fx.primaryEniId] });
  await fx.ec2.send(command);
  const samples: number[] = [];
  for (let i = 0; i < 50; i++) {
    const started = performance.now();
    await fx.ec2.send(command);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  assert.ok(samples[25]! < 50, `median ${samples[25]} ms`);
});
