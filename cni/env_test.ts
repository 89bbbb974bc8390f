import assert from "node:assert/strict";
import { envProblems, ifNameProblem, parseCniArgs, parseVerb, readCniEnv } from "./env.ts";

Deno.test("envProblems() names every missing or invalid variable for the verb", () => {
  assert.deepEqual(envProblems("ADD", {}), [
    "CNI_CONTAINERID is not set",
    "CNI_NETNS is not set",
    "CNI_IFNAME is not set",
  ]);
  assert.deepEqual(
    envProblems("DEL", { CNI_CONTAINERID: "a", CNI_IFNAME: "eth0" }),
    [],
    "DEL needs no netns",
  );
  assert.deepEqual(envProblems("STATUS", {}), []);
  assert.deepEqual(envProblems("GC", {}), ["CNI_PATH is not set"]);
  assert.deepEqual(envProblems("DEL", { CNI_CONTAINERID: "a", CNI_IFNAME: "eth0", CNI_NETNS: "rel/x" }), [
    "CNI_NETNS not an absolute path",
  ]);
});

Deno.test("ifNameProblem() follows the kernel's rules plus ip's special characters and options", async (t) => {
  const bad = [
    "a".repeat(16),
    "\u00e9".repeat(8),
    ".",
    "..",
    "a/b",
    "a b",
    "a:b",
    'a"b',
    "a#b",
    "a\\b",
    "a\u0001b",
    "-n",
    "--help",
    "-",
    "\u00e9th0",
    "eth\u200b0",
  ];
  for (const name of bad) {
    await t.step(JSON.stringify(name), () => assert.notEqual(ifNameProblem(name), undefined));
  }
  for (const name of ["eth0", "a".repeat(15), "net-1_x.y", "eth0-"]) {
    assert.equal(ifNameProblem(name), undefined);
  }
});

Deno.test("parseCniArgs() splits K=V pairs and refuses a pair without a key", () => {
  assert.deepEqual([...parseCniArgs("IgnoreUnknown=1;K8S_POD_NAME=a=b")], [["IgnoreUnknown", "1"], [
    "K8S_POD_NAME",
    "a=b",
  ]]);
  assert.throws(() => parseCniArgs("K8S_POD_NAME"), SyntaxError);
  assert.throws(() => parseCniArgs("=x"), SyntaxError);
});

Deno.test("readCniEnv() reads the Kubernetes args, empty when absent", () => {
  const env = readCniEnv("ADD", {
    CNI_CONTAINERID: "c",
    CNI_ARGS: "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_UID=u",
  });
  assert.deepEqual(env.k8s, { podName: "p", podNamespace: "ns", podInfraContainerId: "", podUid: "u" });
  assert.equal(parseVerb("add"), undefined);
  assert.equal(parseVerb("GC"), "GC");
});

Deno.test("envProblems() takes any K8S_* string a runtime sends, bounding only its size", () => {
  const base = { CNI_CONTAINERID: "a", CNI_IFNAME: "eth0", CNI_NETNS: "/proc/4242/ns/net" };
  for (
    const args of [
      "IgnoreUnknown=1;K8S_POD_NAME=eager_hopper", // podman 4.3: its generated container name
      "K8S_POD_NAMESPACE=Team_A;K8S_POD_NAME=My Pod ü;K8S_POD_UID=",
      `K8S_POD_NAME=${"x".repeat(1024)}`,
    ]
  ) {
    assert.deepEqual(envProblems("ADD", { ...base, CNI_ARGS: args }), [], args);
  }
  assert.equal(
    readCniEnv("ADD", { ...base, CNI_ARGS: "K8S_POD_NAME=eager_hopper" }).k8s.podName,
    "eager_hopper",
  );
  assert.deepEqual(envProblems("ADD", { ...base, CNI_ARGS: `K8S_POD_NAME=${"x".repeat(1025)}` }), [
    "CNI_ARGS K8S_POD_NAME is longer than 1024 bytes",
  ]);
  assert.deepEqual(envProblems("ADD", { ...base, CNI_ARGS: `A=${"x".repeat(65 * 1024)}` }), [
    "CNI_ARGS is longer than 65536 bytes",
  ]);
});

Deno.test("envProblems() takes /proc/<pid>/ns/net and netns files anywhere as CNI_NETNS", () => {
  const base = { CNI_CONTAINERID: "a", CNI_IFNAME: "eth0" };
  for (const netns of ["/proc/4242/ns/net", "/var/run/netns/cni-1234-abcd", "/var/lib/pods/x/netns"]) {
    assert.deepEqual(envProblems("ADD", { ...base, CNI_NETNS: netns }), [], netns);
  }
});
