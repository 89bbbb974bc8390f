/** The README's migration table is the one `tools/gen_migration_table.ts` generates from the code. */
import { equal, notEqual, ok } from "node:assert/strict";
import { IPAMD_ENV_TABLE } from "../ipamd/config/config.ts";
import { referenceSettings } from "../ipamd/config/reference_settings.ts";
import { migrationTable } from "../tools/gen_migration_table.ts";
import { blockIn, normalizeTable } from "../tools/readme_blocks.ts";

Deno.test("the README's migration table matches the generator's output", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const block = blockIn(readme, "migration");
  notEqual(block, null, "README.md has the migration markers");
  equal(
    normalizeTable(block!),
    normalizeTable(migrationTable()),
    "run: deno run -A tools/gen_migration_table.ts --write README.md",
  );
});

Deno.test("migrationTable() has one row per reference setting, and a changed row changes it", () => {
  const rows = migrationTable().trim().split("\n");
  const settings = referenceSettings(IPAMD_ENV_TABLE);
  equal(rows.length, settings.length + 2);
  for (const setting of settings) {
    ok(rows.some((line) => line.startsWith(`| \`${setting.name}\` |`)), setting.name);
  }
  ok(rows.some((line) => /^\| `ENABLE_POD_ENI` \| refused at start \| unset, false, 0 \|/.test(line)));
  ok(rows.some((line) => /^\| `WARM_PREFIX_TARGET` \| supported \| .*default 1 \(reference: 0\)/.test(line)));
  const changed = migrationTable(IPAMD_ENV_TABLE.map((row) => ({ ...row, referenceDefault: "7" })));
  notEqual(normalizeTable(changed), normalizeTable(migrationTable()));
});
