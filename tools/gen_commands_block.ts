/**
 * Writes the README's Commands block: `aws-cni help`'s text, as `cli/usage.ts`
 * makes it. `tests/help_test.ts` fails when the README drifts from it.
 *
 * Usage: `deno run -A tools/gen_commands_block.ts [--write README.md]`
 *
 * @module
 */
import { USAGE } from "../cli/usage.ts";
import { writeBlock } from "./readme_blocks.ts";

/** The block between the README's `commands` markers. */
export function commandsBlock(): string {
  return "```\n$ aws-cni help\n" + USAGE.trimEnd() + "\n```\n";
}

if (import.meta.main) {
  const [flag, path] = Deno.args;
  if (flag === "--write" && path !== undefined) await writeBlock(path, "commands", commandsBlock());
  else await Deno.stdout.write(new TextEncoder().encode(commandsBlock()));
}
