/**
 * The README's settings table, generated from `IPAMD_ENV_TABLE` so it cannot
 * drift from the code. Prints the table; `--write README.md` replaces the lines
 * between the `<!-- settings:start -->` and `<!-- settings:end -->` markers and
 * runs `deno fmt` on the file (which pads the columns).
 *
 * ```
 * deno run -A tools/gen_settings_table.ts [--write README.md]
 * ```
 *
 * @module
 */
import { type EnvRow, IPAMD_ENV_TABLE } from "../ipamd/config/config.ts";
import { blockIn, normalizeTable, withBlock, writeBlock } from "./readme_blocks.ts";

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function reference(row: EnvRow<unknown>): string {
  if (row.referenceName !== undefined) return row.referenceName;
  if (row.referenceDefault !== undefined) {
    return `same name; default ${row.referenceDefault}`;
  }
  return "same";
}

/** The Markdown table: one row per setting, in `IPAMD_ENV_TABLE` order. */
export function settingsTable(
  rows: readonly EnvRow<unknown>[] = IPAMD_ENV_TABLE,
): string {
  const lines = [
    "| Variable | Default | Accepts | Meaning | Reference |",
    "|---|---|---|---|---|",
    ...rows.map((row) =>
      `| \`${row.name}\` | ${row.default === "" ? "unset" : `\`${cell(row.default)}\``} | ${
        cell(row.parser.accepts)
      } | ${cell(row.doc)} | ${cell(reference(row))} |`
    ),
  ];
  return lines.join("\n") + "\n";
}

/** The text between the settings markers of `readme`, or null without markers. */
export function tableInReadme(readme: string): string | null {
  return blockIn(readme, "settings");
}

/** `readme` with the generated table between the markers. */
export function withTable(readme: string): string {
  return withBlock(readme, "settings", settingsTable());
}

export { normalizeTable };

if (import.meta.main) {
  const [flag, path] = Deno.args;
  if (flag === "--write" && path !== undefined) {
    await writeBlock(path, "settings", settingsTable());
  } else {
    await Deno.stdout.write(new TextEncoder().encode(settingsTable()));
  }
}
