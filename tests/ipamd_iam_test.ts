/**
 * ipamd on a node whose role lacks a permission, over the real SDK and the
 * emulator: the start-up DryRun check names it, `/v1/pool` (what `aws-cni status`
 * prints) and the metric say so, and everything else keeps working: pods get the
 * addresses the primary ENI can hold, and are released.
 */
import assert from "node:assert/strict";
import { systemClock } from "../shared/clock.ts";
import { silentLogger } from "../shared/log.ts";
import { sdkFixture } from "../testing/ec2_sdk_fixture.ts";
import { waitFor } from "../testing/rpc_sockets.ts";
import { addRequest, delRequest } from "../testing/ipamd_requests.ts";
import { parseIpamdConfig } from "../ipamd/config/config.ts";
import { startDaemon } from "../ipamd/daemon.ts";
import { instanceLimits } from "../ipamd/limits/limits.ts";
import { openAwsNode } from "../ipamd/node/aws_node.ts";
import { MemoryCheckpointStore } from "../testing/fake_checkpoint_store.ts";
import { renderStatus } from "../cli/status_text.ts";
import { permissionsLogLine } from "../ipamd/ops/iam_permissions.ts";
import { IpamdClient } from "../cni/rpc/client.ts";

/** The actions `iam` knows to be missing. */
function missing(iam: { list(): { action: string; state: string }[] }): string[] {
  return iam.list().filter((status) => status.state === "missing").map((status) => status.action);
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("a role without ec2:CreateNetworkInterface: named at start, in status and the metric; pods still get addresses", async () => {
  const credentials = { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "dummy" };
  const before = Object.fromEntries(Object.keys(credentials).map((name) => [name, Deno.env.get(name)]));
  for (const [name, value] of Object.entries(credentials)) Deno.env.set(name, value);
  await using fx = await sdkFixture({
    realTime: true,
    sim: { attachLatency: { kind: "fixed", ms: 20 }, detachLatency: { kind: "fixed", ms: 20 } },
  });
  fx.sim.iam.withhold("CreateNetworkInterface");
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-iam-" });
  const [metricsAddress, introspection] = [`127.0.0.1:${freePort()}`, `127.0.0.1:${freePort()}`];
  const config = parseIpamdConfig({
    AWS_EC2_ENDPOINT: fx.emulator.ec2Endpoint,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: fx.emulator.imdsEndpoint,
    METRICS_BIND_ADDRESS: metricsAddress,
    INTROSPECTION_BIND_ADDRESS: introspection,
    // More than the primary ENI's 9 addresses: the pool wants a second ENI it may not create.
    WARM_IP_TARGET: "12",
    POOL_RECONCILE_INTERVAL: "1",
  }, { socket: `${dir}/ipamd.sock`, checkpoint: `${dir}/ipam.json` });
  const client = new IpamdClient(config.socketPath);
  try {
    await using aws = await openAwsNode(config, { clock: systemClock, log: silentLogger });
    const statuses = await aws.checkPermissions();
    const line = permissionsLogLine(statuses);
    assert.deepEqual(line?.fields.missing, ["ec2:CreateNetworkInterface"], "the start-up line names it");
    assert.match(line!.msg, /^the node's IAM role lacks EC2 permissions/);
    await using daemon = await startDaemon(config, {
      ec2: aws.ec2,
      limits: instanceLimits(aws.instanceType, { prefixDelegation: false }),
      checkpoint: new MemoryCheckpointStore(),
      clock: systemClock,
      log: silentLogger,
      budget: aws.budget,
      node: aws.lifecycle,
      shutdownGraceMs: 1_000,
    });
    daemon.ops.iam.record(statuses); // as ipamd/mod.ts does when the check answers
    assert.deepEqual(missing(daemon.ops.iam), ["CreateNetworkInterface"]);

    // Everything else works: the primary ENI fills up and pods get its addresses.
    const held = () =>
      fx.sim.exportState().networkInterfaces.map((eni) => eni.secondaryPrivateIpAddresses.length);
    await waitFor(() => JSON.stringify(held()) === "[9]", 15_000);
    const replies = [];
    for (let i = 0; i < 5; i++) {
      replies.push(await client.addNetwork(addRequest(`pod-${i}`), { deadlineMs: 10_000 }));
    }
    const address = (reply: { ipAllocations: readonly { ipv4Addr: string }[] }) =>
      reply.ipAllocations[0]?.ipv4Addr ?? "";
    assert.ok(replies.every((reply) => reply.success && address(reply) !== ""));
    assert.equal(new Set(replies.map(address)).size, 5);
    assert.equal(fx.sim.exportState().networkInterfaces.length, 1, "no second ENI was made");

    const report = await (await fetch(`http://${introspection}/v1/pool`)).json();
    assert.equal(report.growthBlock?.reason, "unauthorized", "the pool says why it cannot grow");
    const status = renderStatus(report);
    assert.match(status, /^IAM: missing ec2:CreateNetworkInterface; /m);
    assert.match(status, /^IAM: .*\(README, "IAM: what the node's role needs"\)$/m);
    const metrics = await (await fetch(`http://${metricsAddress}/metrics`)).text();
    assert.match(metrics, /^awscni_iam_permission_missing\{action="CreateNetworkInterface"\} 1$/m);
    assert.match(metrics, /^awscni_iam_permission_missing\{action="AssignPrivateIpAddresses"\} 0$/m);
    assert.match(metrics, /^awscni_iam_permission_missing\{action="DescribeSubnets"\} 0$/m);

    const released = await client.delNetwork(delRequest("pod-0"), { deadlineMs: 10_000 });
    assert.equal(released.success, true);
    assert.equal(address(released), address(replies[0]!));
  } finally {
    await client.close();
    await Deno.remove(dir, { recursive: true });
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
});
