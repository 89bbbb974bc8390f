/** The README's IAM policy is the one `tools/gen_iam_policy.ts` makes from the actions ipamd calls. */
import assert from "node:assert/strict";
import { iamPolicyBlock, iamPolicyDocument } from "../tools/gen_iam_policy.ts";
import { blockIn } from "../tools/readme_blocks.ts";
import { EC2_ACTIONS } from "../ipamd/cloud/ec2_actions.ts";

Deno.test("the README's IAM policy block is iamPolicyDocument()", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const block = blockIn(readme, "iam-policy");
  assert.notEqual(block, null, "README.md has the iam-policy markers");
  assert.equal(
    block!.trim(),
    iamPolicyBlock().trim(),
    "run: deno run -A tools/gen_iam_policy.ts --write README.md",
  );
});

Deno.test("iamPolicyDocument() grants each action ipamd calls once, and is AmazonEKS_CNI_Policy less DescribeTags", () => {
  const statements = iamPolicyDocument().Statement as { Action: string[] }[];
  const granted = statements.flatMap((statement) => statement.Action).sort();
  assert.deepEqual(granted, EC2_ACTIONS.map((action) => `ec2:${action}`).sort());
  // AmazonEKS_CNI_Policy v5 (2024-03-04): the same twelve actions plus ec2:DescribeTags.
  const managed = [
    "ec2:AssignPrivateIpAddresses",
    "ec2:AttachNetworkInterface",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeInstances",
    "ec2:DescribeTags",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeSubnets",
    "ec2:DetachNetworkInterface",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:UnassignPrivateIpAddresses",
    "ec2:CreateTags",
  ];
  assert.deepEqual(managed.filter((action) => !granted.includes(action)), ["ec2:DescribeTags"]);
  assert.deepEqual(granted.filter((action) => !managed.includes(action)), []);
});
