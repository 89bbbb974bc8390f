/**
 * Least privilege: the socket and the files beside it are root's alone, every
 * listener is on loopback, IMDS is read with IMDSv2 session tokens only,
 * nothing secret reaches a log, the systemd unit's sandbox scores well in
 * `systemd-analyze security` (skipped with a message where it is missing),
 * deno.json grants the binary exactly the documented permission set
 * (_permissions.ts), and `dist/aws-cni --daemon` refuses at once, in one line
 * naming the setting, a value outside what it keeps of that set.
 */
import assert from "node:assert/strict";
import { parseIpamdConfig } from "../../ipamd/config/config.ts";
import { renderUnit } from "../../cli/systemd_unit.ts";
import { createTempDir, run } from "../../testing/netns.ts";
import { podAddresses } from "./_audit.ts";
import { nodesReady, podEnv, RUNTIME_DIR, startNode } from "../../testing/node.ts";
import {
  configuredPermissionSet,
  denoPermissionSet,
  keptBy,
  PERMISSIONS,
  permissionsTable,
} from "./_permissions.ts";
import { dropped } from "../../shared/narrow.ts";
import { blockIn, normalizeTable } from "../../tools/readme_blocks.ts";
import { recordResult } from "./_results.ts";
import { Runtime } from "./_runtime.ts";

const ready = await nodesReady();

/** Listening TCP sockets in a namespace, as "address:port" (from /proc/net/tcp{,6}). */
async function listeners(netnsPath: string): Promise<string[]> {
  const found: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const { stdout } = await run("nsenter", [`--net=${netnsPath}`, "cat", file]);
    for (const line of stdout.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== "0A" || local === undefined) continue;
      const [hex, port] = local.split(":");
      const address = hex!.length === 8
        ? hex!.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join(".")
        : hex === "00000000000000000000000001000000"
        ? "::1"
        : hex === "00000000000000000000000000000000"
        ? "::"
        : hex!;
      found.push(`${address}:${parseInt(port!, 16)}`);
    }
  }
  return found;
}

const SECRETS = {
  AWS_ACCESS_KEY_ID: "AKIAFAKEFAKEFAKE1234",
  AWS_SECRET_ACCESS_KEY: "fAkEsEcReT/kEy+ThAt-MuSt-NeVeR-bE-lOgGeD0",
  AWS_SESSION_TOKEN: "FwoGZXIvYXdzEFAKESESSIONTOKENthatmustneverbelogged",
  KUBECONFIG_TOKEN: "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZha2UifQ.fake.token",
};

Deno.test({
  name: "ipamd's socket and files are root's alone, its listeners loopback, and no secret reaches a log",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // The AWS credentials among them are the ones the daemon's SDK signs with: the cloud takes any.
    await using node = await startNode({ label: "lpriv", env: { ...SECRETS } });
    const socket = await Deno.lstat(node.outside(node.paths.socket));
    assert.ok(socket.isSocket, "the socket is a socket");
    assert.equal(socket.mode! & 0o777, 0o600, "socket mode 0600");
    assert.equal(socket.uid, 0, "socket owned by root");
    // systemd makes the directory (RuntimeDirectoryMode=0700, as the harness does); ipamd must not open it up.
    assert.match(renderUnit(), /^RuntimeDirectory=aws-node\nRuntimeDirectoryMode=0700$/m);
    assert.equal(
      (await Deno.stat(node.outside(RUNTIME_DIR))).mode! & 0o077,
      0,
      "socket directory closed to others",
    );
    const runtime = await Runtime.create(node, 2, "lp");
    const conf = node.netconf({ pluginLogLevel: "debug", secretField: "netconf-secret-value-42" });
    const env: Record<string, string> = {
      ...podEnv("ADD", runtime.slots[0]!.netns.path, "lp-secret"),
      ...SECRETS,
    };
    env["CNI_ARGS"] += ";K8S_POD_UID=uid-secret-value-7;API_TOKEN=cni-args-secret-value-9";
    const add = await node.plugin(env, JSON.stringify(conf));
    assert.equal(add.code, 0, add.stdout);
    const del = await node.plugin({ ...env, CNI_COMMAND: "DEL" }, JSON.stringify(conf));
    assert.equal(del.code, 0, del.stdout);
    assert.equal(
      (await Deno.stat(node.outside(node.paths.checkpoint))).mode! & 0o077,
      0,
      "checkpoint closed to others",
    );
    // ipamd's listeners: the node's, less the simulated cloud's EC2 and IMDS (which stand in for AWS).
    const { ec2Endpoint, imdsEndpoint } = node.cloud!.ready;
    const cloud = [ec2Endpoint, imdsEndpoint].map((url) => new URL(url).host);
    const listening = (await listeners(node.netns.path)).filter((l) => !cloud.includes(l));
    const open = listening.filter((l) => !l.startsWith("127.") && !l.startsWith("::1:"));
    const defaults = parseIpamdConfig({});
    const stopped = await node.daemon.stop();
    const texts = [
      await node.readFile(node.paths.log) ?? "",
      await node.readFile(node.paths.pluginLog) ?? "",
      stopped.stderr,
      add.stdout,
      add.stderr,
      del.stdout,
      del.stderr,
    ].join("\n");
    const leaked = [
      ...Object.values(SECRETS),
      "netconf-secret-value-42",
      "uid-secret-value-7",
      "cni-args-secret-value-9",
    ].filter((secret) => texts.includes(secret));
    const keyed =
      texts.match(/"(secretAccessKey|sessionToken|accessKeyId|password|token)"\s*:\s*"[^"]+"/gi) ?? [];
    await recordResult({
      area: "Least privilege: socket, listeners, logs",
      operations: 2,
      leaks: leaked.length + keyed.length + open.length,
      notes: `socket 0600 root; listeners ${listening.join(", ")}; ${leaked.length} secrets in logs`,
    });
    assert.deepEqual(open, [], `every listener is on loopback: ${listening.join(", ")}`);
    assert.ok(listening.some((l) => l.endsWith(":61679")) && listening.some((l) => l.endsWith(":61678")));
    assert.match(defaults.introspectionBindAddress, /^127\.0\.0\.1:/);
    assert.match(defaults.metricsBindAddress, /^127\.0\.0\.1:/);
    assert.deepEqual(leaked, [], "no secret value in any log or output");
    assert.deepEqual(keyed, [], "no credential-looking field in any log");
  },
});

Deno.test({
  name: "ipamd reads IMDS with IMDSv2 session tokens only and never logs a token",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using node = await startNode({
      label: "imdsv2",
      env: { WARM_ENI_TARGET: "1", NODE_RECONCILE_INTERVAL: "1", AWS_VPC_K8S_CNI_LOGLEVEL: "DEBUG" },
    });
    const control = node.cloud!.control;
    // The node reconciler reads IMDS every second: wait for a few of its rounds.
    const start = (await control.imdsRequests()).length;
    for (let i = 0; i < 100 && (await control.imdsRequests()).length < start + 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const requests = await control.imdsRequests();
    const log = await node.readFile(node.paths.log) ?? "";
    const puts = requests.filter((r) => r.method === "PUT");
    const gets = requests.filter((r) => r.method === "GET");
    const tokenless = gets.filter((r) => r.token === null);
    const tokens = new Set(gets.flatMap((r) => r.token === null ? [] : [r.token]));
    const logged = [...tokens].filter((token) => log.includes(token));
    await recordResult({
      area: "Least privilege: IMDSv2 only",
      operations: requests.length,
      leaks: tokenless.length + logged.length,
      notes: `${puts.length} token PUTs, ${gets.length} GETs, ${tokenless.length} without a token`,
    });
    assert.ok(puts.length >= 1 && puts.every((r) => r.path === "/latest/api/token" && r.ttl !== null));
    assert.ok(gets.length > 6, `the reconciler read IMDS (${gets.length} GETs)`);
    assert.ok(log.includes('"logLevel":"debug"'), "ipamd logs at debug level");
    assert.deepEqual(tokenless.map((r) => r.path), [], "every IMDS read carries a session token");
    assert.deepEqual(logged, [], "no IMDS token in ipamd's log (debug level)");
  },
});

const analyze = await run("sh", ["-c", "command -v systemd-analyze"]).then((r) => r.code === 0);
if (!analyze) {
  // deno-lint-ignore no-console
  console.warn("least_privilege_test: systemd-analyze is not installed; the unit's hardening is not scored");
}

Deno.test({
  name: "the aws-ipamd unit scores OK in systemd-analyze security",
  ignore: !analyze,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "aws-cni-unit-" });
    try {
      const unit = `${dir}/aws-ipamd.service`;
      await Deno.writeTextFile(unit, renderUnit());
      const result = await run("systemd-analyze", ["security", "--offline=true", "--no-pager", unit]);
      const exposure = Number(/Overall exposure level for [^:]+: ([\d.]+)/.exec(result.stdout)?.[1]);
      const failed = result.stdout.split("\n").filter((l) => l.startsWith("✗")).map((l) =>
        l.split(/\s{2,}/)[0]
      );
      await recordResult({
        area: "systemd unit hardening (systemd-analyze security)",
        operations: 1,
        notes: `exposure ${exposure} of 10 ("OK"); ${failed.length} of ${
          result.stdout.split("\n").filter((l) => /^[✓✗]/.test(l)).length
        } checks not met, mostly by design (CAP_NET_ADMIN, netlink, sysctls, V8's W^X)`,
      });
      assert.ok(exposure <= 4, `exposure ${exposure}: ${result.stdout}`);
      for (const wanted of ["NoNewPrivileges=", "ProtectSystem=", "ProtectHome=", "PrivateDevices="]) {
        assert.ok(!failed.some((f) => f?.startsWith(wanted)), `${wanted} is set`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("deno.json grants aws-cni exactly the documented permission set", async () => {
  const configured = await configuredPermissionSet("aws-cni");
  const documented = denoPermissionSet(PERMISSIONS);
  assert.deepEqual(
    configured,
    documented,
    "deno.json → permissions.aws-cni and tests/reliability/_permissions.ts must list the same entries, in order",
  );
  for (const [kind, entries] of Object.entries(PERMISSIONS)) {
    const values = entries.map((e) => e.value);
    assert.equal(new Set(values).size, values.length, `${kind}: no entry twice`);
    for (const entry of entries) assert.ok(entry.why.trim().length > 10, `${kind} ${entry.value}: says why`);
  }
  // Wide grants stay named: only env is whole, for the AWS SDK.
  assert.deepEqual(Object.entries(configured).filter(([, v]) => v === true).map(([k]) => k), ["env"]);
  // "/" is for the commands that use the user's own paths; the roles on a node drop it at start.
  for (const kind of ["read", "write"] as const) {
    assert.equal(keptBy(kind, "/"), "replay, install", `${kind} /`);
    for (const role of ["plugin", "daemon", "status", "plan"] as const) {
      assert.ok(dropped(role, kind).includes("/"), `${role} drops ${kind} /`);
    }
  }
});

Deno.test("the README's permission table is the documented set", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const block = blockIn(readme, "permissions");
  assert.ok(block !== null, "README.md has the permissions markers");
  assert.equal(
    normalizeTable(block),
    normalizeTable(permissionsTable()),
    "regenerate with: deno run -A tests/reliability/_permissions.ts README.md",
  );
});

/** One way to point the daemon outside its permission set. */
interface OutsideCase {
  readonly label: string;
  readonly options: (dir: string) => { env?: Record<string, string>; args?: string[] };
  /** What its refusal must name: the setting and its value. */
  readonly names: (dir: string) => string;
}

const OUTSIDE: readonly OutsideCase[] = [
  {
    label: "--socket",
    options: (dir) => ({ args: ["--socket", `${dir}/ipamd.sock`] }),
    names: (dir) => `--socket="${dir}/ipamd.sock"`,
  },
  {
    label: "--checkpoint",
    options: (dir) => ({ args: ["--checkpoint", `${dir}/ipam.json`] }),
    names: (dir) => `--checkpoint="${dir}/ipam.json"`,
  },
  {
    label: "AWS_VPC_K8S_CNI_LOG_FILE",
    options: (dir) => ({ env: { AWS_VPC_K8S_CNI_LOG_FILE: `${dir}/ipamd.log` } }),
    names: (dir) => `AWS_VPC_K8S_CNI_LOG_FILE="${dir}/ipamd.log"`,
  },
  {
    label: "AWS_EC2_ENDPOINT off the set",
    options: () => ({ env: { AWS_EC2_ENDPOINT: "https://ec2.example.com" } }),
    names: () => `AWS_EC2_ENDPOINT="https://ec2.example.com"`,
  },
  {
    label: "AWS_VPC_K8S_PLUGIN_LOG_FILE",
    options: (dir) => ({ env: { AWS_VPC_K8S_PLUGIN_LOG_FILE: `${dir}/plugin.log` } }),
    names: (dir) => `AWS_VPC_K8S_PLUGIN_LOG_FILE="${dir}/plugin.log"`,
  },
  {
    label: "--write-conflist",
    options: (dir) => ({ args: ["--write-conflist", dir] }),
    names: (dir) => `--write-conflist="${dir}"`,
  },
  {
    label: "METRICS_BIND_ADDRESS on another port",
    options: () => ({ env: { METRICS_BIND_ADDRESS: "0.0.0.0:9100" } }),
    names: () => `METRICS_BIND_ADDRESS="0.0.0.0:9100"`,
  },
  {
    label: "INTROSPECTION_BIND_ADDRESS on another port",
    options: () => ({ env: { INTROSPECTION_BIND_ADDRESS: "0.0.0.0:9101" } }),
    names: () => `INTROSPECTION_BIND_ADDRESS="0.0.0.0:9101"`,
  },
];

Deno.test({
  name: "dist/aws-cni --daemon is refused outside its permission set, with one clear line and no trace",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const escaped: string[] = [];
    const unclear: string[] = [];
    await using node = await startNode({ label: "outside", start: false });
    for (const c of OUTSIDE) {
      await using dir = await createTempDir("aws-cni-outside-");
      const { env = {}, args = [] } = c.options(dir.path);
      const child = node.daemon.spawn(env, args);
      // A daemon that starts anyway (a listener left out, a late refusal) has escaped: stop it.
      const running = setTimeout(() => child.kill("SIGKILL"), 20_000);
      const exit = await node.daemon.exit();
      clearTimeout(running);
      const left = [...Deno.readDirSync(dir.path)].map((e) => e.name);
      if (exit.code === 0 || exit.signal !== null) {
        escaped.push(`${c.label}: exit ${exit.code} ${exit.signal}`);
      }
      if (left.length > 0) escaped.push(`${c.label}: wrote ${left.join(", ")} outside the set`);
      if (await node.readFile(node.paths.checkpoint) !== null) escaped.push(`${c.label}: wrote a checkpoint`);
      const lines = exit.stderr.trim().split("\n");
      if (lines.length !== 1 || /\n\s+at |Uncaught|Stack backtrace/.test(exit.stderr)) {
        unclear.push(`${c.label}: ${lines.length} lines on stderr: ${exit.stderr.slice(0, 600)}`);
      } else if (!lines[0]!.includes(c.names(dir.path))) {
        unclear.push(`${c.label}: the message does not name ${c.names(dir.path)}: ${lines[0]}`);
      }
    }
    await recordResult({
      area: "Least privilege: ipamd refused outside its permission set",
      operations: OUTSIDE.length,
      faults: OUTSIDE.length,
      leaks: escaped.length,
      notes: `${OUTSIDE.map((c) => c.label).join(", ")}: ${
        OUTSIDE.length - escaped.length
      } refused, ${unclear.length} without one clear line`,
    });
    assert.deepEqual(escaped, [], "refused, and nothing written outside the set");
    assert.deepEqual(unclear, [], "one stderr line naming the setting and its value, no stack trace");
  },
});

Deno.test({
  name: "the plugin is refused an ipamd socket outside its permission set and answers one CNI error",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using dir = await createTempDir("aws-cni-outside-");
    await using node = await startNode({ label: "plout" });
    const runtime = await Runtime.create(node, 1, "plout");
    const socket = `${dir.path}/ipamd.sock`;
    // A socket that answers, outside the set: the plugin must not reach it.
    const listener = Deno.listen({ transport: "unix", path: socket });
    const accepted: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of listener) accepted.push(conn);
    })().catch(() => {});
    const codes: string[] = [];
    try {
      const conf = JSON.stringify(node.netconf({ ipamdSocket: socket }));
      const pod = runtime.slots[0]!.netns.path;
      // A refused socket is a config error (7) for both: no retry (11) or queued release could succeed.
      for (const verb of ["ADD", "DEL"]) {
        const result = await node.plugin(podEnv(verb, pod, "outside-1"), conf);
        const doc = JSON.parse(result.stdout) as { code: unknown; msg: unknown; details?: string };
        assert.notEqual(result.code, 0, `${verb} fails: ${result.stdout}`);
        assert.equal(doc.code, 7, `${verb}: ${result.stdout}`);
        assert.ok(typeof doc.msg === "string", `${verb}: ${result.stdout}`);
        assert.ok(
          (doc.details ?? "").includes(`access to "${socket}"`),
          `${verb}: the answer names the refusal: ${result.stdout}`,
        );
        assert.doesNotMatch(result.stdout + result.stderr, /\n\s+at |Uncaught|Stack backtrace/);
        codes.push(`${verb} ${doc.code}`);
      }
      assert.equal(accepted.length, 0, "the plugin did not connect outside its set");
      assert.deepEqual([...Deno.readDirSync(dir.path)].map((e) => e.name), ["ipamd.sock"], "nothing written");
      assert.equal((await node.pool()).pool.assigned, 0, "nothing assigned");
      assert.deepEqual(await podAddresses(runtime.slots[0]!.netns), [], "the pod was not wired");
    } finally {
      listener.close();
      await accepting;
      for (const conn of accepted) conn.close();
    }
    await recordResult({
      area: "Least privilege: plugin refused a socket outside its permission set",
      operations: 2,
      faults: 2,
      notes: `ipamdSocket in a temp dir: not connected, nothing written; CNI codes ${codes.join(", ")}`,
    });
  },
});
