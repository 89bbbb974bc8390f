/**
 * Fuzzing the plugin's input: every case breaks exactly one thing in an
 * otherwise valid invocation (stdin bytes, JSON shape, a netconf field, an
 * env var) and must give one spec error document on stdout, a non-zero exit,
 * no stack trace, and no change to any namespace or allocation.
 * 1,200 cases run in-process through `runPlugin` with fakes, and 200 of them
 * through `dist/aws-cni` in a real node namespace.
 */
import assert from "node:assert/strict";
import { createFakes, POD_NETNS } from "../testing/plugin_deps.ts";
import { runPlugin } from "../cni/mod.ts";
import { mulberry32 } from "../sim/ec2/random.ts";
import { recordedIo } from "../shared/io.ts";
import { canCreateNetns } from "../testing/netns.ts";
import { createNode, PLUGIN, pluginBuilt, pluginEnv } from "../testing/netns_node.ts";

/** One malformed invocation and the code it must produce. */
interface FuzzCase {
  readonly label: string;
  readonly env: Record<string, string>;
  readonly stdin: Uint8Array;
  readonly code: number;
}

const VALID_PREV = {
  cniVersion: "1.0.0",
  interfaces: [{ name: "eni1" }, { name: "eth0", sandbox: "/x" }],
  ips: [{ address: "10.0.0.9/32", interface: 1 }],
};

/** Builds `count` cases from `seed`; `netns` is an existing pod netns path. */
function fuzzCases(count: number, seed: number, netns: string, socket = "/tmp/none.sock"): FuzzCase[] {
  const rand = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const junk = (length: number): string =>
    Array.from({ length }, () => String.fromCharCode(Math.floor(rand() * 0x250))).join("");
  const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
  const cases: FuzzCase[] = [];
  for (let i = 0; cases.length < count; i++) {
    const verb = pick(["ADD", "DEL", "CHECK", "GC", "STATUS"]);
    const v110 = verb === "GC" || verb === "STATUS";
    const conf: Record<string, unknown> = {
      cniVersion: v110 ? "1.1.0" : pick(["0.4.0", "1.0.0", "1.1.0"]),
      name: "aws-cni",
      type: "aws-cni",
      ipamdSocket: socket,
      pluginLogFile: "stderr",
      ...(verb === "CHECK" ? { prevResult: VALID_PREV } : {}),
    };
    const env: Record<string, string> = {
      CNI_COMMAND: verb,
      CNI_CONTAINERID: `ctr${i}`,
      CNI_NETNS: netns,
      CNI_IFNAME: "eth0",
      CNI_PATH: "/opt/cni/bin",
      CNI_ARGS: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=fuzz",
    };
    const kind = Math.floor(rand() * 12);
    const json = (): Uint8Array => enc(JSON.stringify(conf));
    const add = (label: string, code: number, stdin = json()): number =>
      cases.push({ label, env, stdin, code });
    if (kind === 0) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256));
      bytes[0] = pick([0x00, 0x7b, 0xff, 0x5b, 0x22]); // never a digit, so never a bare JSON number
      add("random bytes", 6, bytes);
    } else if (kind === 1) {
      const text = JSON.stringify(conf);
      add("truncated JSON", 6, enc(text.slice(0, Math.floor(rand() * (text.length - 1)))));
    } else if (kind === 2) {
      add("JSON that is not an object", 6, enc(pick(["[]", "1", '"x"', "null", "true", "[{}]", "1e999"])));
    } else if (kind === 3) {
      const bad = pick(["0.3.1", "0.1.0", "2.0.0", "1.0", "v1.0.0", 1, true, null, junk(6)]);
      conf["cniVersion"] = bad;
      add(`cniVersion ${JSON.stringify(bad)}`, 1);
    } else if (kind === 4) {
      const [key, value] = pick<[string, unknown]>([
        ["name", 42],
        ["name", ""],
        ["name", "-lead"],
        ["name", "a b"],
        ["type", []],
        ["mtu", 575],
        ["mtu", 9002],
        ["mtu", "nine"],
        ["mtu", 1500.5],
        ["vethPrefix", "toolong"],
        ["vethPrefix", "a/b"],
        ["vethPrefix", ""],
        ["ipamdSocket", "relative.sock"],
        ["ipamdSocket", 7],
        ["pluginLogLevel", "loud"],
        ["pluginLogFile", {}],
        ["prevResult", "x"],
        ["prevResult", { interfaces: [{}] }],
        ["prevResult", { ips: [{ address: "10.0.0.1/32", interface: -1 }] }],
        ["prevResult", { routes: "none" }],
      ]);
      conf[key] = value;
      add(`netconf ${key}=${JSON.stringify(value)}`, 7);
    } else if (kind === 5) {
      delete conf[pick(["name", "type"])];
      add("netconf missing a required key", 7);
    } else if (kind === 6 && !v110) {
      env["CNI_IFNAME"] = pick([
        "a".repeat(16),
        "\u00e9".repeat(8),
        ".",
        "..",
        "a/b",
        "eth 0",
        "eth\t0",
        "eth:0",
        'e"0',
        "e#0",
        "e\\0",
        "e\u00010",
      ]);
      add(`CNI_IFNAME ${JSON.stringify(env["CNI_IFNAME"])}`, 4);
    } else if (kind === 7 && !v110) {
      env["CNI_CONTAINERID"] = pick(["-x", ".x", "a b", "a/b", "a;b", "\u00e9", "a\nb", junk(4) + "$"]);
      add(`CNI_CONTAINERID ${JSON.stringify(env["CNI_CONTAINERID"])}`, 4);
    } else if (kind === 8 && (verb === "ADD" || verb === "CHECK")) {
      env["CNI_NETNS"] = pick([
        "",
        "relative/ns",
        "/var/run/netns/does-not-exist",
        "/a b",
        "/x/../y",
        `${netns} `,
      ]);
      add(`CNI_NETNS ${JSON.stringify(env["CNI_NETNS"])}`, 4);
    } else if (kind === 9) {
      env["CNI_COMMAND"] = pick(["", "add", "DELETE", "VERSIONS", junk(5), "ADD "]);
      add(`CNI_COMMAND ${JSON.stringify(env["CNI_COMMAND"])}`, 4);
    } else if (kind === 10 && !v110) {
      const missing = pick(["CNI_CONTAINERID", "CNI_IFNAME"]);
      delete env[missing];
      add(`${missing} unset`, 4);
    } else if (kind === 11) {
      if (v110) {
        conf["cniVersion"] = pick(["0.4.0", "1.0.0"]);
        add(`${verb} on an old config`, 1);
      } else {
        env["CNI_ARGS"] = pick(["K8S_POD_NAME", "=x", `K8S_POD_NAME=${"x".repeat(1025)}`, "a=b;;c=d"]);
        add(`CNI_ARGS ${JSON.stringify(env["CNI_ARGS"])}`, 4);
      }
    }
  }
  return cases;
}

function assertErrorDocument(out: string, fuzz: FuzzCase, status: number): void {
  const where = `${fuzz.label}: ${out}`;
  assert.notEqual(status, 0, where);
  const lines = out.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `one document: ${where}`);
  assert.doesNotMatch(out, /\n\s+at |Stack backtrace|\.ts:\d+/, where);
  const doc = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(typeof doc["cniVersion"], "string", where);
  assert.equal(typeof doc["msg"], "string", where);
  assert.equal(doc["code"], fuzz.code, where);
  if (doc["details"] !== undefined) assert.equal(typeof doc["details"], "string", where);
}

Deno.test("runPlugin() answers 1,200 malformed invocations with one spec error each and touches nothing", async () => {
  const fakes = createFakes();
  const cases = fuzzCases(1200, 42, POD_NETNS);
  const codes = new Set<number>();
  for (const fuzz of cases) {
    const stdin = fuzz.stdin;
    const io = recordedIo({ env: fuzz.env });
    const status = await runPlugin({ ...io, readStdin: () => Promise.resolve(stdin) }, fakes.deps);
    assertErrorDocument(io.out.join(""), fuzz, status);
    codes.add(fuzz.code);
  }
  assert.deepEqual([...codes].sort((a, b) => a - b), [1, 4, 6, 7]);
  assert.equal(fakes.ip.execs, 0);
  assert.equal(fakes.ipamd.held.size + fakes.ipamd.releases.length, 0);
  assert.ok(fakes.ip.host.isEmpty());
});

const ready = await canCreateNetns() && await pluginBuilt();

Deno.test({
  name: "dist/aws-cni answers 200 malformed invocations in a node netns with spec errors and leaves nothing",
  ignore: !ready,
  async fn() {
    await using node = await createNode();
    const pod = await node.pod("fuzz");
    const before = JSON.stringify([
      await node.netns.ipJson("link", "show"),
      await node.netns.ipJson("rule", "show"),
    ]);
    const cases = fuzzCases(200, 7, pod.path, node.socketPath);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < cases.length; i = next++) {
        const fuzz = cases[i]!;
        const result = await node.netns.exec(PLUGIN, [], {
          stdin: fuzz.stdin,
          env: pluginEnv(fuzz.env),
          clearEnv: true,
        });
        assertErrorDocument(result.stdout, fuzz, result.code);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    const after = JSON.stringify([
      await node.netns.ipJson("link", "show"),
      await node.netns.ipJson("rule", "show"),
    ]);
    assert.equal(after, before);
    assert.equal(node.backend.held.size + node.backend.releases.length, 0);
  },
});
