import assert from "node:assert/strict";
import { AssignPrivateIpAddressesCommand, DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { systemClock } from "../../shared/mod.ts";
import { startCloud } from "./cloud.ts";
import { CloudControl } from "./control_client.ts";
import { serveControl } from "./control_server.ts";
import { parseCloudArgs } from "./flags.ts";

/** A cloud without links (no root), its control socket in a temp dir, an SDK client and a control client. */
async function cloudFixture(flags: string[] = []) {
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-cloud-test-" });
  const options = parseCloudArgs([
    "--instance-type",
    "t3.small",
    "--attach-latency-ms",
    "30",
    "--no-links",
    ...flags,
  ]);
  const cloud = await startCloud(options, { clock: systemClock, openLinks: null });
  const server = serveControl(cloud, `${dir}/control.sock`);
  const control = new CloudControl(`${dir}/control.sock`);
  const ec2 = new EC2Client({
    endpoint: cloud.endpoints.ec2Endpoint,
    region: "us-west-2",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
    maxAttempts: 1,
  });
  return {
    cloud,
    control,
    ec2,
    async [Symbol.asyncDispose]() {
      ec2.destroy();
      control.close();
      await server.shutdown();
      await cloud.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("the control channel reads the account: ENIs as EC2 holds them, subnets and calls per action", async () => {
  await using fx = await cloudFixture(["--subnet-cidr", "10.0.0.0/20", "--subnet-cidr", "10.0.16.0/24"]);
  const before = await fx.control.state();
  assert.equal(before.instanceId, fx.cloud.endpoints.instanceId);
  assert.equal(before.enis.length, 1);
  const primary = before.enis[0]!;
  assert.equal(primary.eniId, fx.cloud.endpoints.primaryEniId);
  assert.equal(primary.status, "in-use");
  assert.deepEqual(primary.attachment, { instanceId: before.instanceId, deviceIndex: 0, status: "attached" });
  assert.equal(`${primary.privateIp}/20`, fx.cloud.endpoints.primaryAddress);
  assert.deepEqual(before.calls, {});
  assert.equal(before.holdingAttaches, false);
  const described = await fx.ec2.send(new DescribeSubnetsCommand({}));
  const subnets = (await fx.control.state()).subnets;
  assert.deepEqual(
    subnets.map((s) => [s.subnetId, s.cidr, s.availableIps]),
    described.Subnets!.map((s) => [s.SubnetId, s.CidrBlock, s.AvailableIpAddressCount]),
    "free addresses as DescribeSubnets counts them",
  );
  await fx.ec2.send(
    new AssignPrivateIpAddressesCommand({
      NetworkInterfaceId: primary.eniId,
      SecondaryPrivateIpAddressCount: 2,
    }),
  );
  const after = await fx.control.state();
  assert.deepEqual(after.calls, { DescribeSubnets: 1, AssignPrivateIpAddresses: 1 });
  assert.equal(after.enis[0]!.secondaryIps.length, 2);
});

Deno.test("the control channel arms faults, throttling, latency and hangs, and refuses what it cannot do", async () => {
  await using fx = await cloudFixture();
  const describe = () => fx.ec2.send(new DescribeSubnetsCommand({}));
  await fx.control.failNext("DescribeSubnets", { code: "UnauthorizedOperation", httpStatus: 403 });
  await assert.rejects(describe(), { name: "UnauthorizedOperation" });
  await describe();
  await fx.control.failAtRate("*", { code: "InternalError", httpStatus: 500 }, 1);
  await assert.rejects(describe(), { name: "InternalError" });
  await fx.control.clearFaults();
  await describe();
  await fx.control.throttle({ "non-mutating": { capacity: 1, refillPerSecond: 0.001 } });
  await describe();
  await assert.rejects(describe(), { name: "RequestLimitExceeded" });
  assert.equal((await fx.control.state()).throttling, true);
  await fx.control.throttle(null);
  await describe();
  await fx.control.setApiLatency("DescribeSubnets", 150);
  const started = performance.now();
  await describe();
  assert.ok(performance.now() - started >= 140, "the call waited out its latency");
  await fx.control.setApiLatency("DescribeSubnets", 0);
  await fx.control.hang("DescribeSubnets");
  const hung = fx.ec2.send(new DescribeSubnetsCommand({}), { abortSignal: AbortSignal.timeout(200) });
  await assert.rejects(hung);
  await describe();
  await fx.control.setImdsLag(2_000);
  assert.equal((await fx.control.state()).imdsLagMs, 2_000);
  await assert.rejects(
    fx.control.failNext("NoSuchAction" as "CreateTags", { code: "X" }),
    /Unknown EC2 action/,
  );
  await assert.rejects(fx.control.failNext("CreateTags", { code: "" }), /without an error code/);
  await assert.rejects(
    fx.control.throttle({ mutating: { capacity: 0, refillPerSecond: 1 } }),
    /Invalid bucket/,
  );
  await assert.rejects(fx.control.setAttachLatency(-5), /Cannot set an attach latency/);
  await assert.rejects(fx.control.deleteEni("eni-0000000000000000f"), /does not exist/);
});

Deno.test("the control channel holds and releases attaches, and takes a subnet's free addresses for another node", async () => {
  await using fx = await cloudFixture(["--subnet-cidr", "10.0.0.0/27"]);
  const { instanceId, subnetId } = fx.cloud.endpoints;
  const sim = fx.cloud.account.sim;
  await fx.control.holdAttaches();
  const eniId = sim.createNetworkInterface({ subnetId }).networkInterface.networkInterfaceId;
  sim.attachNetworkInterface({ networkInterfaceId: eniId, instanceId, deviceIndex: 1 });
  const held = async () => (await fx.control.state()).enis.find((e) => e.eniId === eniId)!;
  assert.equal((await held()).status, "attaching");
  assert.equal((await fx.control.state()).holdingAttaches, true);
  assert.equal(await fx.control.releaseAttaches(), 1);
  assert.equal((await held()).status, "in-use");
  const neighbour = await fx.control.createEni({ secondaryIps: "all" });
  assert.equal((await fx.control.state()).subnets[0]!.availableIps, 0);
  await fx.control.deleteEni(neighbour);
  assert.ok((await fx.control.state()).subnets[0]!.availableIps > 0);
});

Deno.test("the control channel answers 404 and 405 for what it does not serve", async () => {
  await using fx = await cloudFixture();
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: fx.control.path } });
  try {
    const missing = await fetch("http://cloud/nothing", { client });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const wrong = await fetch("http://cloud/state", { client, method: "POST" });
    assert.equal(wrong.status, 405);
    await wrong.body?.cancel();
    const bad = await fetch("http://cloud/faults", { client, method: "POST", body: "[1]" });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /JSON object/);
  } finally {
    client.close();
  }
});

Deno.test("--withhold and the control channel take actions out of the node role's IAM policy and put them back", async () => {
  await using fx = await cloudFixture(["--withhold", "DescribeSubnets"]);
  assert.deepEqual((await fx.control.state()).withheld, ["DescribeSubnets"]);
  const denied = await fx.ec2.send(new DescribeSubnetsCommand({})).then(() => null, (error: Error) => error);
  assert.equal(denied?.name, "UnauthorizedOperation");
  assert.match(denied?.message ?? "", /not authorized to perform: ec2:DescribeSubnets/);
  await fx.control.withhold(["AssignPrivateIpAddresses"]);
  assert.deepEqual((await fx.control.state()).withheld, ["AssignPrivateIpAddresses", "DescribeSubnets"]);
  await fx.control.grant(["DescribeSubnets"]);
  await fx.ec2.send(new DescribeSubnetsCommand({}));
  await fx.control.grant();
  assert.deepEqual((await fx.control.state()).withheld, []);
  await assert.rejects(fx.control.withhold(["RunInstances" as never]), /Unknown EC2 action "RunInstances"/);
});
