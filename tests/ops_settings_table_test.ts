/** The README's settings table is the one `tools/gen_settings_table.ts` generates from `IPAMD_ENV_TABLE`. */
import { equal, notEqual, ok } from "node:assert/strict";
import { IPAMD_ENV_TABLE } from "../ipamd/config/config.ts";
import { normalizeTable, settingsTable, tableInReadme, withTable } from "../tools/gen_settings_table.ts";

const README = new URL("../README.md", import.meta.url);

Deno.test("the README's settings table matches the generator's output", async () => {
  const readme = await Deno.readTextFile(README);
  const current = tableInReadme(readme);
  notEqual(current, null, "README.md has the settings markers");
  equal(
    normalizeTable(current!),
    normalizeTable(settingsTable()),
    "run: deno run -A tools/gen_settings_table.ts --write README.md",
  );
});

Deno.test("settingsTable() has one row per setting and escapes pipes", () => {
  const rows = settingsTable().trim().split("\n");
  equal(rows.length, IPAMD_ENV_TABLE.length + 2);
  for (const row of IPAMD_ENV_TABLE) {
    ok(rows.some((line) => line.startsWith(`| \`${row.name}\` |`)), row.name);
  }
  const custom = settingsTable([{ ...IPAMD_ENV_TABLE[0]!, doc: "a | b" }]);
  ok(custom.includes("a \\| b"));
  equal(normalizeTable(custom).split("\n")[2]!.split(/(?<!\\)\|/).length, 7);
});

Deno.test("withTable() replaces only what is between the markers, and a drifted table fails the match", () => {
  const readme = "intro\n<!-- settings:start -->\n| old |\n<!-- settings:end -->\nrest\n";
  const updated = withTable(readme);
  ok(updated.startsWith("intro\n<!-- settings:start -->\n| Variable |"));
  ok(updated.endsWith("<!-- settings:end -->\nrest\n"));
  notEqual(
    normalizeTable(tableInReadme(readme)!),
    normalizeTable(settingsTable()),
  );
  equal(normalizeTable("| a  |  b |\n| -- | --- |\n\n"), "|a|b|\n|---|---|");
});
