/**
 * dist/aws-cni run as runtimes run it, with what their environments carry:
 * loader variables (containerd's opt plugin sets LD_LIBRARY_PATH), a PATH that finds
 * neither ip nor nsenter, a /proc/<pid>/ns/net netns and a container name for K8S_POD_NAME.
 * The node and its fake ipamd are testing/node.ts's.
 */
import assert from "node:assert/strict";
import { canCreateNetns, untilGone } from "../../testing/netns.ts";
import { binaryBuilt, startNode } from "../../testing/node.ts";

const ready = await canCreateNetns() && await binaryBuilt();
if (!ready) {
  // deno-lint-ignore no-console
  console.warn("plugin_env_test: skipped (needs root, `ip netns add`, and `make build` for dist/aws-cni)");
}

Deno.test({
  name: "aws-cni ADD and DEL work with LD_LIBRARY_PATH and LD_PRELOAD set, and CNI_NETNS=/proc/<pid>/ns/net",
  ignore: !ready,
  async fn() {
    await using node = await startNode({ ipamd: "fake" });
    const pod = await node.pod("ldenv");
    const holder = new Deno.Command("ip", {
      args: ["netns", "exec", pod.name, "sh", "-c", "echo ready && exec sleep 120"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const reader = holder.stdout.getReader();
      await reader.read(); // the holder is inside the pod's namespace
      reader.releaseLock();
      const env = {
        CNI_CONTAINERID: "ld0env",
        CNI_NETNS: `/proc/${holder.pid}/ns/net`,
        CNI_IFNAME: "eth0",
        CNI_PATH: "/opt/cni/bin",
        CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAME=eager_hopper",
        LD_LIBRARY_PATH: "/opt/containerd/lib:",
        LD_PRELOAD: "/nonexistent/libpreload.so",
        PATH: "/opt/cni/bin", // finds neither ip nor nsenter: the plugin must not depend on its caller's PATH
      };
      const conf = node.netconf();
      const add = await node.plugin({ ...env, CNI_COMMAND: "ADD" }, JSON.stringify(conf));
      assert.equal(add.code, 0, add.stdout);
      const result = JSON.parse(add.stdout) as { ips: { address: string }[] };
      assert.equal(result.ips[0]?.address, "10.0.0.10/32");
      const [link] = await pod.ipJson("addr", "show", "dev", "eth0");
      assert.ok(JSON.stringify(link).includes("10.0.0.10"), "the pod has its address");
      const del = await node.plugin(
        { ...env, CNI_COMMAND: "DEL" },
        JSON.stringify({ ...conf, prevResult: result }),
      );
      assert.equal(del.code, 0, del.stdout);
      assert.equal(node.fake!.held.size, 0, "the address went back");
      // The pod end is renamed before DEL answers, and deleted by an `ip` DEL leaves running, in its clean environment.
      assert.deepEqual(await pod.ipJson("link", "show", "dev", "eth0").catch(() => []), [], "eth0 is free");
      const podLinks = async () =>
        (await pod.ipJson("link", "show")).map((l) => l["ifname"]).filter((n) => n !== "lo");
      assert.deepEqual(await untilGone(podLinks), [], "the pod end is gone");
    } finally {
      holder.kill("SIGKILL");
      await holder.stdout.cancel().catch(() => {});
      await holder.status;
    }
  },
});

Deno.test({
  name: "aws-cni ADD refuses a /proc/<pid>/ns/net that is the node's own namespace, and leaves nothing",
  ignore: !ready,
  async fn() {
    await using node = await startNode({ ipamd: "fake" });
    // A process in the node's own namespace: its /proc link names the namespace the plugin runs in.
    const holder = new Deno.Command("ip", {
      args: ["netns", "exec", node.netns.name, "sh", "-c", "echo ready && exec sleep 120"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const reader = holder.stdout.getReader();
      await reader.read();
      reader.releaseLock();
      const netns = `/proc/${holder.pid}/ns/net`;
      const env = {
        CNI_COMMAND: "ADD",
        CNI_CONTAINERID: "nodens0",
        CNI_NETNS: netns,
        CNI_IFNAME: "eth9",
        CNI_PATH: "/opt/cni/bin",
      };
      const add = await node.plugin(env, JSON.stringify(node.netconf()));
      assert.notEqual(add.code, 0, add.stdout);
      const error = JSON.parse(add.stdout) as { code: number; msg: string };
      assert.equal(error.code, 4);
      assert.equal(
        error.msg,
        `Invalid environment: CNI_NETNS "${netns}" is the node's own network namespace`,
      );
      const links = (await node.netns.ipJson("link", "show")).map((l) => String(l["ifname"]));
      assert.deepEqual(links.filter((n) => !["lo", "eth0", "eth1"].includes(n)), [], "no veth is left");
      assert.equal(node.fake!.held.size, 0, "the address went back");
    } finally {
      holder.kill("SIGKILL");
      await holder.stdout.cancel().catch(() => {});
      await holder.status;
    }
  },
});
