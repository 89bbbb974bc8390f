/**
 * Writes the README's IAM policy block from `iamPolicyDocument()`, the actions
 * ipamd calls. `tests/readme_iam_policy_test.ts` fails when the README drifts.
 *
 * Usage: `deno run -A tools/gen_iam_policy.ts [--write README.md]`
 *
 * @module
 */
import { EC2_ACTIONS } from "../ipamd/cloud/mod.ts";
import { writeBlock } from "./readme_blocks.ts";

/**
 * The IAM policy the node's role needs: every action ipamd calls, CreateTags on
 * network interfaces only (as in AmazonEKS_CNI_Policy, which also grants
 * ec2:DescribeTags, never called here).
 */
export function iamPolicyDocument(): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AwsCniEni",
        Effect: "Allow",
        Action: EC2_ACTIONS.filter((action) => action !== "CreateTags").map((action) => `ec2:${action}`),
        Resource: "*",
      },
      {
        Sid: "AwsCniEniTag",
        Effect: "Allow",
        Action: ["ec2:CreateTags"],
        Resource: ["arn:aws:ec2:*:*:network-interface/*"],
      },
    ],
  };
}

/** The block between the README's `iam-policy` markers. */
export function iamPolicyBlock(): string {
  return "```json\n" + JSON.stringify(iamPolicyDocument(), null, 2) + "\n```\n";
}

if (import.meta.main) {
  const [flag, path] = Deno.args;
  if (flag === "--write" && path !== undefined) await writeBlock(path, "iam-policy", iamPolicyBlock());
  else await Deno.stdout.write(new TextEncoder().encode(iamPolicyBlock()));
}
