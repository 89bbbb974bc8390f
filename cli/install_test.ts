import assert from "node:assert/strict";
import { isOurConflist, launcherPath } from "./install.ts";
import { parseIpamdConfig } from "../ipamd/config/mod.ts";
import { renderConflist } from "../ipamd/ops/mod.ts";

Deno.test("launcherPath() finds dist/aws-cni from the sources and from the bundle in dist/bin", () => {
  assert.equal(launcherPath("file:///src/aws-cni/cli/install.ts"), "/src/aws-cni/dist/aws-cni");
  assert.equal(launcherPath("file:///src/aws-cni/dist/bin/cli/install.js"), "/src/aws-cni/dist/aws-cni");
});

Deno.test("isOurConflist() tells our conflist from another plugin's or from junk", () => {
  assert.ok(isOurConflist(renderConflist(parseIpamdConfig({}), { portmap: true })));
  assert.ok(!isOurConflist(JSON.stringify({ name: "aws-cni", plugins: [{ type: "bridge" }] })));
  assert.ok(!isOurConflist("{not json"));
  assert.ok(!isOurConflist("null"));
});
