/**
 * `aws-cni --daemon --simulate --host-network` inside a namespace the test makes:
 * stand-in links appear for attached ENIs, and the daemon's host setup (per-ENI
 * tables and rules, SNAT chain) is applied to them for real. The namespace is a
 * test node (`createNodeMounts`): the daemon uses its default socket and checkpoint.
 */
import { equal, ok } from "node:assert/strict";
import { IpamdClient } from "../cni/rpc/client.ts";
import { ServingStatus } from "../shared/rpc/messages.ts";
import { addRequest, NODE_FILES, spawnNodeDaemon } from "../testing/ipamd_requests.ts";
import { canCreateNetns, createNetns, createNodeMounts } from "../testing/netns.ts";

const ROOT = await canCreateNetns();

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

Deno.test({
  name: "ipamd --simulate --host-network sets up stand-in ENIs, their tables and rules, and SNAT",
  ignore: !ROOT,
  async fn() {
    await using mounts = await createNodeMounts();
    await using node = await createNetns("hostnet", mounts);
    const daemon = spawnNodeDaemon(
      mounts,
      ["--simulate", "t3.small", "--simulate-latency-ms", "20", "--host-network"],
      { netns: node, env: { AWS_VPC_K8S_CNI_LOG_FILE: NODE_FILES.log, WARM_ENI_TARGET: "0" } },
    );
    const client = new IpamdClient(mounts.outside(NODE_FILES.socket));
    try {
      await waitFor(
        "ipamd",
        async () => (await client.healthCheck({ deadlineMs: 500 })) === ServingStatus.SERVING || undefined,
      );
      const links = await node.ipJson("link", "show");
      ok(links.some((l) => l.ifname === "simeni0"), "the primary ENI has a stand-in link");
      for (let i = 0; i < 4; i++) await client.addNetwork(addRequest(`pod-${i}`), { deadlineMs: 15_000 });
      const eni1 = await waitFor("a second ENI's stand-in", async () => {
        const found = (await node.ipJson("link", "show")).find((l) => l.ifname === "simeni1");
        return found;
      });
      equal(eni1.mtu, 9001);
      const rules = await node.ipJson("rule", "show");
      ok(
        rules.some((r) => r.priority === 32765 && r.table === "2"),
        "rule from the ENI's primary IP to table 2",
      );
      const table2 = await node.ipJson("route", "show", "table", "2");
      ok(
        table2.some((r) => r.dst === "default" && r.dev === "simeni1"),
        "default route in table 2 via the ENI",
      );
      const nat = await node.exec("iptables-save", ["-t", "nat"]);
      ok(nat.stdout.includes("AWS-SNAT-CHAIN-0"), "the SNAT chain exists");
      ok(/-A AWS-SNAT-CHAIN-0 -d 10\.0\.0\.0\/16 .*-j RETURN/.test(nat.stdout), "VPC traffic is not SNATed");
    } finally {
      await client.close();
      daemon.kill("SIGTERM");
      equal((await daemon.status).code, 0);
    }
  },
});
