/**
 * A process under the binary's own permission set (`deno run -P=aws-cni`)
 * that narrows to a role, then reports what it may do: the state of each
 * permission asked for, and what became of real writes. For narrow_test.ts.
 *
 * ```
 * deno run --config deno.json -P=aws-cni testing/narrow_probe.ts ROLE|none '<descriptors JSON>' '<paths JSON>'
 * ```
 *
 * @module
 */
import { narrow, type NarrowRole } from "../shared/narrow.ts";

const [role = "none", descriptors = "[]", paths = "[]"] = Deno.args;
if (role !== "none") narrow(role as NarrowRole);
const states = (JSON.parse(descriptors) as Deno.PermissionDescriptor[]).map((descriptor) =>
  Deno.permissions.querySync(descriptor).state
);
const writes: Record<string, string> = {};
for (const path of JSON.parse(paths) as string[]) {
  try {
    Deno.writeTextFileSync(path, "probe\n");
    Deno.removeSync(path);
    writes[path] = "written";
  } catch (error) {
    writes[path] = (error as Error).name;
  }
}
Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify({ states, writes })));
