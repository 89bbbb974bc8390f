/**
 * ipamd's host networking on a test node (root only): `dist/aws-cni --daemon`
 * against the simulated cloud, which hot-plugs each ENI it attaches as a link
 * with its MAC in the node's namespace. ipamd sets up the primary ENI's rules
 * and SNAT, and each new ENI's link, table and rule, for real, in that
 * namespace only.
 */
import { equal, ok } from "node:assert/strict";
import { IpamdClient } from "../cni/rpc/client.ts";
import { addRequest } from "../testing/ipamd_requests.ts";
import { nodesReady, startNode } from "../testing/node.ts";

const ready = await nodesReady();

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
  name:
    "ipamd sets up the ENIs the cloud hot-plugs, their tables and rules, and SNAT, in the node's namespace",
  ignore: !ready,
  async fn() {
    await using node = await startNode({ label: "hostnet", env: { WARM_ENI_TARGET: "0" } });
    const cloud = node.cloud!;
    const client = new IpamdClient(node.outside(node.paths.socket));
    try {
      const links = await node.netns.ipJson("link", "show");
      const primary = links.find((l) => l["address"] === cloud.ready.primaryMac);
      equal(primary?.["ifname"], "eth0", "the primary ENI's link");
      equal(primary?.["mtu"], 9001);
      for (let i = 0; i < 4; i++) await client.addNetwork(addRequest(`pod-${i}`), { deadlineMs: 15_000 });
      const second = await waitFor("a second ENI", async () => {
        const enis = (await cloud.control.state()).enis.filter((e) => e.attachment?.status === "attached");
        return enis.find((e) => e.attachment?.deviceIndex === 1);
      });
      const eth1 = await waitFor("the second ENI's link, set up", async () => {
        const found = (await node.netns.ipJson("link", "show")).find((l) => l["address"] === second.mac);
        return found !== undefined && (found["flags"] as string[]).includes("UP") ? found : undefined;
      });
      equal(eth1["ifname"], "eth1");
      equal(eth1["mtu"], 9001);
      const rule = await waitFor("the ENI's rule", async () => {
        const rules = await node.netns.ipJson("rule", "show");
        return rules.find((r) => r["priority"] === 32765 && r["table"] === "2");
      });
      equal(rule["src"], second.privateIp, "rule from the ENI's primary IP to table 2");
      const table2 = await node.netns.ipJson("route", "show", "table", "2");
      ok(
        table2.some((r) => r["dst"] === "default" && r["dev"] === "eth1" && r["gateway"] === "10.0.0.1"),
        "default route in table 2 via the ENI and the subnet's router",
      );
      const nat = await node.netns.exec("iptables-save", ["-t", "nat"]);
      ok(nat.stdout.includes("AWS-SNAT-CHAIN-0"), "the SNAT chain exists");
      ok(/-A AWS-SNAT-CHAIN-0 -d 10\.0\.0\.0\/16 .*-j RETURN/.test(nat.stdout), "VPC traffic is not SNATed");
      const address = cloud.ready.primaryAddress.split("/")[0];
      ok(nat.stdout.includes(`--to-source ${address}`), "SNAT to the primary address");
    } finally {
      await client.close();
    }
    equal((await node.daemon.stop()).code, 0);
  },
});
