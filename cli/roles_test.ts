import assert from "node:assert/strict";
import { type RoleEntry, roleFor, ROLES, roleUrl } from "./roles.ts";
import { pluginMain } from "../cni/mod.ts";
import { runDaemon } from "../ipamd/mod.ts";
import { planCommand } from "./plan.ts";
import { maxPodsCommand } from "./max_pods.ts";
import { replayCommand } from "./replay.ts";
import { statusCommand } from "./status.ts";
import { installCommand } from "./install.ts";
import { helpCommand } from "./help.ts";

// Type-checked: each role's export has the entry signature main.ts calls it with.
const ENTRIES: Record<keyof typeof ROLES, RoleEntry> = {
  plugin: pluginMain,
  daemon: runDaemon,
  plan: planCommand,
  "max-pods": maxPodsCommand,
  replay: replayCommand,
  status: statusCommand,
  install: installCommand,
  help: helpCommand,
};

Deno.test("every role path and export name resolves to that entry function", async () => {
  const main = new URL("../main.ts", import.meta.url);
  for (const [name, [path, symbol]] of Object.entries(ROLES)) {
    const mod: Record<string, unknown> = await import(new URL(path, main).href);
    assert.equal(mod[symbol], ENTRIES[name as keyof typeof ROLES], name);
  }
});

Deno.test("main.ts names no role module in a literal import", async () => {
  const text = await Deno.readTextFile(new URL("../main.ts", import.meta.url));
  assert.doesNotMatch(text, /import\(\s*["'`]/, "a literal dynamic import puts that graph in every start");
  for (const [path] of Object.values(ROLES)) assert.ok(!text.includes(path), path);
});

Deno.test("a role's module is its source beside main.ts, or its bundle beside the bundled main.js", () => {
  assert.equal(roleUrl("daemon", "file:///src/main.ts"), "file:///src/ipamd/mod.ts");
  assert.equal(roleUrl("plan", "file:///src/dist/bin/main.js"), "file:///src/dist/bin/cli/plan.js");
});

Deno.test("roleFor() picks the role a command line asks for; help, version and unknown words go to help", () => {
  assert.equal(roleFor("--daemon", []), "daemon");
  assert.equal(roleFor("--daemon", ["--socket", "/s", "--help"]), "help");
  assert.equal(roleFor("uninstall", []), "install");
  for (const word of ["plan", "replay", "status", "max-pods"] as const) {
    assert.equal(roleFor(word, ["--help"]), word);
  }
  for (const word of ["", "help", "--help", "version", "--version", "plna"]) {
    assert.equal(roleFor(word, []), "help");
  }
});
