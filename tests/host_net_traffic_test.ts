/**
 * Traffic through a node set up by `HostNetwork` (root only). The node's primary
 * ENI is a veth to an "internet" namespace (gateway 10.0.0.1, a server at
 * 198.51.100.10), its secondary ENI a veth to a "vpc" namespace (gateway
 * 10.0.0.1 and a VPC host 10.0.0.99). A pod with an address of the secondary
 * ENI sits behind a host veth wired as the plugin wires it. The pod reaches
 * the VPC host from its own address through the secondary ENI's table, and
 * the internet server through the primary ENI, SNATed to the node's address.
 */
import assert from "node:assert/strict";
import { mustDrive } from "../testing/netns_driver.ts";
import type { HostSetup } from "../ipamd/node/host/types.ts";
import { canCreateNetns, createNetns, peerSeen, run } from "../testing/netns.ts";

async function installed(program: string): Promise<boolean> {
  try {
    return (await run(program, ["--version"])).code === 0;
  } catch {
    return false;
  }
}

const netnsOk = await canCreateNetns();
const iptablesOk = await installed("iptables-save") && await installed("iptables-restore");
if (!netnsOk || !iptablesOk) {
  // deno-lint-ignore no-console
  console.warn("host_net_traffic_test: skipped (needs root, `ip netns add`, and iptables)");
}
const ready = netnsOk && iptablesOk;

const PRIMARY_MAC = "02:00:00:00:00:10";
const ENI1 = { mac: "02:00:00:00:01:11", primaryIp: "10.0.0.6", subnetCidr: "10.0.0.0/24", deviceNumber: 1 };
const POD_IP = "10.0.0.20";
const POD_VETH = "eni0123456789a";
const HOST: HostSetup = {
  primaryIf: "eth0",
  primaryIp: "10.0.0.5",
  vpcCidrs: ["10.0.0.0/16"],
  excludeSnatCidrs: [],
  externalSnat: false,
  randomizeSnat: "prng",
  nodePortSupport: true,
  connmark: 0x80,
  vethPrefix: "eni",
  eniMtu: 1500,
};

Deno.test({
  name:
    "a pod on a secondary ENI reaches the VPC from its own address and the internet SNATed via the primary ENI",
  ignore: !ready,
  sanitizeResources: true,
  async fn() {
    await using node = await createNetns("node");
    await using internet = await createNetns("inet");
    await using vpc = await createNetns("vpc");
    await using pod = await createNetns("pod");

    // ENIs: veths whose far ends are the subnet's router.
    await node.ip(
      `link add eth0 address ${PRIMARY_MAC} type veth peer name up0 netns ${internet.name}`,
      `link add eth1 address ${ENI1.mac} type veth peer name up1 netns ${vpc.name}`,
      "addr add 10.0.0.5/24 dev eth0",
      "link set eth0 up",
      "route add default via 10.0.0.1 dev eth0",
    );
    await internet.ip("addr add 10.0.0.1/24 dev up0", "link set up0 up", "addr add 198.51.100.10/32 dev lo");
    // The VPC fabric knows the pod address lives on the ENI.
    await vpc.ip(
      "addr add 10.0.0.1/24 dev up1",
      "addr add 10.0.0.99/24 dev up1",
      "link set up1 up",
      `route add ${POD_IP}/32 via ${ENI1.primaryIp} dev up1`,
    );
    assert.equal((await node.exec("sysctl", ["-qw", "net.ipv4.ip_forward=1"])).code, 0);

    await mustDrive(node.name, [{ op: "setupHost", host: HOST }, {
      op: "setupEni",
      eni: { ...ENI1, mtu: 1500 },
    }]);

    // The pod, wired as the plugin wires it.
    await node.ip(
      `link add ${POD_VETH} type veth peer name eth0 netns ${pod.name}`,
      `link set ${POD_VETH} up`,
    );
    const [hostVeth] = await node.ipJson("link", "show", "dev", POD_VETH);
    await pod.ip(
      `addr add ${POD_IP}/32 dev eth0`,
      "link set eth0 up",
      "route add 169.254.1.1 dev eth0 scope link",
      "route add default via 169.254.1.1 dev eth0",
      `neigh add 169.254.1.1 lladdr ${hostVeth?.["address"]} dev eth0 nud permanent`,
    );
    await node.ip(
      `route add ${POD_IP}/32 dev ${POD_VETH} scope link`,
      `rule add to ${POD_IP} lookup main prio 512`,
      `rule add from ${POD_IP} lookup 2 prio 1536`,
    );

    // Return path: the pod's VPC traffic leaves through the ENI's table; marked traffic through main.
    const [inVpc] = await node.ipJson("route", "get", "10.0.0.99", "from", POD_IP, "iif", POD_VETH);
    assert.equal(inVpc?.["dev"], "eth1");
    assert.equal(inVpc?.["gateway"], "10.0.0.1");
    const [marked] = await node.ipJson(
      "route",
      "get",
      "198.51.100.10",
      "from",
      POD_IP,
      "iif",
      POD_VETH,
      "mark",
      "0x80",
    );
    assert.equal(marked?.["dev"], "eth0");
    const [toPod] = await node.ipJson("route", "get", POD_IP, "from", "10.0.0.99", "iif", "eth1");
    assert.equal(toPod?.["dev"], POD_VETH);

    assert.equal(await peerSeen(vpc, pod, "10.0.0.99"), POD_IP, "VPC traffic keeps the pod address");
    assert.equal(
      await peerSeen(internet, pod, "198.51.100.10"),
      HOST.primaryIp,
      "internet traffic is SNATed",
    );

    // Control: without the connmark rules (external SNAT) the same traffic follows the ENI's table
    // into the VPC, which has no route to the internet server.
    await mustDrive(node.name, [{
      op: "setupHost",
      host: { ...HOST, externalSnat: true, nodePortSupport: false },
    }]);
    const [unmarked] = await node.ipJson("route", "get", "198.51.100.10", "from", POD_IP, "iif", POD_VETH);
    assert.equal(unmarked?.["dev"], "eth1");
    assert.equal(await peerSeen(internet, pod, "198.51.100.10", 2), null);
  },
});
