/**
 * What a node and its operator legitimately do, done by `dist/aws-cni` under its
 * own permission set: metrics and introspection on 0.0.0.0 or a node address
 * (inside a test node's namespaces), `replay` reading and writing ordinary
 * paths and stdin/stdout, `install --prefix` from the binary; and what ipamd
 * refuses at start, in one line naming the setting: an EC2 endpoint outside the
 * set, and the reference's settings that would change how pods are addressed
 * or secured.
 */
import assert from "node:assert/strict";
import { createTempDir, mustRun, run } from "../testing/netns.ts";
import { AWS_CNI as BINARY, nodesReady, pluginEnv, startNode, type TestNode } from "../testing/node.ts";

const ready = await nodesReady();
const built = (await run("test", ["-x", BINARY])).code === 0;

/** A node address that only the test node has (TEST-NET-1, on the node namespace's loopback). */
const NODE_ADDRESS = "192.0.2.10";

/** GETs `url` from inside the node's network namespace, with the pinned Deno; returns the status and body. */
async function getInside(node: TestNode, url: string): Promise<{ status: number; body: string }> {
  const code = `const r = await fetch(${JSON.stringify(url)}); ` +
    "console.log(JSON.stringify({ status: r.status, body: await r.text() }));";
  const result = await run("nsenter", [`--net=${node.netns.path}`, Deno.execPath(), "eval", code]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/** `aws-cni status --json --introspection ADDR` inside the node. */
async function statusAt(node: TestNode, address?: string): Promise<Record<string, unknown>> {
  const result = await node.status([
    "--json",
    ...(address === undefined ? [] : ["--introspection", address]),
  ]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

Deno.test({
  name: "ipamd serves metrics and introspection on 0.0.0.0 and on a node address, as the settings say",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using node = await startNode({ label: "listen", start: false });
    await mustRun("nsenter", [
      `--net=${node.netns.path}`,
      "ip",
      "addr",
      "add",
      `${NODE_ADDRESS}/32`,
      "dev",
      "lo",
    ]);
    await node.daemon.start({
      METRICS_BIND_ADDRESS: "0.0.0.0:61678",
      INTROSPECTION_BIND_ADDRESS: `${NODE_ADDRESS}:61679`,
      WARM_IPS_TARGET: "3",
    });
    for (const host of ["127.0.0.1", NODE_ADDRESS]) {
      const metrics = await getInside(node, `http://${host}:61678/metrics`);
      assert.equal(metrics.status, 200, host);
      assert.match(metrics.body, /^awscni_eni_allocated /m, host);
    }
    assert.ok("pool" in await statusAt(node, `${NODE_ADDRESS}:61679`));
    // A typo starts ipamd all the same, with a warning naming the setting meant.
    const log = await node.readFile(node.paths.log) ?? "";
    assert.match(
      log,
      /WARM_IPS_TARGET is not a setting of aws-cni or the reference.*did you mean WARM_IP_TARGET\?/,
    );
    const first = await node.daemon.stop();
    assert.equal(first.code, 0, first.stderr);

    await node.daemon.start({
      METRICS_BIND_ADDRESS: `${NODE_ADDRESS}:61678`,
      INTROSPECTION_BIND_ADDRESS: "0.0.0.0:61679",
    });
    assert.equal((await getInside(node, `http://${NODE_ADDRESS}:61678/metrics`)).status, 200);
    assert.ok("pool" in await statusAt(node), "status asks 127.0.0.1 for a wildcard address");
    assert.ok("pool" in await statusAt(node, `${NODE_ADDRESS}:61679`));
    const second = await node.daemon.stop();
    assert.equal(second.code, 0, second.stderr);
  },
});

/** One way a migrated node's settings ask for what ipamd does not do. */
const REFUSED: readonly [string, Record<string, string>][] = [
  ["custom networking", { AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true" }],
  ["security groups for pods", { ENABLE_POD_ENI: "true" }],
  ["multiple network cards", { ENABLE_MULTI_NIC: "true" }],
  ["network policy", { NETWORK_POLICY_ENFORCING_MODE: "standard" }],
  ["IPv6 egress", { ENABLE_V6_EGRESS: "true" }],
  ["IPv6 pods", { ENABLE_IPv6: "true" }],
];

Deno.test({
  name:
    "dist/aws-cni --daemon refuses the reference's settings it does not implement, in one line naming each",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const unclear: string[] = [];
    await using node = await startNode({ label: "refuse", start: false });
    for (const [label, env] of REFUSED) {
      const child = node.daemon.spawn(env);
      const running = setTimeout(() => child.kill("SIGKILL"), 20_000); // it started: stop it
      const exit = await node.daemon.exit();
      clearTimeout(running);
      const [name, value] = Object.entries(env)[0]!;
      const lines = exit.stderr.trim().split("\n");
      if (exit.code !== 1 || lines.length !== 1 || !lines[0]!.includes(`${name}=${JSON.stringify(value)}`)) {
        unclear.push(`${label}: exit ${exit.code}: ${exit.stderr.slice(0, 400)}`);
      }
      if (await node.readFile(node.paths.checkpoint) !== null) unclear.push(`${label}: wrote a checkpoint`);
    }
    assert.deepEqual(unclear, [], "exit 1, one stderr line naming the setting, nothing written");
  },
});

Deno.test({
  name: "dist/aws-cni --daemon refuses an EC2 endpoint outside its permission set before it calls anything",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using node = await startNode({ label: "endpoint", start: false });
    // Inside the test node, without its cloud's endpoints: IMDS points at a closed loopback port.
    const child = new Deno.Command("nsenter", {
      args: [...node.enter(), BINARY, "--daemon"],
      env: pluginEnv({
        AWS_EC2_ENDPOINT: "https://ec2.example.com",
        AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:9",
      }),
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const running = setTimeout(() => child.kill("SIGKILL"), 20_000); // it started: stop it
    const output = await child.output();
    clearTimeout(running);
    const result = { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
    assert.equal(result.code, 1, result.stderr);
    assert.equal(
      result.stderr,
      'aws-cni --daemon: AWS_EC2_ENDPOINT="https://ec2.example.com": the binary may not connect to ' +
        'ec2.example.com:443 (README, "Permissions")\n',
    );
    assert.equal((await run("test", ["-e", node.outside(node.paths.socket)])).code, 1, "no socket");
  },
});

Deno.test({
  name: "dist/aws-cni replay writes --plot to a relative path or stdout and reads --trace from a temp path",
  ignore: !built,
  async fn() {
    await using dir = await createTempDir("aws-cni-replay-");
    const trace = `${dir.path}/trace.jsonl`;
    await Deno.writeTextFile(
      trace,
      '{"t":0,"node":"a","op":"add","pod":"p"}\n{"t":40,"node":"a","op":"del","pod":"p"}\n',
    );
    const common = ["replay", "--instance-type", "t3.small", "--trace", trace];
    const toFile = await new Deno.Command(BINARY, { args: [...common, "--plot", "./x.svg"], cwd: dir.path })
      .output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    assert.equal(toFile.code, 0, decode(toFile.stderr));
    assert.match(decode(toFile.stdout), new RegExp(`^replay ${trace} `));
    assert.match(await Deno.readTextFile(`${dir.path}/x.svg`), /^<svg [^>]*>/);
    const toStdout = await run(BINARY, [...common, "--plot", "-"]);
    assert.equal(toStdout.code, 0, toStdout.stderr);
    assert.match(toStdout.stdout, /^<svg [^>]*>[\s\S]*<\/svg>\n?$/);
    assert.match(toStdout.stderr, new RegExp(`^replay ${trace} `));
  },
});

Deno.test({
  name: "dist/aws-cni replay refuses a --plot path it cannot write at once, before the simulation",
  ignore: !built,
  async fn() {
    await using dir = await createTempDir("aws-cni-replay-");
    for (
      const [plot, reason] of [
        [`${dir.path}/missing/x.svg`, "No such file or directory"],
        ["/proc/self/x.svg", 'Requires all access to "/proc/self/x.svg": outside what this binary may use'],
      ] as const
    ) {
      // A launch of 20 nodes takes a while: the refusal comes before it.
      const args = [
        "replay",
        "--instance-type",
        "m5.large",
        "--scenario",
        "launch",
        "--nodes",
        "20",
        "--plot",
        plot,
      ];
      const result = await run(BINARY, args);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, "", "no report: nothing was simulated");
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.ok(lines[0]!.startsWith(`aws-cni replay: Cannot write --plot "${plot}": `), lines[0]!);
      assert.ok(lines[0]!.includes(reason), lines[0]!);
    }
  },
});

Deno.test({
  name: "dist/aws-cni install --prefix stages the node's files anywhere, from the binary itself",
  ignore: !built,
  async fn() {
    await using dir = await createTempDir("aws-cni-prefix-");
    const prefix = `${dir.path}/rootfs`;
    const result = await run(BINARY, ["install", "--prefix", prefix]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      (await run("cmp", ["-s", BINARY, `${prefix}/opt/cni/bin/aws-cni`])).code,
      0,
      "the binary copied",
    );
    assert.match(await Deno.readTextFile(`${prefix}/etc/systemd/system/aws-ipamd.service`), /^ExecStart=/m);
    assert.ok((await Deno.stat(`${prefix}/etc/aws-cni/ipamd.env`)).isFile);
    const removed = await run(BINARY, ["uninstall", "--prefix", prefix]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await run("test", ["-e", `${prefix}/opt/cni/bin/aws-cni`])).code, 1);
  },
});
