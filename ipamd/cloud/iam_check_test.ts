import assert from "node:assert/strict";
import { sdkFixture } from "../../testing/ec2_sdk_fixture.ts";
import { Ec2Sender } from "./ec2_sdk_client.ts";
import { SdkDryRunner } from "./ec2_sdk_dry_run.ts";
import { checkPermissions, dryRunStatus, unauthorizedAction } from "./iam_check.ts";
import { CloudError } from "./errors.ts";
import type { Ec2Action } from "./ec2_actions.ts";

async function dryRunFixture() {
  const fx = await sdkFixture();
  const sender = new Ec2Sender(fx.client, fx.budget);
  const runner = new SdkDryRunner(sender, {
    instanceId: fx.instanceId,
    instanceType: "m5.large",
    subnetId: "subnet-a",
    securityGroupIds: ["sg-node"],
    primaryEniId: fx.primaryEniId,
    primaryAttachmentId: async () =>
      (await fx.requests.describeEnis([fx.primaryEniId]))[0]?.attachment?.attachmentId ?? null,
  });
  return { fx, runner };
}

function byState(statuses: { action: Ec2Action; state: string }[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { action, state } of statuses) (out[state] ??= []).push(action);
  return out;
}

Deno.test("checkPermissions() asks EC2 with DryRun through the SDK: all granted, two unchecked", async () => {
  const { fx, runner } = await dryRunFixture();
  await using _ = fx;
  const before = fx.sim.exportState();
  const statuses = await checkPermissions(runner);
  assert.deepEqual(byState(statuses), {
    unchecked: ["AssignPrivateIpAddresses", "UnassignPrivateIpAddresses"],
    granted: [
      "AttachNetworkInterface",
      "CreateNetworkInterface",
      "CreateTags",
      "DeleteNetworkInterface",
      "DescribeInstanceTypes",
      "DescribeInstances",
      "DescribeNetworkInterfaces",
      "DescribeSubnets",
      "DetachNetworkInterface",
      "ModifyNetworkInterfaceAttribute",
    ],
  });
  assert.ok(
    statuses.filter((s) => s.state === "granted").every((s) => s.detail === "DryRun: DryRunOperation"),
  );
  const after = fx.sim.exportState();
  assert.deepEqual(after.networkInterfaces, before.networkInterfaces, "a dry run changes nothing");
});

Deno.test("checkPermissions() names each permission the role lacks", async () => {
  const { fx, runner } = await dryRunFixture();
  await using _ = fx;
  fx.sim.iam.withhold("CreateNetworkInterface");
  fx.sim.iam.withhold("DescribeSubnets");
  fx.sim.iam.withhold("AssignPrivateIpAddresses");
  const statuses = await checkPermissions(runner);
  const missing = statuses.filter((s) => s.state === "missing");
  assert.deepEqual(missing.map((s) => [s.action, s.detail]), [
    ["CreateNetworkInterface", "DryRun: UnauthorizedOperation"],
    ["DescribeSubnets", "DryRun: UnauthorizedOperation"],
  ]);
  // AssignPrivateIpAddresses has no DryRun: it stays unchecked until used.
  assert.equal(statuses.find((s) => s.action === "AssignPrivateIpAddresses")?.state, "unchecked");
  assert.equal(statuses.filter((s) => s.state === "granted").length, 8);
});

Deno.test("dryRunStatus() keeps an answer that is neither yes nor no as unknown", () => {
  const throttled = new CloudError("throttled", "RequestLimitExceeded", "Request limit exceeded.");
  assert.deepEqual(dryRunStatus("CreateTags", throttled), {
    action: "CreateTags",
    state: "unknown",
    detail: "DryRun: RequestLimitExceeded: Request limit exceeded.",
  });
});

Deno.test("unauthorizedAction() reads the action EC2 names, else takes the fallback", () => {
  const named = new CloudError(
    "unauthorized",
    "UnauthorizedOperation",
    "You are not authorized to perform this operation. User: arn:aws:sts::1:assumed-role/r/i is not " +
      "authorized to perform: ec2:AttachNetworkInterface on resource: arn:aws:ec2:us-west-2:1:instance/i-1",
  );
  assert.equal(unauthorizedAction(named, "CreateNetworkInterface"), "AttachNetworkInterface");
  const bare = new CloudError(
    "unauthorized",
    "UnauthorizedOperation",
    "You are not authorized to perform this operation.",
  );
  assert.equal(unauthorizedAction(bare, "CreateNetworkInterface"), "CreateNetworkInterface");
});
