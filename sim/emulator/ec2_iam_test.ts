import {
  AssignPrivateIpAddressesCommand,
  CreateNetworkInterfaceCommand,
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
} from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { assertServiceError, emulatorFixture, sdkError } from "../../testing/emulator_fixture.ts";
import { DRY_RUN_ACTIONS } from "../ec2/mod.ts";

const UNAUTHORIZED =
  /^You are not authorized to perform this operation\. User: arn:aws:sts::\d{12}:assumed-role\/simulated-node-role\/simulated-node is not authorized to perform: ec2:(\w+) because no identity-based policy allows the ec2:\1 action/;

Deno.test("a withheld action fails as EC2 fails it: UnauthorizedOperation, 403, the action named", async () => {
  await using fx = await emulatorFixture();
  fx.sim.iam.withhold("CreateNetworkInterface");
  fx.sim.iam.withhold("DescribeInstances");
  const create = await sdkError(fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: "subnet-a" })));
  assertServiceError(create, "UnauthorizedOperation", 403);
  assert.match(create.message, UNAUTHORIZED);
  assert.match(
    create.message,
    /ec2:CreateNetworkInterface action\. Encoded authorization failure message: \S+$/,
  );
  const describe = await sdkError(fx.ec2.send(new DescribeInstancesCommand({})));
  assertServiceError(describe, "UnauthorizedOperation", 403);
  assert.match(describe.message, UNAUTHORIZED);
  assert.doesNotMatch(describe.message, /Encoded/, "Describe* answers carry no encoded message");
  // Everything else still works, and nothing was created.
  const subnets = await fx.ec2.send(new DescribeSubnetsCommand({}));
  assert.ok((subnets.Subnets ?? []).length > 0);
  assert.equal(fx.sim.describeNetworkInterfaces().networkInterfaces.length, 1);
  fx.sim.iam.grant("CreateNetworkInterface");
  await fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: "subnet-a" }));
  assert.deepEqual(fx.sim.iam.withheld(), ["DescribeInstances"]);
});

Deno.test("DryRun answers DryRunOperation (412) when allowed and UnauthorizedOperation (403) when withheld", async () => {
  await using fx = await emulatorFixture();
  const dryCreate = () =>
    sdkError(fx.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: "subnet-a", DryRun: true })));
  const allowed = await dryCreate();
  assertServiceError(allowed, "DryRunOperation", 412);
  assert.equal(allowed.message, "Request would have succeeded, but DryRun flag is set.");
  fx.sim.iam.withhold("CreateNetworkInterface");
  const withheld = await dryCreate();
  assertServiceError(withheld, "UnauthorizedOperation", 403);
  assert.match(withheld.message, UNAUTHORIZED);
  const tags = await sdkError(
    fx.ec2.send(
      new CreateTagsCommand({ Resources: [fx.primaryEniId], Tags: [{ Key: "k", Value: "v" }], DryRun: true }),
    ),
  );
  assertServiceError(tags, "DryRunOperation", 412);
  assert.equal(fx.sim.describeNetworkInterfaces().networkInterfaces.length, 1, "a dry run creates nothing");
  assert.deepEqual(fx.sim.describeNetworkInterfaces().networkInterfaces[0]!.tagSet, []);
});

Deno.test("AssignPrivateIpAddresses and UnassignPrivateIpAddresses take no DryRun, as in EC2", async (t) => {
  await using fx = await emulatorFixture();
  assert.equal(DRY_RUN_ACTIONS.size, 10);
  for (const action of ["AssignPrivateIpAddresses", "UnassignPrivateIpAddresses"] as const) {
    await t.step(action, async () => {
      assert.ok(!DRY_RUN_ACTIONS.has(action));
      const response = await fetch(fx.emulator.ec2Endpoint, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `Action=${action}&Version=2016-11-15&NetworkInterfaceId=${fx.primaryEniId}&DryRun=true`,
      });
      const text = await response.text();
      assert.equal(response.status, 400, text);
      assert.match(
        text,
        /<Code>UnknownParameter<\/Code><Message>The parameter DryRun is not recognized<\/Message>/,
      );
    });
  }
  await t.step("withheld, the call itself fails with UnauthorizedOperation", async () => {
    fx.sim.iam.withhold("AssignPrivateIpAddresses");
    const error = await sdkError(
      fx.ec2.send(
        new AssignPrivateIpAddressesCommand({
          NetworkInterfaceId: fx.primaryEniId,
          SecondaryPrivateIpAddressCount: 1,
        }),
      ),
    );
    assertServiceError(error, "UnauthorizedOperation", 403);
    assert.equal(fx.sim.describeNetworkInterfaces().networkInterfaces[0]!.privateIpAddresses.length, 1);
  });
});
