/**
 * podman 4.3 (Debian's, CNI backend) runs containers on aws-cni with its
 * generated names, in a simulated node with ipamd; see
 * testing/runtime_scenario.ts for what is checked.
 */
import assert from "node:assert/strict";
import { buildTestImage, staticBusybox } from "../../testing/oci_image.ts";
import { podmanDriver, setUpPodman } from "../../testing/podman.ts";
import { runtimeScenario } from "../../testing/runtime_scenario.ts";
import { RuntimeNode, runtimeTestsPossible } from "../../testing/runtime_node.ts";
import { run } from "../../testing/netns.ts";

async function skipReason(): Promise<string | undefined> {
  const common = await runtimeTestsPossible();
  if (common !== undefined) return common;
  for (const program of ["podman", "conmon", "runc"]) {
    if ((await run("sh", ["-c", `command -v ${program}`])).code !== 0) {
      return `${program} is missing (apt-get install podman runc)`;
    }
  }
  if (!await staticBusybox()) {
    return "no static busybox for the container image (apt-get install busybox-static)";
  }
  return undefined;
}

const skip = await skipReason();
if (skip !== undefined) {
  // deno-lint-ignore no-console
  console.warn(`podman_test: skipped: ${skip}`);
}

Deno.test({
  name:
    "podman (CNI backend) runs containers on aws-cni: pool addresses, reach, teardown, 10 at once, ipamd restart",
  ignore: skip !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using node = await RuntimeNode.create("podman");
    const image = await buildTestImage(`${node.dir}/image`);
    await node.startIpamd();
    const podman = await setUpPodman(node, image);
    assert.match(podman.version, /^4\./);
    const driver = podmanDriver(node, podman, image);
    await t.step("a generated name with '_' reaches ipamd as the pod name", async () => {
      const pod = await driver.start();
      try {
        const name = await driver.name(pod.id);
        assert.match(name, /_/, "podman's generated names join two words with '_'");
        const saved = JSON.parse(await Deno.readTextFile(node.mounts.outside("/run/aws-node/ipam.json"))) as {
          allocations: { containerID: string; metadata: { k8sPodName: string } }[];
        };
        const mine = saved.allocations.find((a) => a.containerID === pod.id);
        assert.equal(mine?.metadata.k8sPodName, name);
      } finally {
        await driver.remove(pod.id);
      }
    });
    await runtimeScenario(t, node, driver);
  },
});
