/**
 * Every reason the pool gives for not growing has its entry, with its one text,
 * in the README's troubleshooting section (the metrics test checks it is a label).
 */
import { ok } from "node:assert/strict";
import { GROWTH_BLOCK_REASONS, GROWTH_BLOCK_TEXT } from "../ipamd/pool/mod.ts";

Deno.test("README troubleshooting explains every growth block reason under its text", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const start = readme.indexOf("## Troubleshooting");
  ok(start >= 0, "the README has a Troubleshooting section");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  for (const reason of GROWTH_BLOCK_REASONS) {
    const entry = `- \`${reason}\` (${GROWTH_BLOCK_TEXT[reason]}): `;
    ok(section.includes(entry), `no troubleshooting entry "${entry}"`);
  }
});
