/**
 * The README's migration table: every setting of the reference and what
 * aws-cni does with it, generated from `IPAMD_ENV_TABLE` and the reference's
 * other settings (ipamd/config/reference_settings.ts) so it cannot drift from
 * the code. Prints the table; `--write README.md` replaces the lines between
 * the `<!-- migration:start -->` and `<!-- migration:end -->` markers.
 *
 * ```
 * deno run -A tools/gen_migration_table.ts [--write README.md]
 * ```
 *
 * @module
 */
import { type EnvRow, IPAMD_ENV_TABLE } from "../ipamd/config/config.ts";
import { type ReferenceSetting, referenceSettings } from "../ipamd/config/reference_settings.ts";
import { writeBlock } from "./readme_blocks.ts";

const HERE: Readonly<Record<ReferenceSetting["treatment"], string>> = {
  "supported": "supported",
  "refused": "refused at start",
  "warned": "warned at start",
  "not applicable": "no effect (warned)",
};

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** What a supported setting means here, from its row in the settings table. */
function supported(row: EnvRow<unknown>): string {
  const only = row.parser.accepts === "true" || row.parser.accepts === "false";
  const parts = [only ? `only ${row.parser.accepts}; the other value refuses to start` : "same meaning"];
  if (row.referenceDefault !== undefined) {
    parts.push(`default ${row.default} (reference: ${row.referenceDefault})`);
  }
  return parts.join("; ");
}

/** The Markdown table: one row per reference setting, those ipamd reads first. */
export function migrationTable(
  own: readonly EnvRow<unknown>[] = IPAMD_ENV_TABLE,
): string {
  const rows = referenceSettings(own).map((setting) => {
    const row = own.find((r) => r.name === setting.name);
    const what = setting.treatment === "supported" && row !== undefined ? supported(row) : setting.why;
    const same = setting.treatment === "supported"
      ? "every valid value"
      : ["unset", ...(setting.same ?? [])].join(", ");
    return `| \`${setting.name}\` | ${HERE[setting.treatment]} | ${cell(same)} | ${cell(what)} |`;
  });
  return [
    "| Reference variable | aws-cni | Accepted without a word | What aws-cni does |",
    "|---|---|---|---|",
    ...rows,
  ].join("\n") + "\n";
}

if (import.meta.main) {
  const [flag, path] = Deno.args;
  if (flag === "--write" && path !== undefined) {
    await writeBlock(path, "migration", migrationTable());
  } else {
    await Deno.stdout.write(new TextEncoder().encode(migrationTable()));
  }
}
