/**
 * The plugin in real namespaces (root only): a node namespace with two ENI
 * stand-ins and a fake ipamd on a Unix socket, pod namespaces under it, and
 * `dist/aws-cni` exec'd inside the node exactly as a runtime runs it.
 */
import assert from "node:assert/strict";
import { readReleaseQueue, releaseQueuePath } from "../cni/mod.ts";
import { canCreateNetns, type Netns, reach, untilGone } from "../testing/netns.ts";
import { AWS_CNI, binaryBuilt, startNode, type TestNode } from "../testing/node.ts";

const PLUGIN_VERSION = [AWS_CNI, "version"] as const;

const ready = await canCreateNetns() && await binaryBuilt();
if (!ready) {
  // deno-lint-ignore no-console
  console.warn("plugin_netns_test: skipped (needs root, `ip netns add`, and `make build` for dist/aws-cni)");
}
const netnsTest = (name: string, fn: () => Promise<void>): void =>
  Deno.test({ name, ignore: !ready, sanitizeResources: true, fn });

type Json = Record<string, unknown>;

function podEnv(command: string, pod: Netns | string, containerId: string, podName = containerId) {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_NETNS: typeof pod === "string" ? pod : pod.path,
    CNI_IFNAME: "eth0",
    CNI_PATH: "/opt/cni/bin",
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${podName}`,
  };
}

async function call(node: TestNode, env: Record<string, string>, conf: Json): Promise<Json | undefined> {
  const result = await node.plugin(env, JSON.stringify(conf));
  const lines = result.stdout.split("\n").filter((l) => l !== "");
  assert.ok(lines.length <= 1, `more than one line on stdout: ${result.stdout}`);
  const json = lines[0] === undefined ? undefined : JSON.parse(lines[0]) as Json;
  if (result.code !== 0) throw Object.assign(new Error(`plugin failed: ${result.stdout}`), { json });
  return json;
}

async function callFails(node: TestNode, env: Record<string, string>, conf: Json): Promise<Json> {
  const result = await node.plugin(env, JSON.stringify(conf));
  assert.notEqual(result.code, 0, `expected a failure, got ${result.stdout}`);
  return JSON.parse(result.stdout) as Json;
}

/** Links other than lo and the ENIs in the node. */
async function extraLinks(node: TestNode): Promise<string[]> {
  return (await node.netns.ipJson("link", "show")).map((l) => String(l["ifname"]))
    .filter((n) => !["lo", "eth0", "eth1"].includes(n));
}

/**
 * Rules other than the 3 defaults and pod routes in the node, as they are
 * (before any link goes, which would take its routes along), then links other
 * than lo and the ENIs once they settle: DEL answers before the kernel has
 * finished deleting the pod's veth pair, which the `ip` it started finishes.
 */
async function leftovers(node: TestNode): Promise<string[]> {
  const rules = (await node.netns.ipJson("rule", "show")).filter((r) =>
    ![0, 32766, 32767].includes(r["priority"] as number)
  )
    .map((r) => JSON.stringify(r));
  const routes = (await node.netns.ipJson("route", "show")).filter((r) =>
    r["scope"] === "link" && !r["protocol"]
  )
    .map((r) => JSON.stringify(r));
  return [...await untilGone(() => extraLinks(node)), ...rules, ...routes];
}

for (const version of ["0.4.0", "1.0.0", "1.1.0"]) {
  netnsTest(`aws-cni ${version}: ADD, reach, CHECK, DEL, DEL, then CHECK fails`, async () => {
    await using node = await startNode({ ipamd: "fake" });
    const pod = await node.pod("pod");
    const conf = node.netconf({ cniVersion: version });
    const result = await call(node, podEnv("ADD", pod, "c1", "web-0"), conf);
    assert.equal(result?.["cniVersion"], version);
    const ips = result?.["ips"] as Json[];
    assert.equal(ips[0]?.["address"], "10.0.0.10/32");
    assert.equal(ips[0]?.["version"], version === "0.4.0" ? "4" : undefined);
    const [link] = await pod.ipJson("addr", "show", "dev", "eth0");
    assert.equal(link?.["mtu"], 9001);
    await reach(node.netns, pod, "10.0.0.10");
    const withPrev = { ...conf, prevResult: result };
    assert.equal(await call(node, podEnv("CHECK", pod, "c1", "web-0"), withPrev), undefined);
    for (let i = 0; i < 2; i++) await call(node, podEnv("DEL", pod, "c1", "web-0"), withPrev);
    assert.deepEqual(await leftovers(node), []);
    assert.deepEqual(await pod.ipJson("link", "show", "dev", "lo").then((l) => l.length), 1);
    assert.equal(node.fake!.held.size, 0);
    const check = await callFails(node, podEnv("CHECK", pod, "c1", "web-0"), withPrev);
    assert.match(String(check["msg"]), /missing pod interface "eth0"/);
    assert.match(String(check["msg"]), /host rule "to 10\.0\.0\.10 lookup main" prio 512/);
  });
}

netnsTest("aws-cni: a secondary-ENI address gets the from rule for its table and is reachable", async () => {
  await using node = await startNode({ ipamd: "fake" });
  const pod = await node.pod("pod");
  node.fake!.secondaryOnly = true;
  const conf = node.netconf({ mtu: 1500, vethPrefix: "abc" });
  const result = await call(node, podEnv("ADD", pod, "c2", "api-1"), conf);
  const rules = await node.netns.ipJson("rule", "show");
  assert.ok(rules.some((r) => r["priority"] === 1536 && r["src"] === "10.0.1.10" && r["table"] === "2"));
  const hostVeth = ((result?.["interfaces"] as Json[])[0]?.["name"]) as string;
  assert.match(hostVeth, /^abc[0-9a-f]{11}$/);
  assert.equal((await node.netns.ipJson("link", "show", "dev", hostVeth))[0]?.["mtu"], 1500);
  await reach(node.netns, pod, "10.0.1.10");
  await node.netns.ip("rule del from 10.0.1.10 prio 1536");
  const check = await callFails(node, podEnv("CHECK", pod, "c2", "api-1"), { ...conf, prevResult: result });
  assert.match(
    String(check["msg"]),
    /^CHECK failed for "eth0": missing host rule "from 10\.0\.1\.10 lookup 2" prio 1536$/,
  );
  await call(node, podEnv("DEL", pod, "c2", "api-1"), { ...conf, prevResult: result });
  assert.deepEqual(await leftovers(node), []);
});

netnsTest(
  "aws-cni: DEL with ipamd down tears down from prevResult, queues the release, and succeeds",
  async () => {
    await using node = await startNode({ ipamd: "fake" });
    const pod = await node.pod("pod");
    const conf = node.netconf();
    const result = await call(node, podEnv("ADD", pod, "c3"), conf);
    await node.stopFake();
    const add = await callFails(node, podEnv("ADD", await node.pod("other"), "c4"), conf);
    assert.equal(add["code"], 11);
    await call(node, podEnv("DEL", pod, "c3"), { ...conf, prevResult: result });
    assert.deepEqual(await leftovers(node), []);
    const queued = await readReleaseQueue(node.mounts.outside(releaseQueuePath(node.paths.socket)));
    assert.equal(queued.length, 1);
    assert.deepEqual(queued[0]?.ipv4Addrs, ["10.0.0.10"]);
    assert.equal(queued[0]?.request.containerId, "c3");
    assert.equal(queued[0]?.request.reason, "PodDeleted");
  },
);

netnsTest(
  "aws-cni: DEL succeeds for a missing netns, no prevResult, and a never-added container",
  async () => {
    await using node = await startNode({ ipamd: "fake" });
    const pod = await node.pod("gone");
    const result = await call(node, podEnv("ADD", pod, "c5"), node.netconf());
    await pod[Symbol.asyncDispose]();
    await call(node, podEnv("DEL", pod.path, "c5"), node.netconf());
    await call(node, podEnv("DEL", "", "never-added"), node.netconf());
    assert.equal(node.fake!.held.size, 0);
    assert.ok(result !== undefined);
    assert.deepEqual(await leftovers(node), []);
  },
);

netnsTest(
  "aws-cni: 50 parallel ADDs get distinct addresses and host veths; 50 DELs leave nothing",
  async () => {
    await using node = await startNode({ ipamd: "fake" });
    const pods = await Promise.all(Array.from({ length: 50 }, (_, i) => node.pod(`p${i}`)));
    const conf = node.netconf();
    const started = performance.now();
    const results = await Promise.all(pods.map((pod, i) => call(node, podEnv("ADD", pod, `par${i}`), conf)));
    const elapsedMs = performance.now() - started;
    const addresses = new Set(results.map((r) => (r?.["ips"] as Json[])[0]?.["address"]));
    const veths = new Set(results.map((r) => (r?.["interfaces"] as Json[])[0]?.["name"]));
    assert.equal(addresses.size, 50);
    assert.equal(veths.size, 50);
    const links = await node.netns.ipJson("link", "show");
    assert.equal(links.length, 3 + 50);
    await Promise.all(
      pods.map((pod, i) => call(node, podEnv("DEL", pod, `par${i}`), { ...conf, prevResult: results[i] })),
    );
    assert.deepEqual(await leftovers(node), []);
    // A DEL that ipamd did not answer within its deadline (a loaded machine) queues the release, as designed.
    const queued = await node.applyQueuedReleases();
    assert.equal(node.fake!.held.size, 0);
    // deno-lint-ignore no-console
    console.log(
      `50 parallel ADDs took ${elapsedMs.toFixed(0)} ms; ${queued} releases went through the queue`,
    );
  },
);

netnsTest("aws-cni: a failing pod-side step rolls back everything and returns the address", async () => {
  await using node = await startNode({ ipamd: "fake" });
  const pod = await node.pod("pod");
  await pod.ip("route add 169.254.1.1/32 dev lo"); // the pod batch's gateway route now conflicts
  const error = await callFails(node, podEnv("ADD", pod, "c6"), node.netconf());
  assert.equal(error["code"], 999);
  assert.match(String(error["details"]), /File exists/);
  assert.deepEqual(await leftovers(node), []);
  assert.deepEqual((await pod.ipJson("link", "show")).map((l) => l["ifname"]), ["lo"]);
  assert.equal(node.fake!.held.size, 0);
  assert.deepEqual(node.fake!.releases.map((r) => [r.containerId, r.reason]), [["c6", "SetupNSFailed"]]);
  assert.equal(node.fake!.free.at(-1)?.ipv4Addr, "10.0.0.10", "the address is back in the pool");
});

netnsTest("aws-cni: ADD refuses an interface name already in the pod and leaves nothing", async () => {
  await using node = await startNode({ ipamd: "fake" });
  const pod = await node.pod("pod");
  await pod.ip("link add eth0 type bridge");
  const error = await callFails(node, podEnv("ADD", pod, "c7"), node.netconf());
  assert.match(String(error["details"]), /File exists/);
  assert.deepEqual(await leftovers(node), []);
  assert.equal(node.fake!.held.size, 0);
});

netnsTest("aws-cni: ADD and DEL wall time through dist/aws-cni (printed, median of 10)", async () => {
  await using node = await startNode({ ipamd: "fake" });
  const conf = node.netconf({ pluginLogLevel: "info" });
  const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const adds: number[] = [];
  const dels: number[] = [];
  const starts: number[] = [];
  for (let i = 0; i < 10; i++) {
    const pod = await node.pod(`lat${i}`);
    let t = performance.now();
    await node.netns.exec(PLUGIN_VERSION[0], PLUGIN_VERSION.slice(1));
    starts.push(performance.now() - t);
    t = performance.now();
    const result = await call(node, podEnv("ADD", pod, `lat${i}`), conf);
    adds.push(performance.now() - t);
    t = performance.now();
    await call(node, podEnv("DEL", pod, `lat${i}`), { ...conf, prevResult: result });
    dels.push(performance.now() - t);
  }
  assert.deepEqual(await leftovers(node), []);
  // deno-lint-ignore no-console
  console.log(
    `median wall time: ADD ${median(adds).toFixed(0)} ms, DEL ${median(dels).toFixed(0)} ms, ` +
      `"aws-cni version" (process start only) ${median(starts).toFixed(0)} ms`,
  );
});

netnsTest(
  "aws-cni: ADD with a CNI_NETNS that is a plain file gives code 4 and gives the address back",
  async () => {
    await using node = await startNode({ ipamd: "fake" });
    // A file the plugin may read (under /run/aws-node), so only the namespace check can refuse it.
    const file = "/run/aws-node/not-a-netns";
    await Deno.writeTextFile(node.mounts.outside(file), "");
    const error = await callFails(node, podEnv("ADD", file, "c8"), node.netconf());
    assert.equal(error["code"], 4);
    assert.match(String(error["msg"]), /"\/run\/aws-node\/not-a-netns" is not a network namespace/);
    assert.deepEqual(await leftovers(node), []);
    assert.equal(node.fake!.held.size, 0);
  },
);
