/** The README's seed table is what `aws-cni plan` computes (tools/gen_plan_table.ts). */
import { equal, notEqual } from "node:assert/strict";
import { seedTable } from "../tools/gen_plan_table.ts";
import { blockIn, normalizeTable } from "../tools/readme_blocks.ts";

Deno.test("the README's seed table matches aws-cni plan, 16 rows", async () => {
  const current = blockIn(
    await Deno.readTextFile(new URL("../README.md", import.meta.url)),
    "plan-table",
  );
  notEqual(current, null, "README.md has the plan-table markers");
  const generated = await seedTable();
  equal(normalizeTable(generated).split("\n").length, 18);
  equal(
    normalizeTable(current!),
    normalizeTable(generated),
    "run: deno run -A tools/gen_plan_table.ts --write README.md",
  );
});
