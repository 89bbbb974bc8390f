import assert from "node:assert/strict";
import { launcherPath } from "./install.ts";

Deno.test("launcherPath() finds dist/aws-cni from the sources and from the bundle in dist/bin", () => {
  assert.equal(launcherPath("file:///src/aws-cni/cli/install.ts"), "/src/aws-cni/dist/aws-cni");
  assert.equal(launcherPath("file:///src/aws-cni/dist/bin/cli/install.js"), "/src/aws-cni/dist/aws-cni");
});
