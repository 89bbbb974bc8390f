/**
 * `dist/aws-cni --daemon` on a test node whose simulated cloud withholds one
 * permission from the node's role (`--withhold CreateNetworkInterface`): the
 * start-up line names it, `aws-cni status` shows it, the metric is 1, and
 * everything else keeps working: pods get the primary ENI's addresses through
 * the plugin, reach each other, and are torn down; an ADD beyond them says the
 * pool is not authorized to grow.
 */
import assert from "node:assert/strict";
import { reach } from "../testing/netns.ts";
import { nodesReady, pluginJson, podEnv, startNode, type TestNode } from "../testing/node.ts";

const ready = await nodesReady();
if (!ready) {
  // deno-lint-ignore no-console
  console.warn("ipamd_iam_daemon_test: skipped (needs root, namespaces and `make build` for dist/aws-cni)");
}

/** The first line of ipamd's log whose msg starts with `prefix`, waiting up to `timeoutMs`. */
async function logLine(node: TestNode, prefix: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = await node.readFile(node.paths.log) ?? "";
    const found = text.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line))
      .find((line) => String(line.msg).startsWith(prefix));
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`No log line "${prefix}…" within ${timeoutMs} ms:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

Deno.test({
  name:
    "ipamd on a role without ec2:CreateNetworkInterface: the start-up line, status and the metric name it; pods still run",
  ignore: !ready,
  fn: async () => {
    await using node = await startNode({
      label: "iam",
      cloud: { instanceType: "t3.small", withheld: ["CreateNetworkInterface"] },
      env: { WARM_IP_TARGET: "1", MINIMUM_IP_TARGET: "3", ADD_WAIT_TIMEOUT: "2" },
    });
    const line = await logLine(node, "the node's IAM role lacks EC2 permissions", 30_000);
    assert.equal(line.level, "error");
    assert.deepEqual(line.missing, ["ec2:CreateNetworkInterface"]);
    assert.deepEqual(line.unchecked, ["ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]);

    // Everything else works: the primary ENI's 3 addresses go to 3 pods, which reach each other.
    const conf = JSON.stringify(node.netconf());
    const pods = [];
    for (let i = 0; i < 3; i++) {
      const pod = await node.pod(`p${i}`);
      const result = await node.plugin(podEnv("ADD", pod.path, `c${i}`), conf);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const ip = (pluginJson(result)!.ips as { address: string }[])[0]!.address.split("/")[0]!;
      pods.push({ pod, ip });
    }
    await node.netns.exec("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
    await reach(pods[0]!.pod, pods[1]!.pod, pods[1]!.ip);

    // A fourth pod needs an ENI the role may not create: try again later, saying why.
    const fourth = await node.pod("p3");
    const refused = await node.plugin(podEnv("ADD", fourth.path, "c3"), conf);
    assert.equal(refused.code, 1);
    const error = pluginJson(refused)!;
    assert.equal(error.code, 11);
    assert.match(String(error.msg) + String(error.details), /not authorized/i);

    const status = await node.status();
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      /^IAM: missing ec2:CreateNetworkInterface; .*\(README, "IAM: what the node's role needs"\)$/m,
    );
    const metrics = await node.metrics();
    assert.match(metrics, /^awscni_iam_permission_missing\{action="CreateNetworkInterface"\} 1$/m);
    for (
      const action of ["AssignPrivateIpAddresses", "DescribeNetworkInterfaces", "AttachNetworkInterface"]
    ) {
      assert.match(metrics, new RegExp(`^awscni_iam_permission_missing\\{action="${action}"\\} 0$`, "m"));
    }
    const account = await node.cloud!.control.state();
    assert.equal(account.enis.length, 1, "no ENI was created");
    assert.deepEqual(account.withheld, ["CreateNetworkInterface"]);

    for (const [i, { pod }] of pods.entries()) {
      const deleted = await node.plugin(podEnv("DEL", pod.path, `c${i}`), conf);
      assert.equal(deleted.code, 0, deleted.stdout);
    }
    const pool = await node.pool();
    assert.equal(pool.pool.assigned, 0, "every address came back");
  },
});
