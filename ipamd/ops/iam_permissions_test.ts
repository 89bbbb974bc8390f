import assert from "node:assert/strict";
import { CloudError, type PermissionStatus } from "../cloud/mod.ts";
import { IamPermissions, permissionsLogLine } from "./iam_permissions.ts";

/** The actions `iam` knows to be missing. */
function missing(iam: { list(): { action: string; state: string }[] }): string[] {
  return iam.list().filter((status) => status.state === "missing").map((status) => status.action);
}

const denied = (action: string) =>
  new CloudError(
    "unauthorized",
    "UnauthorizedOperation",
    `You are not authorized to perform this operation. User: arn:aws:sts::1:assumed-role/r/i is not ` +
      `authorized to perform: ec2:${action} because no identity-based policy allows the ec2:${action} action`,
  );

Deno.test("IamPermissions starts unchecked, takes the start-up check, then learns from calls", () => {
  const iam = new IamPermissions();
  assert.deepEqual(new Set(iam.list().map((s) => s.state)), new Set(["unchecked"]));
  iam.record([
    { action: "CreateNetworkInterface", state: "missing", detail: "DryRun: UnauthorizedOperation" },
    { action: "DescribeSubnets", state: "granted", detail: "DryRun: DryRunOperation" },
  ]);
  assert.deepEqual(missing(iam), ["CreateNetworkInterface"]);
  // createEni's first request is CreateNetworkInterface, but EC2 named the attach.
  iam.failed("CreateNetworkInterface", denied("AttachNetworkInterface"));
  iam.failed("AssignPrivateIpAddresses", denied("AssignPrivateIpAddresses"));
  iam.failed("UnassignPrivateIpAddresses", new CloudError("throttled", "RequestLimitExceeded", "x"));
  assert.deepEqual(missing(iam), [
    "AssignPrivateIpAddresses",
    "AttachNetworkInterface",
    "CreateNetworkInterface",
  ]);
  iam.succeeded(["CreateNetworkInterface", "AttachNetworkInterface", "ModifyNetworkInterfaceAttribute"]);
  assert.deepEqual(missing(iam), ["AssignPrivateIpAddresses"], "a permission added later clears");
  assert.equal(iam.list().find((s) => s.action === "UnassignPrivateIpAddresses")?.state, "unchecked");
  // A check that answers late does not undo what calls told since.
  iam.record([
    { action: "CreateNetworkInterface", state: "missing", detail: "DryRun: UnauthorizedOperation" },
    { action: "CreateTags", state: "missing", detail: "DryRun: UnauthorizedOperation" },
  ]);
  assert.deepEqual(missing(iam), ["AssignPrivateIpAddresses", "CreateTags"]);
});

Deno.test("permissionsLogLine() names each missing permission in one line", () => {
  const statuses: PermissionStatus[] = [
    { action: "CreateNetworkInterface", state: "missing", detail: "" },
    { action: "CreateTags", state: "missing", detail: "" },
    { action: "DescribeSubnets", state: "granted", detail: "" },
    { action: "AssignPrivateIpAddresses", state: "unchecked", detail: "" },
  ];
  const line = permissionsLogLine(statuses)!;
  assert.match(line.msg, /^the node's IAM role lacks EC2 permissions/);
  assert.deepEqual(line.fields, {
    missing: ["ec2:CreateNetworkInterface", "ec2:CreateTags"],
    unknown: [],
    unchecked: ["ec2:AssignPrivateIpAddresses"],
  });
  assert.equal(permissionsLogLine(statuses.filter((s) => s.state !== "missing")), null);
});
