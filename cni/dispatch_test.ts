import assert from "node:assert/strict";
import { Status } from "../shared/rpc/status.ts";
import { RpcCallError } from "../shared/rpc/status.ts";
import { createFakes, invoke, netconf, POD_NETNS, podEnv } from "../testing/plugin_deps.ts";
import { checkNetns } from "./netns_check.ts";

Deno.test("dispatch() ADD, CHECK, DEL, DEL wires the pod, checks it, and leaves nothing behind", async () => {
  const f = createFakes();
  const add = await invoke(f, podEnv("ADD"), netconf());
  assert.equal(add.status, 0, JSON.stringify(add.json));
  assert.equal(f.ip.execs, 2, "two ip sessions, host and pod, started while ipamd answers");
  const result = add.json!;
  assert.equal(result["cniVersion"], "1.0.0");
  const interfaces = result["interfaces"] as Record<string, unknown>[];
  assert.equal(interfaces[0]?.["name"], "eni0d7763386da", 'eni + sha1("default.web-0")[:11]');
  assert.deepEqual(interfaces[1]?.["sandbox"], POD_NETNS);
  assert.equal(interfaces[2]?.["name"], "aws-cni/route-table/254");
  assert.deepEqual(result["ips"], [{ address: "10.0.0.10/32", gateway: "169.254.1.1", interface: 1 }]);
  assert.equal(f.ip.host.rules.length, 1);

  const check = await invoke(f, podEnv("CHECK"), netconf({ prevResult: result }));
  assert.equal(check.status, 0, JSON.stringify(check.json));
  assert.equal(check.json, undefined, "CHECK prints nothing on success");

  for (const round of [1, 2]) {
    const del = await invoke(f, podEnv("DEL"), netconf({ prevResult: result }));
    assert.equal(del.status, 0, `DEL #${round}: ${JSON.stringify(del.json)}`);
    assert.equal(del.json, undefined);
  }
  assert.ok(f.ip.host.isEmpty(), JSON.stringify(f.ip.host));
  assert.ok(f.ip.namespaces.get(POD_NETNS)!.isEmpty());
  assert.equal(f.ipamd.held.size, 0);
  assert.equal(f.sockets[0], "/var/run/aws-node/ipamd.sock");
});

Deno.test("dispatch() ADD on a secondary-ENI address adds the from rule, and CHECK names what is missing", async () => {
  const f = createFakes();
  f.ipamd.free.splice(0, 10); // only device-1 addresses left
  const add = await invoke(f, podEnv("ADD"), netconf({ cniVersion: "1.1.0" }));
  assert.equal(add.status, 0);
  assert.deepEqual(f.ip.host.rules.map((r) => [r.prio, r.table]), [[512, "main"], [1536, "2"]]);
  const interfaces = add.json!["interfaces"] as Record<string, unknown>[];
  assert.equal(interfaces[1]?.["mtu"], 9001, "1.1.0 results carry the interface MTU");
  f.ip.host.rules.pop();
  f.ip.namespaces.get(POD_NETNS)!.neighs.length = 0;
  f.ipamd.held.clear();
  const check = await invoke(f, podEnv("CHECK"), netconf({ cniVersion: "1.1.0", prevResult: add.json }));
  assert.equal(check.status, 1);
  const msg = String(check.json!["msg"]);
  assert.match(msg, /missing permanent pod neighbour 169\.254\.1\.1/);
  assert.match(msg, /missing host rule "from 10\.0\.1\.10 lookup 2" prio 1536/);
  assert.match(msg, /missing ipamd allocation of 10\.0\.1\.10/);
  assert.doesNotMatch(msg, /address 10\.0\.1\.10\/32/);
});

Deno.test("dispatch() CHECK tells a piece that differs from one that is missing", async () => {
  const f = createFakes();
  const add = await invoke(f, podEnv("ADD"), netconf({ cniVersion: "1.1.0" }));
  assert.equal(add.status, 0);
  const neigh = f.ip.namespaces.get(POD_NETNS)!.neighs[0]!;
  neigh.lladdr = "02:00:00:00:00:01";
  neigh.permanent = false;
  f.ipamd.held.clear();
  const check = await invoke(f, podEnv("CHECK"), netconf({ cniVersion: "1.1.0", prevResult: add.json }));
  const msg = String(check.json!["msg"]);
  assert.match(msg, /different pod neighbour 169\.254\.1\.1: 02:00:00:00:00:01 [A-Z]*, expected permanent/);
  assert.match(msg, /missing ipamd allocation of /);
});

Deno.test("dispatch() ADD renders 0.4.0 with ips[].version and carries a chained prevResult", async () => {
  const f = createFakes();
  const prevResult = {
    cniVersion: "0.4.0",
    interfaces: [{ name: "lo", sandbox: POD_NETNS }],
    ips: [{ version: "6", address: "fd00::1/128", interface: 0 }],
    dns: { nameservers: ["10.0.0.2"] },
  };
  const add = await invoke(f, podEnv("ADD"), netconf({ cniVersion: "0.4.0", prevResult }));
  assert.equal(add.status, 0, JSON.stringify(add.json));
  const json = add.json!;
  assert.equal((json["interfaces"] as unknown[]).length, 4);
  assert.deepEqual(json["ips"], [
    { version: "6", address: "fd00::1/128", interface: 0 },
    { version: "4", address: "10.0.0.10/32", gateway: "169.254.1.1", interface: 2 },
  ]);
  assert.deepEqual(json["dns"], { nameservers: ["10.0.0.2"] });
  const del = await invoke(f, podEnv("DEL"), netconf({ cniVersion: "0.4.0", prevResult: json }));
  assert.equal(del.status, 0);
});

Deno.test("dispatch() VERSION answers in the requested version with every supported version", async () => {
  const f = createFakes();
  const { status, json } = await invoke(f, { CNI_COMMAND: "VERSION" }, '{"cniVersion":"0.4.0"}');
  assert.equal(status, 0);
  assert.deepEqual(json, { cniVersion: "0.4.0", supportedVersions: ["0.4.0", "1.0.0", "1.1.0"] });
  const bare = await invoke(f, { CNI_COMMAND: "VERSION" }, "");
  assert.deepEqual(bare.json, { cniVersion: "1.1.0", supportedVersions: ["0.4.0", "1.0.0", "1.1.0"] });
});

Deno.test("dispatch() reports spec error codes", async (t) => {
  const cases: [string, Record<string, string>, string, number, RegExp][] = [
    ["unknown command", podEnv("FROB"), netconf(), 4, /CNI_COMMAND "FROB" is unknown/],
    ["missing command", {}, netconf(), 4, /CNI_COMMAND is not set/],
    [
      "every bad variable at once",
      { CNI_COMMAND: "ADD", CNI_CONTAINERID: "-bad", CNI_IFNAME: "eth 0" },
      netconf(),
      4,
      /CNI_CONTAINERID does not match.*CNI_NETNS is not set.*CNI_IFNAME contains whitespace/,
    ],
    [
      "ifname too long",
      podEnv("ADD", { CNI_IFNAME: "a234567890123456" }),
      netconf(),
      4,
      /longer than 15 bytes/,
    ],
    ["ifname dot-dot", podEnv("DEL", { CNI_IFNAME: ".." }), netconf(), 4, /reserved/],
    ["ifname slash", podEnv("DEL", { CNI_IFNAME: "a/b" }), netconf(), 4, /contains '\/'/],
    [
      "netns missing",
      podEnv("ADD", { CNI_NETNS: "/var/run/netns/nope" }),
      netconf(),
      4,
      /CNI_NETNS "\/var\/run\/netns\/nope" does not exist/,
    ],
    ["bad CNI_ARGS", podEnv("ADD", { CNI_ARGS: "K8S_POD_NAME" }), netconf(), 4, /CNI_ARGS/],
    ["GC without CNI_PATH", podEnv("GC", { CNI_PATH: "" }), netconf({ cniVersion: "1.1.0" }), 4, /CNI_PATH/],
    ["bad JSON", podEnv("ADD"), "{", 6, /Cannot decode/],
    ["not an object", podEnv("ADD"), "[1]", 6, /Cannot decode/],
    ["unsupported version", podEnv("ADD"), netconf({ cniVersion: "0.3.1" }), 1, /Incompatible CNI version/],
    ["GC on 1.0.0", podEnv("GC"), netconf(), 1, /does not allow GC/],
    ["no cniVersion", podEnv("ADD"), '{"name":"n","type":"t"}', 7, /cniVersion is required/],
    [
      "bad mtu and prefix",
      podEnv("ADD"),
      netconf({ mtu: 100, vethPrefix: "toolong" }),
      7,
      /mtu must be an integer from 576 to 9001; vethPrefix must be/,
    ],
    [
      "bad prevResult",
      podEnv("DEL"),
      netconf({ prevResult: { ips: [{}] } }),
      7,
      /prevResult ips\[0\]\.address/,
    ],
    ["CHECK without prevResult", podEnv("CHECK"), netconf(), 7, /CHECK needs prevResult/],
  ];
  for (const [name, env, stdin, code, msg] of cases) {
    await t.step(name, async () => {
      const f = createFakes();
      const { status, json, io } = await invoke(f, env, stdin);
      assert.equal(status, 1);
      assert.equal(io.out.length, 1, "exactly one document");
      assert.equal(json!["code"], code, JSON.stringify(json));
      assert.match(String(json!["msg"]), msg);
      assert.equal(typeof json!["cniVersion"], "string");
      assert.equal(f.ip.execs, 0, "nothing ran");
    });
  }
});

Deno.test("dispatch() ADD gives code 11 with ipamd's reason when ipamd is down or the pool is empty", async () => {
  const f = createFakes();
  f.ipamd.unreachable = true;
  const down = await invoke(f, podEnv("ADD"), netconf());
  assert.equal(down.json!["code"], 11);
  assert.equal(down.json!["details"], "Cannot reach ipamd");
  f.ipamd.unreachable = false;
  f.ipamd.free.length = 0;
  const empty = await invoke(f, podEnv("ADD"), netconf());
  assert.equal(empty.json!["code"], 11);
  assert.equal(empty.json!["details"], "no free address");
  f.ipamd.failures.set("addNetwork", new RpcCallError(Status.FAILED_PRECONDITION, "wrong client version"));
  const version = await invoke(f, podEnv("ADD"), netconf());
  assert.equal(version.json!["code"], 999);
  assert.ok(f.ip.execs > 0, "the pair was made while ipamd answered");
  for (const [path, ns] of f.ip.namespaces) assert.ok(ns.isEmpty(), `nothing left in "${path}"`);
});

Deno.test("dispatch() turns an unexpected exception into code 999 without a stack on stdout", async () => {
  const f = createFakes();
  f.ip.failWhen = () => {
    throw new TypeError("boom");
  };
  const { status, json, io } = await invoke(f, podEnv("ADD"), netconf());
  assert.equal(status, 1);
  assert.equal(json!["code"], 999);
  assert.doesNotMatch(io.out.join(""), /\n\s+at /);
});

Deno.test("dispatch() STATUS is 50 when ipamd is down or the pool is empty and cannot grow", async () => {
  const f = createFakes();
  const v110 = netconf({ cniVersion: "1.1.0" });
  assert.equal((await invoke(f, { CNI_COMMAND: "STATUS" }, v110)).status, 0);
  f.ipamd.free.length = 0;
  const empty = await invoke(f, { CNI_COMMAND: "STATUS" }, v110);
  assert.equal(empty.json!["code"], 50);
  f.ipamd.canGrow = true;
  assert.equal((await invoke(f, { CNI_COMMAND: "STATUS" }, v110)).status, 0);
  f.ipamd.unreachable = true;
  const down = await invoke(f, { CNI_COMMAND: "STATUS" }, v110);
  assert.equal(down.json!["code"], 50);
  assert.match(String(down.json!["details"]), /UNAVAILABLE/);
});

Deno.test("dispatch() GC releases allocations not in cni.dev/valid-attachments and keeps the rest", async () => {
  const f = createFakes();
  for (const id of ["keep1", "gone1", "gone2"]) {
    f.ip.addNetns(`/run/netns/${id}`);
    const env = podEnv("ADD", { CNI_CONTAINERID: id, CNI_ARGS: "", CNI_NETNS: `/run/netns/${id}` });
    assert.equal((await invoke(f, env, netconf({ cniVersion: "1.1.0" }))).status, 0);
  }
  const stdin = netconf({
    cniVersion: "1.1.0",
    "cni.dev/valid-attachments": [{ containerID: "keep1", ifname: "eth0" }],
  });
  const gc = await invoke(f, { CNI_COMMAND: "GC", CNI_PATH: "/opt/cni/bin" }, stdin);
  assert.equal(gc.status, 0, JSON.stringify(gc.json));
  assert.deepEqual([...f.ipamd.held.keys()], ["keep1/eth0"]);
  assert.deepEqual(f.ipamd.releases.map((r) => [r.containerId, r.reason]), [
    ["gone1", "GarbageCollected"],
    ["gone2", "GarbageCollected"],
  ]);
  assert.equal(f.ip.host.rules.length, 1, "only keep1's rule is left");
  f.ipamd.canList = false;
  const old = await invoke(f, { CNI_COMMAND: "GC", CNI_PATH: "/x" }, stdin);
  assert.equal(old.json!["code"], 999);
  assert.match(String(old.json!["msg"]), /UNIMPLEMENTED/);
});

Deno.test("dispatch() wires a pod as ctr and podman call it: /proc/<pid>/ns/net, a container name with '_'", async () => {
  const f = createFakes();
  const netns = "/proc/4242/ns/net";
  f.ip.addNetns(netns);
  const nsfs = { isFile: true, isDirectory: false, isSymlink: false, size: 0, dev: 4, ino: 0xf0000123 };
  const look = (path: string) =>
    path === netns ? Promise.resolve(nsfs as Deno.FileInfo) : Promise.reject(new Deno.errors.NotFound(path));
  const deps = { ...f.deps, checkNetns: (path: string) => checkNetns(path, { stat: look, lstat: look }) };
  const fakes = { ...f, deps };
  const env = { CNI_NETNS: netns, CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAME=eager_hopper" };
  const add = await invoke(fakes, podEnv("ADD", env), netconf());
  assert.equal(add.status, 0, JSON.stringify(add.json));
  assert.equal((add.json!["interfaces"] as Record<string, unknown>[])[1]?.["sandbox"], netns);
  const del = await invoke(fakes, podEnv("DEL", env), netconf({ prevResult: add.json }));
  assert.equal(del.status, 0, JSON.stringify(del.json));
  assert.ok(f.ip.namespaces.get(netns)!.isEmpty() && f.ip.host.isEmpty());

  const self = await invoke(fakes, podEnv("ADD", { ...env, CNI_NETNS: "/proc/self/ns/net" }), netconf());
  assert.equal(self.json?.["code"], 4);
  assert.equal(
    self.json?.["msg"],
    'Invalid environment: CNI_NETNS "/proc/self/ns/net" names the plugin\'s own network namespace',
  );
});

Deno.test("dispatch() ADD checks where the pod end landed when it may not look at CNI_NETNS itself", async () => {
  const f = createFakes();
  const netns = "/proc/4242/ns/net";
  f.ip.addNetns(netns);
  const refused = () => Promise.reject(new Deno.errors.NotCapable("Requires all access"));
  const fakes = {
    ...f,
    deps: { ...f.deps, checkNetns: (path: string) => checkNetns(path, { stat: refused, lstat: refused }) },
  };
  const add = await invoke(fakes, podEnv("ADD", { CNI_NETNS: netns }), netconf());
  assert.equal(add.status, 0, JSON.stringify(add.json));
  assert.equal(f.ip.execs, 3, "the two sessions and one query: the host end's peer is in another namespace");
});

Deno.test("dispatch() ADD does nothing in a CNI_NETNS it could not look at that turns out to be the node's own", async () => {
  const f = createFakes();
  const netns = "/proc/4242/ns/net";
  f.ip.namespaces.set(netns, f.ip.host); // the process at that path lives in the node's namespace
  const refused = () => Promise.reject(new Deno.errors.NotCapable("Requires all access"));
  const fakes = {
    ...f,
    deps: { ...f.deps, checkNetns: (path: string) => checkNetns(path, { stat: refused, lstat: refused }) },
  };
  const add = await invoke(fakes, podEnv("ADD", { CNI_NETNS: netns }), netconf());
  assert.equal(add.json?.["code"], 4);
  assert.equal(
    add.json?.["msg"],
    `Invalid environment: CNI_NETNS "${netns}" is the node's own network namespace`,
  );
  assert.deepEqual(f.ip.history.filter((line) => line.startsWith(netns)), [], "nothing ran in it");
  assert.ok(f.ip.host.isEmpty(), "the pair is gone");
  assert.equal(f.ipamd.held.size, 0, "the address went back");
});
