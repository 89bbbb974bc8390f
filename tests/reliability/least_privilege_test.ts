/**
 * Least privilege: the socket and the files beside it are root's alone, every
 * listener is on loopback, IMDS is read with IMDSv2 session tokens only,
 * nothing secret reaches a log, and the systemd unit's sandbox scores well in
 * `systemd-analyze security` (skipped with a message where it is missing).
 */
import assert from "node:assert/strict";
import { parseIpamdConfig } from "../../ipamd/config.ts";
import { renderUnit } from "../../ipamd/ops/systemd_unit.ts";
import { canCreateNetns, run } from "../netns.ts";
import { pluginBuilt } from "../netns_node.ts";
import { CloudNode } from "./_cloud_node.ts";
import { IpamdNode, podEnv } from "./_ipamd_node.ts";
import { recordResult } from "./_results.ts";
import { Runtime } from "./_runtime.ts";

const ready = await canCreateNetns() && await pluginBuilt();

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
    await using node = await IpamdNode.create("lpriv", { instanceType: "t3.small", env: { ...SECRETS } });
    await node.start();
    const socket = await Deno.lstat(node.paths.socket);
    assert.ok(socket.isSocket, "the socket is a socket");
    assert.equal(socket.mode! & 0o777, 0o600, "socket mode 0600");
    assert.equal(socket.uid, 0, "socket owned by root");
    assert.equal(
      (await Deno.stat(`${node.paths.dir}/run`)).mode! & 0o077,
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
    assert.equal((await Deno.stat(node.paths.checkpoint)).mode! & 0o077, 0, "checkpoint closed to others");
    const listening = await listeners(node.netns.path);
    const open = listening.filter((l) => !l.startsWith("127.") && !l.startsWith("::1:"));
    const defaults = parseIpamdConfig({});
    const stopped = await node.stop();
    const texts = [
      await Deno.readTextFile(node.paths.log),
      await Deno.readTextFile(node.paths.pluginLog),
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
    await using node = await CloudNode.create("imdsv2", {
      instanceType: "t3.small",
      recordImds: true,
      env: { WARM_ENI_TARGET: "1", NODE_RECONCILE_INTERVAL: "1" },
    });
    // Let the node reconciler read IMDS a few times.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const requests = node.imdsRequests;
    const puts = requests.filter((r) => r.method === "PUT");
    const gets = requests.filter((r) => r.method === "GET");
    const tokenless = gets.filter((r) => r.token === null);
    const tokens = new Set(gets.flatMap((r) => r.token === null ? [] : [r.token]));
    const logged = [...tokens].filter((token) => node.logs.some((line) => line.includes(token)));
    await recordResult({
      area: "Least privilege: IMDSv2 only",
      operations: requests.length,
      leaks: tokenless.length + logged.length,
      notes: `${puts.length} token PUTs, ${gets.length} GETs, ${tokenless.length} without a token`,
    });
    assert.ok(puts.length >= 1 && puts.every((r) => r.path === "/latest/api/token" && r.ttl !== null));
    assert.ok(gets.length > 0);
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
