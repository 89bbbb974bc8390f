/**
 * containerd (Debian's, default plugins) runs pods on aws-cni through CRI, as
 * kubelet does, in a simulated node with ipamd; see testing/runtime_scenario.ts
 * for what is checked.
 */
import assert from "node:assert/strict";
import { criDriver, ctrRunCni, startContainerd } from "../../testing/containerd.ts";
import { buildTestImage, staticBusybox } from "../../testing/oci_image.ts";
import { runtimeScenario } from "../../testing/runtime_scenario.ts";
import { RuntimeNode, runtimeTestsPossible } from "../../testing/runtime_node.ts";
import { run } from "../../testing/netns.ts";

async function skipReason(): Promise<string | undefined> {
  const common = await runtimeTestsPossible();
  if (common !== undefined) return common;
  for (const program of ["containerd", "ctr", "runc"]) {
    if ((await run("sh", ["-c", `command -v ${program}`])).code !== 0) {
      return `${program} is missing (apt-get install containerd runc)`;
    }
  }
  if (!await staticBusybox()) {
    return "no static busybox for the sandbox image (apt-get install busybox-static)";
  }
  return undefined;
}

const skip = await skipReason();
if (skip !== undefined) {
  // deno-lint-ignore no-console
  console.warn(`containerd_test: skipped: ${skip}`);
}

Deno.test({
  name:
    "containerd over CRI runs pods on aws-cni: pool addresses, reach, teardown, 10 at once, ipamd restart",
  ignore: skip !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using node = await RuntimeNode.create("ctrd");
    const image = await buildTestImage(`${node.dir}/image`);
    await node.startIpamd();
    const containerd = await startContainerd(node, image);
    using _cri = containerd.cri;
    assert.match(containerd.version, /^containerd /);
    const scenario = await runtimeScenario(t, node, criDriver(node, containerd));
    const ctr = await t.step(
      "ctr run --cni (CNI_NETNS=/proc/<pid>/ns/net) gets a pool address and gives it back",
      async () => {
        const before = await node.pool();
        const run = await ctrRunCni(node, containerd, {
          image,
          id: "ctr-cni-1",
          command: ["/bin/busybox", "ip", "-4", "-o", "addr", "show", "dev", "eth0"],
        });
        const ip = /inet (\d+\.\d+\.\d+\.\d+)\/32/.exec(run.stdout)?.[1];
        assert.ok(ip !== undefined && before.addresses.has(ip), `the task saw a pool address: ${run.stdout}`);
        assert.ok(!(await node.allocations()).has(run.containerId), "released once the task ended");
        assert.equal((await node.pool()).assigned, before.assigned);
        assert.deepEqual(await node.podLeftovers([ip]), []);
      },
    );
    if (!scenario || !ctr) {
      const log = await Deno.readTextFile(containerd.logFile).catch(() => "");
      // deno-lint-ignore no-console
      console.error(`containerd log (last lines):\n${log.split("\n").slice(-40).join("\n")}`);
    }
  },
});
