import {
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { emulatorFixture } from "../../testing/emulator_fixture.ts";

Deno.test("IMDS issues tokens only for a TTL from 1 to 21600 seconds", async (t) => {
  await using fx = await emulatorFixture();
  const put = async (headers: Record<string, string>) => {
    const response = await fetch(`${fx.emulator.imdsEndpoint}/latest/api/token`, { method: "PUT", headers });
    return {
      status: response.status,
      ttl: response.headers.get("x-aws-ec2-metadata-token-ttl-seconds"),
      body: await response.text(),
    };
  };
  for (const ttl of ["0", "21601", "-5", "1.5", "soon"]) {
    await t.step(`TTL "${ttl}" is refused`, async () => {
      assert.equal((await put({ "x-aws-ec2-metadata-token-ttl-seconds": ttl })).status, 400);
    });
  }
  await t.step("a missing TTL is refused", async () => assert.equal((await put({})).status, 400));
  await t.step("X-Forwarded-For is forbidden", async () => {
    const answer = await put({ "x-aws-ec2-metadata-token-ttl-seconds": "60", "x-forwarded-for": "10.0.0.1" });
    assert.equal(answer.status, 403);
  });
  await t.step("a valid TTL gets a token and the TTL back", async () => {
    const answer = await put({ "x-aws-ec2-metadata-token-ttl-seconds": "21600" });
    assert.equal(answer.status, 200);
    assert.equal(answer.ttl, "21600");
    assert.match(answer.body, /^[A-Za-z0-9_-]{56}$/);
  });
});

Deno.test("IMDS GETs need a valid, unexpired token", async () => {
  await using fx = await emulatorFixture();
  assert.equal((await fx.imds("/latest/meta-data/instance-id")).status, 401);
  assert.equal((await fx.imds("/latest/meta-data/instance-id", "not-a-token")).status, 401);
  const token = await fx.imdsToken(2);
  assert.deepEqual(await fx.imds("/latest/meta-data/instance-id", token), {
    status: 200,
    body: fx.instanceId,
  });
  fx.clock.advance(1999);
  assert.equal((await fx.imds("/latest/meta-data/instance-id", token)).status, 200);
  fx.clock.advance(1);
  assert.equal((await fx.imds("/latest/meta-data/instance-id", token)).status, 401);
  const post = await fetch(`${fx.emulator.imdsEndpoint}/latest/meta-data/instance-id`, { method: "POST" });
  await post.body?.cancel();
  assert.equal(post.status, 405);
});

Deno.test("IMDSv1 GETs work only when allowed", async () => {
  await using fx = await emulatorFixture({ emulator: { allowImdsV1: true } });
  assert.deepEqual(await fx.imds("/latest/meta-data/instance-type"), { status: 200, body: "m5.large" });
  assert.equal((await fx.imds("/latest/meta-data/instance-type", "stale")).status, 401);
});

Deno.test("IMDS describes the instance and its primary ENI", async () => {
  await using fx = await emulatorFixture();
  const token = await fx.imdsToken();
  const get = async (path: string) => {
    const answer = await fx.imds(path, token);
    assert.equal(answer.status, 200, path);
    return answer.body;
  };
  const [eth0] = fx.sim.describeNetworkInterfaces().networkInterfaces;
  const meta = "/latest/meta-data";
  assert.equal(await get(`${meta}/instance-id`), fx.instanceId);
  assert.equal(await get(`${meta}/instance-type`), "m5.large");
  assert.equal(await get(`${meta}/local-ipv4`), eth0?.privateIpAddress);
  assert.equal(await get(`${meta}/mac`), eth0?.macAddress);
  assert.equal(await get(`${meta}/placement/availability-zone`), "us-east-1a");
  assert.equal(await get(`${meta}/placement/region`), "us-east-1");
  assert.equal(await get(`${meta}/placement/`), "availability-zone\nregion");
  assert.equal(await get(`${meta}/network/interfaces/macs/`), `${eth0?.macAddress}/`);
  assert.equal(await get(`${meta}/network/interfaces/macs`), `${eth0?.macAddress}/`);
  const identity = JSON.parse(await get("/latest/dynamic/instance-identity/document"));
  assert.deepEqual(
    {
      region: identity.region,
      instanceId: identity.instanceId,
      instanceType: identity.instanceType,
      availabilityZone: identity.availabilityZone,
      privateIp: identity.privateIp,
      accountId: identity.accountId,
    },
    {
      region: "us-east-1",
      instanceId: fx.instanceId,
      instanceType: "m5.large",
      availabilityZone: "us-east-1a",
      privateIp: eth0?.privateIpAddress,
      accountId: eth0?.ownerId,
    },
  );
  const mac = `${meta}/network/interfaces/macs/${eth0?.macAddress}`;
  assert.equal(await get(`${mac}/device-number`), "0");
  assert.equal(await get(`${mac}/interface-id`), fx.primaryEniId);
  assert.equal(await get(`${mac}/subnet-id`), "subnet-a");
  assert.equal(await get(`${mac}/vpc-id`), fx.sim.vpcId);
  assert.equal(await get(`${mac}/security-group-ids`), eth0?.groups[0]?.groupId);
  assert.equal(await get(`${mac}/local-ipv4s`), eth0?.privateIpAddress);
  assert.equal(await get(`${mac}/subnet-ipv4-cidr-block`), "10.0.1.0/24");
  assert.equal(await get(`${mac}/vpc-ipv4-cidr-blocks`), "10.0.0.0/16");
  assert.equal((await fx.imds(`${mac}/ipv4-prefix`, token)).status, 404);
  assert.equal((await fx.imds(`${meta}/no-such-key`, token)).status, 404);
  const listing = (await get(`${mac}/`)).split("\n");
  assert.ok(listing.includes("device-number") && listing.includes("local-ipv4s"), listing.join(","));
  assert.ok(!listing.includes("ipv4-prefix"));
  assert.ok((await get(`${meta}/`)).split("\n").includes("network/"));
});

Deno.test("IMDS follows EC2 after create, attach and assign", async () => {
  await using fx = await emulatorFixture();
  const token = await fx.imdsToken();
  const created = await fx.ec2.send(
    new CreateNetworkInterfaceCommand({
      SubnetId: "subnet-a",
      Groups: ["sg-0aa"],
      SecondaryPrivateIpAddressCount: 2,
    }),
  );
  const eniId = created.NetworkInterface!.NetworkInterfaceId!;
  const mac = created.NetworkInterface!.MacAddress!;
  await fx.ec2.send(
    new AttachNetworkInterfaceCommand({
      NetworkInterfaceId: eniId,
      InstanceId: fx.instanceId,
      DeviceIndex: 1,
    }),
  );
  const macs = async () =>
    (await fx.imds("/latest/meta-data/network/interfaces/macs/", token)).body.split("\n");
  assert.equal((await macs()).length, 1, "an attaching ENI is not in IMDS yet");
  fx.clock.advance(2000);
  assert.ok((await macs()).includes(`${mac}/`));
  await fx.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4PrefixCount: 1 }));
  await fx.ec2.send(
    new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 1 }),
  );

  const described = await fx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
  const eni = described.NetworkInterfaces![0]!;
  const path = `/latest/meta-data/network/interfaces/macs/${mac}`;
  const get = async (key: string) => (await fx.imds(`${path}/${key}`, token)).body;
  assert.equal(await get("device-number"), "1");
  assert.equal(await get("interface-id"), eniId);
  assert.equal(await get("security-group-ids"), "sg-0aa");
  assert.equal(
    await get("local-ipv4s"),
    eni.PrivateIpAddresses!.map((address) => address.PrivateIpAddress).join("\n"),
  );
  assert.equal((await get("local-ipv4s")).split("\n").length, 4);
  assert.equal(await get("ipv4-prefix"), eni.Ipv4Prefixes!.map((prefix) => prefix.Ipv4Prefix).join("\n"));
  assert.ok((await get("")).split("\n").includes("ipv4-prefix"));
});
