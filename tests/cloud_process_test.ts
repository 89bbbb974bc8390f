/**
 * The simulated cloud as a process in a node's network namespace (root only):
 * the primary ENI is a link with its MAC and address from the start, really up
 * with carrier and a reachable router; an ENI attached through the EC2 Query
 * API appears as a link once the attach completes and goes once it is detached;
 * the control channel reaches it from this namespace; SIGTERM removes every
 * link and the VPC side's namespace.
 */
import assert from "node:assert/strict";
import { startCloudProcess } from "../testing/cloud_process.ts";
import { startLoopbackBridge } from "../testing/loopback_bridge.ts";
import { canCreateNetns, createNetns, createTempDir, reach } from "../testing/netns.ts";

const ROOT = await canCreateNetns();

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One EC2 Query call through the bridge; returns the XML answer. */
async function ec2(
  bridge: { fetch(port: number, path: string, init?: RequestInit): Promise<Response> },
  port: number,
  params: Record<string, string>,
): Promise<string> {
  const body = new URLSearchParams({ ...params, Version: "2016-11-15" }).toString();
  const response = await bridge.fetch(port, "/", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return text;
}

function tag(xml: string, name: string): string {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  assert.ok(match !== null, `no <${name}> in ${xml}`);
  return match[1]!;
}

Deno.test({
  name:
    "the simulated cloud hot-plugs ENI links with their MACs in the node's namespace and removes them on SIGTERM",
  ignore: !ROOT,
  async fn() {
    await using node = await createNetns("cloud");
    await using dir = await createTempDir("aws-cni-cloud-");
    await using cloud = await startCloudProcess(node.path, dir.path, { instanceType: "t3.small" });
    await using bridge = await startLoopbackBridge(node.path, dir.path);
    const { ready } = cloud;
    assert.match(ready.ec2Endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(ready.imdsEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const links = async () => await node.ipJson("addr", "show");
    const primary = (await links()).find((l) => l["address"] === ready.primaryMac);
    assert.ok(primary !== undefined, `a link with the primary MAC ${ready.primaryMac}`);
    assert.equal(primary["ifname"], "eth0");
    assert.equal(primary["mtu"], 9001);
    assert.equal(primary["operstate"], "UP", "up with carrier");
    assert.ok((primary["flags"] as string[]).includes("LOWER_UP"));
    const [address, bits] = ready.primaryAddress.split("/");
    assert.ok(
      (primary["addr_info"] as { local: string; prefixlen: number }[])
        .some((a) => a.local === address && a.prefixlen === Number(bits)),
      "the primary address on its link",
    );
    const routes = await node.ipJson("route", "show", "default");
    assert.deepEqual(routes.map((r) => [r["gateway"], r["dev"]]), [["10.0.0.1", "eth0"]]);
    await reach(node, node, "10.0.0.1");

    const ec2Port = Number(new URL(ready.ec2Endpoint).port);
    const created = await ec2(bridge, ec2Port, {
      Action: "CreateNetworkInterface",
      SubnetId: ready.subnetId,
    });
    const eniId = tag(created, "networkInterfaceId");
    const mac = tag(created, "macAddress");
    const attached = await ec2(bridge, ec2Port, {
      Action: "AttachNetworkInterface",
      NetworkInterfaceId: eniId,
      InstanceId: ready.instanceId,
      DeviceIndex: "1",
    });
    const eth1 = await until("the ENI's link", async () => (await links()).find((l) => l["address"] === mac));
    assert.equal(eth1["ifname"], "eth1");
    assert.equal(eth1["mtu"], 9001);
    const state = await cloud.control.state();
    assert.deepEqual(state.links.map((l) => l.deviceIndex), [0, 1]);
    assert.equal(state.enis.find((e) => e.eniId === eniId)?.status, "in-use");
    assert.equal(state.calls.AttachNetworkInterface, 1);

    const token = await (await bridge.fetch(Number(new URL(ready.imdsEndpoint).port), "/latest/api/token", {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" },
    })).text();
    const macs = await (await bridge.fetch(
      Number(new URL(ready.imdsEndpoint).port),
      "/latest/meta-data/network/interfaces/macs/",
      { headers: { "x-aws-ec2-metadata-token": token } },
    )).text();
    assert.ok(macs.includes(mac) && macs.includes(ready.primaryMac), macs);

    await ec2(bridge, ec2Port, {
      Action: "DetachNetworkInterface",
      AttachmentId: tag(attached, "attachmentId"),
    });
    await until(
      "the link to go",
      async () => (await links()).some((l) => l["address"] === mac) ? undefined : true,
    );

    const exit = await cloud.stop();
    assert.equal(exit.code, 0, exit.stderr);
    assert.deepEqual((await links()).map((l) => l["ifname"]), ["lo"], "every ENI link is gone");
    assert.equal(await Deno.stat(`/proc/${ready.vpcHolderPid}`).then(() => true, () => false), false);
    assert.match(exit.stderr, /"msg":"simulated cloud stopped"/);
  },
});

Deno.test({
  name: "a simulated cloud that is killed takes its ENI links and VPC side along",
  ignore: !ROOT,
  async fn() {
    await using node = await createNetns("cloudkill");
    await using dir = await createTempDir("aws-cni-cloud-");
    await using cloud = await startCloudProcess(node.path, dir.path, { instanceType: "t3.small" });
    assert.deepEqual((await node.ipJson("link", "show")).map((l) => l["ifname"]), ["lo", "eth0"]);
    const exit = await cloud.kill9();
    assert.equal(exit.signal, "SIGKILL");
    await until("the links to go", async () => {
      const names = (await node.ipJson("link", "show")).map((l) => l["ifname"]);
      return names.length === 1 ? names : undefined;
    });
    await until(
      "the VPC side's holder to end",
      async () => await Deno.stat(`/proc/${cloud.ready.vpcHolderPid}`).then(() => undefined, () => true),
    );
  },
});
