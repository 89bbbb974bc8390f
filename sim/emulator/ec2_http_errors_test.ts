import {
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateTagsCommand,
  DeleteNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DetachNetworkInterfaceCommand,
  EC2ServiceException,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import type { Ec2Action } from "../ec2/types.ts";
import { assertServiceError, emulatorFixture, sdkError } from "../../testing/emulator_fixture.ts";

Deno.test("AttachNetworkInterface beyond the instance type's ENIs fails with AttachmentLimitExceeded", async () => {
  await using fx = await emulatorFixture();
  for (const deviceIndex of [1, 2, 3]) {
    const created = await fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: "subnet-a" }));
    const attach = fx.ec2.send(
      new AttachNetworkInterfaceCommand({
        NetworkInterfaceId: created.NetworkInterface!.NetworkInterfaceId!,
        InstanceId: fx.instanceId,
        DeviceIndex: deviceIndex,
      }),
    );
    if (deviceIndex < 3) {
      await attach;
      continue;
    }
    const error = await sdkError(attach);
    assertServiceError(error, "AttachmentLimitExceeded", 400);
    assert.equal(error.message, "Interface count 4 exceeds the limit for m5.large");
    assert.equal(error.$fault, "client");
    assert.ok(error instanceof EC2ServiceException);
  }
});

Deno.test("AssignPrivateIpAddresses beyond the ENI's limit fails with PrivateIpAddressLimitExceeded", async () => {
  await using fx = await emulatorFixture();
  const error = await sdkError(
    fx.ec2.send(
      new AssignPrivateIpAddressesCommand({
        NetworkInterfaceId: fx.primaryEniId,
        SecondaryPrivateIpAddressCount: 10,
      }),
    ),
  );
  assertServiceError(error, "PrivateIpAddressLimitExceeded", 400);
  assert.equal(error.message, "Number of private addresses will exceed limit.");
});

Deno.test("a full subnet fails with InsufficientFreeAddressesInSubnet, a fragmented one with InsufficientCidrBlocks", async () => {
  await using fx = await emulatorFixture();
  const addresses = await sdkError(
    fx.ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: "subnet-b", SecondaryPrivateIpAddressCount: 11 }),
    ),
  );
  assertServiceError(addresses, "InsufficientFreeAddressesInSubnet", 400);
  const prefixes = await sdkError(
    fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: "subnet-b", Ipv4PrefixCount: 1 })),
  );
  assertServiceError(prefixes, "InsufficientCidrBlocks", 400);
  assert.equal(fx.sim.describeNetworkInterfaces().networkInterfaces.length, 1);
});

Deno.test("an unknown ENI fails with InvalidNetworkInterfaceID.NotFound, an attached one with InUse", async () => {
  await using fx = await emulatorFixture();
  const unknown = await sdkError(
    fx.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: "eni-0123456789abcdef0" })),
  );
  assertServiceError(unknown, "InvalidNetworkInterfaceID.NotFound", 400);
  assert.equal(unknown.message, "The networkInterface ID 'eni-0123456789abcdef0' does not exist");
  const inUse = await sdkError(
    fx.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: fx.primaryEniId })),
  );
  assertServiceError(inUse, "InvalidNetworkInterface.InUse", 400);
  const primary = await sdkError(
    fx.ec2.send(
      new DetachNetworkInterfaceCommand({
        AttachmentId: fx.sim.describeNetworkInterfaces().networkInterfaces[0]!.attachment!.attachmentId,
      }),
    ),
  );
  assertServiceError(primary, "OperationNotPermitted", 400);
  const attachment = await sdkError(
    fx.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: "eni-attach-0123456789abcdef0" })),
  );
  assertServiceError(attachment, "InvalidAttachmentID.NotFound", 400);
});

Deno.test("the simulation's other error codes reach the SDK", async (t) => {
  await using fx = await emulatorFixture();
  const attach = (eniId: string, instanceId = fx.instanceId) =>
    fx.ec2.send(
      new AttachNetworkInterfaceCommand({
        NetworkInterfaceId: eniId,
        InstanceId: instanceId,
        DeviceIndex: 1,
      }),
    );
  const create = async (secondaries: number) =>
    (await fx.ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: "subnet-a",
        SecondaryPrivateIpAddressCount: secondaries,
      }),
    )).NetworkInterface!.NetworkInterfaceId!;
  const cases: [string, () => Promise<unknown>][] = [
    [
      "InvalidInstanceID.NotFound",
      () => fx.ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-0123456789abcdef0"] })),
    ],
    ["InvalidInterface.IpAddressLimitExceeded", async () => attach(await create(12))],
    ["IncorrectInstanceState", async () => {
      const other = fx.sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
      fx.sim.terminateInstance({ instanceId: other.instanceId });
      return attach(await create(0), other.instanceId);
    }],
    [
      "InvalidGroupId.Malformed",
      () => fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: "subnet-a", Groups: ["default"] })),
    ],
    [
      "InvalidID",
      () => fx.ec2.send(new CreateTagsCommand({ Resources: ["vpc-1"], Tags: [{ Key: "k", Value: "v" }] })),
    ],
    ["InvalidIPAddress.InUse", () => {
      const primary = fx.sim.describeNetworkInterfaces().networkInterfaces[0]!.privateIpAddress;
      return fx.ec2.send(
        new AssignPrivateIpAddressesCommand({
          NetworkInterfaceId: fx.primaryEniId,
          PrivateIpAddresses: [primary],
        }),
      );
    }],
    [
      "InvalidParameterCombination",
      () =>
        fx.ec2.send(
          new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [fx.primaryEniId], MaxResults: 5 }),
        ),
    ],
    [
      "MissingParameter",
      () => fx.ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: fx.primaryEniId })),
    ],
  ];
  for (const [code, call] of cases) {
    await t.step(code, async () => assertServiceError(await sdkError(call()), code, 400));
  }
});

Deno.test("the request id of a failed call is the simulation's, in the body and the header", async () => {
  await using fx = await emulatorFixture();
  const response = await fetch(fx.emulator.ec2Endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "Action=DeleteNetworkInterface&Version=2016-11-15&NetworkInterfaceId=eni-0123456789abcdef0",
  });
  const body = await response.text();
  assert.equal(response.status, 400);
  assert.equal(response.headers.get("content-type"), "text/xml;charset=UTF-8");
  const requestId = response.headers.get("x-amzn-requestid") ?? "";
  assert.match(requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(
    body,
    '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>' +
      "<Code>InvalidNetworkInterfaceID.NotFound</Code>" +
      "<Message>The networkInterface ID &apos;eni-0123456789abcdef0&apos; does not exist</Message>" +
      `</Error></Errors><RequestID>${requestId}</RequestID></Response>`,
  );
});

Deno.test("forced faults reach the SDK with their code and status", async (t) => {
  await using fx = await emulatorFixture();
  const cases: { action: Ec2Action; code: string; status: number; fault: "client" | "server" }[] = [
    { action: "DescribeSubnets", code: "RequestLimitExceeded", status: 503, fault: "server" },
    { action: "DescribeSubnets", code: "InternalError", status: 500, fault: "server" },
    { action: "DescribeSubnets", code: "UnauthorizedOperation", status: 403, fault: "client" },
    { action: "DescribeSubnets", code: "InvalidParameterValue", status: 400, fault: "client" },
  ];
  for (const { action, code, status, fault } of cases) {
    await t.step(`${code} answers HTTP ${status}`, async () => {
      fx.sim.knobs.failNext(action, { code });
      const error = await sdkError(fx.ec2.send(new DescribeSubnetsCommand({})));
      assertServiceError(error, code, status);
      assert.equal(error.$fault, fault);
      assert.equal(error.message, `Injected ${code}`);
    });
  }
});

Deno.test("the wire rejects what the EC2 Query protocol does not allow", async (t) => {
  await using fx = await emulatorFixture();
  const cases: { body: string; code: string; status?: number; method?: string }[] = [
    { body: "Version=2016-11-15", code: "MissingAction" },
    { body: "Action=DescribeSubnets", code: "MissingParameter" },
    { body: "Action=DescribeSubnets&Version=2014-01-01", code: "NoSuchVersion" },
    { body: "Action=RunInstances&Version=2016-11-15", code: "InvalidAction" },
    { body: "Action=DescribeSubnets&Version=2016-11-15&Bogus=1", code: "UnknownParameter" },
    { body: "Action=DescribeSubnets&Version=2016-11-15&DryRun=true", code: "DryRunOperation", status: 412 },
    { body: "Action=DescribeSubnets&Version=2016-11-15&DryRun=maybe", code: "InvalidParameterValue" },
    {
      body: "Action=AttachNetworkInterface&Version=2016-11-15&NetworkInterfaceId=eni-1&InstanceId=i-1",
      code: "MissingParameter",
    },
    {
      body: "Action=AttachNetworkInterface&Version=2016-11-15&NetworkInterfaceId=eni-1&InstanceId=i-1" +
        "&DeviceIndex=one",
      code: "InvalidParameterValue",
    },
    {
      body: "Action=ModifyNetworkInterfaceAttribute&Version=2016-11-15&NetworkInterfaceId=eni-1" +
        "&Attachment.AttachmentId=eni-attach-1",
      code: "InvalidParameterCombination",
    },
    { body: "Action=DescribeSubnets&Version=2016-11-15&Filter.1.Value.1=x", code: "MissingParameter" },
    { body: "Action=DescribeSubnets&Version=2016-11-15&Filter.0.Name=x", code: "InvalidParameterValue" },
    {
      body: "Action=CreateNetworkInterface&Version=2016-11-15&SubnetId=subnet-a&PrivateIpAddress=10.0.1.9",
      code: "UnknownParameter",
    },
    { body: "", code: "MethodNotAllowed", status: 405, method: "PUT" },
  ];
  for (const { body, code, status = 400, method = "POST" } of cases) {
    await t.step(`${method} ${body || "(empty)"} fails with ${code}`, async () => {
      const response = await fetch(fx.emulator.ec2Endpoint, {
        method,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
      });
      const text = await response.text();
      assert.equal(response.status, status, text);
      assert.match(text, new RegExp(`<Code>${code.replace(".", "\\.")}</Code>`));
    });
  }
  await t.step("GET with the parameters in the query string works too", async () => {
    const response = await fetch(`${fx.emulator.ec2Endpoint}/?Action=DescribeSubnets&Version=2016-11-15`);
    const text = await response.text();
    assert.equal(response.status, 200, text);
    assert.match(
      text,
      /^<\?xml [^>]+>\n<DescribeSubnetsResponse xmlns="http:\/\/ec2.amazonaws.com\/doc\/2016-11-15\/">/,
    );
  });
  await t.step("the SDK's DryRun surfaces DryRunOperation", async () => {
    const error = await sdkError(fx.ec2.send(new DescribeNetworkInterfacesCommand({ DryRun: true })));
    assertServiceError(error, "DryRunOperation", 412);
  });
});
