/**
 * The plugin under a real CNI runtime library: a Go driver built from Debian's
 * libcni (tests/libcni/main.go) runs AddNetworkList, CheckNetworkList and
 * DelNetworkList on a conflist chaining aws-cni with Debian's portmap, inside
 * a node namespace (root only). Skipped, with a message, when `go` is absent.
 */
import assert from "node:assert/strict";
import { canCreateNetns, createTempDir, reach, run, untilGone } from "../testing/netns.ts";
import { AWS_CNI, binaryBuilt, pluginEnv, startNode } from "../testing/node.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const BUILD_DIR = `${ROOT}tests/.build`;
const DRIVER = `${BUILD_DIR}/libcni-driver`;
const PORTMAP = "/usr/lib/cni/portmap";
const GOCODE = "/usr/share/gocode";

/** Builds the driver offline in GOPATH mode; returns why it cannot, or undefined on success. */
async function buildDriver(): Promise<string | undefined> {
  if ((await run("sh", ["-c", "command -v go"])).code !== 0) {
    return "`go` is not installed (apt-get install golang-go)";
  }
  try {
    await Deno.stat(`${GOCODE}/src/github.com/containernetworking/cni/libcni`);
  } catch {
    return "libcni sources are missing (apt-get install golang-github-appc-cni-dev)";
  }
  await Deno.mkdir(BUILD_DIR, { recursive: true });
  const result = await run("go", ["build", "-o", DRIVER, `${ROOT}tests/libcni/main.go`], {
    env: {
      GO111MODULE: "off",
      GOPATH: `${BUILD_DIR}/gopath:${GOCODE}`,
      GOCACHE: `${BUILD_DIR}/gocache`,
      GOFLAGS: "",
    },
  });
  if (result.code !== 0) throw new Error(`Cannot build the libcni driver: ${result.stderr}`);
  return undefined;
}

/**
 * A directory whose ip6tables tools fail. Debian's portmap 1.1.1 checks IPv6
 * NAT chains on CHECK even for an IPv4-only pod and fails ("could not check
 * ipv6 dnat", containernetworking/plugins#819; ptp + portmap fails the same
 * way here), so the runtime gets a PATH on which portmap finds no usable
 * ip6tables, as on a node without IPv6 NAT.
 */
async function noIp6tablesDir(parent: string): Promise<string> {
  const dir = `${parent}/no-ip6tables`;
  await Deno.mkdir(dir, { recursive: true });
  for (const suffix of ["", "-save", "-restore"]) {
    await Deno.symlink("/bin/false", `${dir}/ip6tables${suffix}`);
  }
  return dir;
}

const netnsReady = await canCreateNetns() && await binaryBuilt();
const skip = !netnsReady ? "needs root, `ip netns add` and `make build`" : await buildDriver();
const hasPortmap = (await run("test", ["-x", PORTMAP])).code === 0;
if (skip !== undefined) {
  // deno-lint-ignore no-console
  console.warn(`plugin_libcni_test: skipped: ${skip}`);
}

Deno.test({
  name: "libcni AddNetworkList, CheckNetworkList, DelNetworkList x2 run aws-cni chained with portmap",
  ignore: skip !== undefined || !hasPortmap,
  async fn() {
    await using node = await startNode({ ipamd: "fake" });
    await using cache = await createTempDir("aws-cni-libcni-");
    const pod = await node.pod("libcni");
    const { cniVersion: _drop, ...ours } = node.netconf();
    const conflist = {
      cniVersion: "1.0.0",
      name: "aws-cni",
      plugins: [ours, { type: "portmap", capabilities: { portMappings: true }, snat: true }],
    };
    const confPath = `${cache.path}/10-aws.conflist`;
    await Deno.writeTextFile(confPath, JSON.stringify(conflist));
    const cniPath = `${AWS_CNI.slice(0, AWS_CNI.lastIndexOf("/"))}:/usr/lib/cni`;
    const path = `${await noIp6tablesDir(cache.path)}:${Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin"}`;
    const driver = (op: string) =>
      node.netns.exec(DRIVER, [op, confPath, "libcni-ctr-1", pod.path, "eth0", `${cache.path}/cache`], {
        env: pluginEnv({ CNI_PATH: cniPath, PATH: path }),
        clearEnv: true,
      });

    const add = await driver("add");
    assert.equal(add.code, 0, add.stderr);
    const result = JSON.parse(add.stdout) as Record<string, unknown>;
    assert.equal(result["cniVersion"], "1.0.0");
    assert.deepEqual((result["ips"] as Record<string, unknown>[])[0]?.["address"], "10.0.0.10/32");
    await reach(node.netns, pod, "10.0.0.10");
    const nat = await node.netns.exec("iptables-save", ["-t", "nat"]);
    assert.match(nat.stdout, /--to-destination 10\.0\.0\.10:80/, "portmap read our prevResult");

    const check = await driver("check");
    assert.equal(check.code, 0, check.stderr);
    for (let i = 0; i < 2; i++) {
      const del = await driver("del");
      assert.equal(del.code, 0, `DEL #${i + 1}: ${del.stderr}`);
    }
    const rules = await node.netns.ipJson("rule", "show");
    assert.equal(rules.length, 3, JSON.stringify(rules));
    // DEL leaves the pod end's deletion to the `ip` it started.
    const podLinks = async () =>
      (await pod.ipJson("link", "show")).map((l) => l["ifname"]).filter((n) => n !== "lo");
    assert.deepEqual(await untilGone(podLinks), []);
    assert.equal(node.fake!.held.size, 0);
    const natAfter = await node.netns.exec("iptables-save", ["-t", "nat"]);
    assert.doesNotMatch(natAfter.stdout, /10\.0\.0\.10/);
  },
});
