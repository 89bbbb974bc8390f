/**
 * Writes the README's IAM policy block from `iamPolicyDocument()`, the actions
 * ipamd calls. `tests/readme_iam_policy_test.ts` fails when the README drifts.
 *
 * Usage: `deno run -A tools/gen_iam_policy.ts [--write README.md]`
 *
 * @module
 */
import { iamPolicyDocument } from "../ipamd/cloud/iam_check.ts";
import { writeBlock } from "./readme_blocks.ts";

/** The block between the README's `iam-policy` markers. */
export function iamPolicyBlock(): string {
  return "```json\n" + JSON.stringify(iamPolicyDocument(), null, 2) + "\n```\n";
}

if (import.meta.main) {
  const [flag, path] = Deno.args;
  if (flag === "--write" && path !== undefined) await writeBlock(path, "iam-policy", iamPolicyBlock());
  else await Deno.stdout.write(new TextEncoder().encode(iamPolicyBlock()));
}
