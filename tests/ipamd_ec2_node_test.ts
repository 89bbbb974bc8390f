/**
 * The real-node assembly in one process: `openAwsNode` with the endpoints and
 * credentials a real node takes from its env (AWS_EC2_ENDPOINT,
 * AWS_EC2_METADATA_SERVICE_ENDPOINT, the SDK's default credential chain), here
 * pointed at the emulator, and `startDaemon` running on it.
 */
import assert from "node:assert/strict";
import { systemClock } from "../shared/clock.ts";
import { createLogger, silentLogger } from "../shared/log.ts";
import { sdkFixture } from "../testing/ec2_sdk_fixture.ts";
import { simFixture } from "../testing/ec2_sim_fixture.ts";
import { waitFor } from "../testing/rpc_sockets.ts";
import { startEmulator } from "../sim/emulator/mod.ts";
import { parseIpamdConfig } from "../ipamd/config/config.ts";
import { startDaemon } from "../ipamd/daemon.ts";
import { instanceLimits } from "../ipamd/limits/limits.ts";
import { openAwsNode } from "../ipamd/node/aws_node.ts";
import { MemoryCheckpointStore } from "../testing/fake_checkpoint_store.ts";

/** Sets process env variables (the SDK's credential chain reads them) until disposed. */
function withEnv(values: Record<string, string>): Disposable {
  const before = Object.fromEntries(Object.keys(values).map((name) => [name, Deno.env.get(name)]));
  for (const [name, value] of Object.entries(values)) Deno.env.set(name, value);
  return {
    [Symbol.dispose]() {
      for (const [name, value] of Object.entries(before)) {
        if (value === undefined) Deno.env.delete(name);
        else Deno.env.set(name, value);
      }
    },
  };
}

const CREDENTIALS = { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "dummy" };

Deno.test("openAwsNode() finds the node in IMDS and EC2 at the env's endpoints, and the daemon runs on it", async () => {
  using _ = withEnv(CREDENTIALS);
  await using fx = await sdkFixture({
    realTime: true,
    sim: { attachLatency: { kind: "fixed", ms: 20 }, detachLatency: { kind: "fixed", ms: 20 } },
  });
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-node-" });
  const config = parseIpamdConfig({
    AWS_EC2_ENDPOINT: fx.emulator.ec2Endpoint,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: fx.emulator.imdsEndpoint,
    DISABLE_INTROSPECTION: "true",
    DISABLE_METRICS: "true",
    WARM_IP_TARGET: "12",
  }, { socket: `${dir}/ipamd.sock`, checkpoint: `${dir}/ipam.json` });
  try {
    await using aws = await openAwsNode(config, { clock: systemClock, log: silentLogger });
    assert.equal(aws.instance.instanceId, fx.instanceId);
    assert.equal(aws.instance.region, "us-east-1");
    assert.equal(aws.instanceType.name, "m5.large");
    assert.deepEqual(aws.vpcCidrs, ["10.0.0.0/16"]);
    await using _daemon = await startDaemon(config, {
      ec2: aws.ec2,
      limits: instanceLimits(aws.instanceType, { prefixDelegation: false }),
      checkpoint: new MemoryCheckpointStore(),
      clock: systemClock,
      log: silentLogger,
      budget: aws.budget,
      node: aws.lifecycle,
      shutdownGraceMs: 1_000,
    });
    const held = () =>
      fx.sim.exportState().networkInterfaces.map((eni) => eni.secondaryPrivateIpAddresses.length);
    await waitFor(() => JSON.stringify(held()) === "[9,3]", 10_000).catch(() => {});
    assert.deepEqual(held(), [9, 3], "12 warm IPs: the primary full, then a second ENI");
    const second = fx.sim.exportState().networkInterfaces[1]!;
    assert.ok(second.tags.some((tag) => tag.key === "node.k8s.amazonaws.com/instance_id"));
    assert.ok(aws.budget.categories.every((category) => aws.budget.waitedMs(category) === 0));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openAwsNode() learns an instance type missing from the built-in table from DescribeInstanceTypes", async () => {
  using _ = withEnv(CREDENTIALS);
  const { sim } = simFixture({ clock: systemClock });
  const { instanceId } = sim.launchInstance({
    instanceType: "x9.custom",
    maxEnis: 4,
    ipv4PerEni: 6,
    subnetId: "subnet-a",
  });
  await using emulator = await startEmulator({ sim, instanceId });
  const config = parseIpamdConfig({
    AWS_ENDPOINT_URL_EC2: emulator.ec2Endpoint,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: emulator.imdsEndpoint,
  });
  await using aws = await openAwsNode(config, { clock: systemClock, log: silentLogger });
  assert.equal(aws.instanceType.name, "x9.custom");
  assert.deepEqual([aws.instanceType.maxEnis, aws.instanceType.ipv4PerEni], [4, 6]);
});

Deno.test("startDaemon() retries discovery while EC2 throttles instead of failing", async () => {
  using _ = withEnv(CREDENTIALS);
  await using fx = await sdkFixture({ realTime: true, sim: { attachLatency: { kind: "fixed", ms: 0 } } });
  // A node with a secondary ENI (a fresh one is read from IMDS alone): discovery describes that ENI.
  const secondary =
    fx.sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId;
  fx.sim.attachNetworkInterface({ networkInterfaceId: secondary, instanceId: fx.instanceId, deviceIndex: 1 });
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-node-" });
  const lines: string[] = [];
  const log = createLogger((line) => void lines.push(line));
  const config = parseIpamdConfig({
    AWS_EC2_ENDPOINT: fx.emulator.ec2Endpoint,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: fx.emulator.imdsEndpoint,
    EC2_THROTTLE_RETRIES: "0",
    DISABLE_INTROSPECTION: "true",
    DISABLE_METRICS: "true",
  }, { socket: `${dir}/ipamd.sock` });
  try {
    await using aws = await openAwsNode(config, { clock: systemClock, log });
    fx.sim.knobs.failNext("DescribeNetworkInterfaces", { code: "RequestLimitExceeded" }, 2);
    const started = performance.now();
    await using daemon = await startDaemon(config, {
      ec2: aws.ec2,
      limits: instanceLimits(aws.instanceType, { prefixDelegation: false }),
      checkpoint: new MemoryCheckpointStore(),
      clock: systemClock,
      log,
      node: aws.lifecycle,
      shutdownGraceMs: 1_000,
    });
    const waitedMs = performance.now() - started;
    assert.equal(daemon.pool.datastore.enis().length, 2);
    const retries = lines.filter((line) => line.includes("cannot discover the node's ENIs yet"))
      .map((line) => JSON.parse(line).delayMs as number);
    assert.equal(retries.length, 2);
    assert.ok(
      retries[0]! <= 1_000 && retries[1]! <= 2_000,
      `up to 1 s, then up to 2 s (full jitter): ${retries}`,
    );
    assert.ok(waitedMs >= retries[0]! + retries[1]!, `waited them out (${Math.round(waitedMs)} ms)`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
