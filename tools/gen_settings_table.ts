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
import { type EnvRow, IPAMD_ENV_TABLE } from "../ipamd/config.ts";

/** The markers the table sits between. */
export const SETTINGS_MARKERS = [
  "<!-- settings:start -->",
  "<!-- settings:end -->",
] as const;

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

/** The text between the markers of `readme` (without the marker lines), or null without markers. */
export function tableInReadme(readme: string): string | null {
  const [start, end] = SETTINGS_MARKERS;
  const from = readme.indexOf(`${start}\n`);
  const to = readme.indexOf(end, from);
  return from < 0 || to < 0 ? null : readme.slice(from + start.length + 1, to);
}

/** A Markdown table without its padding: trimmed cells, separator cells as `---`, blank lines dropped. */
export function normalizeTable(text: string): string {
  return text.split("\n").map((line) => line.trim()).filter((line) => line !== "").map((line) =>
    line.split(/(?<!\\)\|/).map((cell) => cell.trim()).map((cell) => /^:?-+:?$/.test(cell) ? "---" : cell)
      .join("|")
  ).join("\n");
}

/** `readme` with the generated table between the markers. */
export function withTable(readme: string): string {
  const [start, end] = SETTINGS_MARKERS;
  const current = tableInReadme(readme);
  if (current === null) {
    throw new Error(`Cannot find the "${start}" and "${end}" markers`);
  }
  return readme.replace(
    `${start}\n${current}${end}`,
    `${start}\n${settingsTable()}${end}`,
  );
}

if (import.meta.main) {
  const [flag, path] = Deno.args;
  if (flag === "--write" && path !== undefined) {
    await Deno.writeTextFile(path, withTable(await Deno.readTextFile(path)));
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", path] })
      .output();
  } else {
    await Deno.stdout.write(new TextEncoder().encode(settingsTable()));
  }
}
