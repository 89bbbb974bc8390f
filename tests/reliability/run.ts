/**
 * Runs the reliability suite and prints its results table (Markdown, for the
 * README).
 *
 * ```
 * deno run -A tests/reliability/run.ts [--full] [--write README.md] [-- deno test args…]
 * ```
 *
 * By default it runs the CI sizes; `--full` runs the full numbers
 * (`RELIABILITY_PROFILE=full`); every size can also be set by its variable
 * (see _config.ts). The plugin and ipamd are `dist/aws-cni`, with the permission
 * set it is built with (deno.json, documented in _permissions.ts).
 * `--write FILE` puts the table between `<!-- reliability:start -->` and
 * `<!-- reliability:end -->` in FILE.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { writeBlock } from "../../tools/readme_blocks.ts";
import { SIZE_VARIABLES } from "./_config.ts";
import { formatResults, readResults } from "./_results.ts";

function say(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    full: { type: "boolean" },
    write: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  allowPositionals: true,
});
if (values.help === true) {
  say(
    "usage: deno run -A tests/reliability/run.ts [--full] [--write README.md] [-- deno test args]\n" +
      `sizes: ${Object.values(SIZE_VARIABLES).join(", ")}\n`,
  );
  Deno.exit(0);
}

const dir = await Deno.makeTempDir({ prefix: "aws-cni-reliability-" });
const resultsFile = `${dir}/results.jsonl`;
const env: Record<string, string> = { RELIABILITY_RESULTS: resultsFile };
env["RELIABILITY_PROFILE"] = values.full === true ? "full" : Deno.env.get("RELIABILITY_PROFILE") ?? "ci";
const started = performance.now();
const root = new URL("../..", import.meta.url).pathname;
const status = await new Deno.Command(Deno.execPath(), {
  args: ["test", "-A", "--frozen", "--no-prompt", ...positionals, "tests/reliability"],
  cwd: root,
  env,
  stdout: "inherit",
  stderr: "inherit",
}).spawn().status;
const minutes = ((performance.now() - started) / 60_000).toFixed(1);
const rows = await readResults(resultsFile);
await Deno.remove(dir, { recursive: true });
const table = formatResults(rows);
const profile = env["RELIABILITY_PROFILE"] === "full" ? "full sizes" : "CI sizes";
Deno.stdout.writeSync(
  new TextEncoder().encode(
    `\nReliability suite (${profile}, ${minutes} min, ${rows.length} areas):\n\n${table}\n`,
  ),
);
if (values.write !== undefined) await writeBlock(values.write, "reliability", `${table}\n`);
Deno.exit(status.code);
