import { DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import { simFixture } from "../../testing/ec2_sim_fixture.ts";
import { parseListenAddress, startEmulator } from "./mod.ts";

/** A port P such that P and P + 1 were free a moment ago. */
function freePortPair(): number {
  for (;;) {
    const first = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = first.addr.port;
    try {
      if (port >= 65535) continue;
      const second = Deno.listen({ hostname: "127.0.0.1", port: port + 1 });
      second.close();
      return port;
    } catch {
      // Taken: try another.
    } finally {
      first.close();
    }
  }
}

Deno.test("parseListenAddress() splits HOST:PORT and [V6]:PORT", () => {
  assert.deepEqual(parseListenAddress("127.0.0.1:8080"), { hostname: "127.0.0.1", port: 8080 });
  assert.deepEqual(parseListenAddress("[::1]:9000"), { hostname: "::1", port: 9000 });
  assert.deepEqual(parseListenAddress("localhost:1"), { hostname: "localhost", port: 1 });
  for (const bad of ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:65535", ":80", "::1:80", "host:http"]) {
    assert.throws(() => parseListenAddress(bad), RangeError, bad);
  }
});

Deno.test("startEmulator() with listen serves EC2 on PORT and IMDS on PORT + 1", async () => {
  const { sim } = simFixture();
  const { instanceId } = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const port = freePortPair();
  const emulator = await startEmulator({ sim, instanceId, listen: `127.0.0.1:${port}` });
  const client = new EC2Client({
    endpoint: emulator.ec2Endpoint,
    region: "us-west-2",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
    maxAttempts: 1,
  });
  try {
    assert.equal(emulator.ec2Endpoint, `http://127.0.0.1:${port}`);
    assert.equal(emulator.imdsEndpoint, `http://127.0.0.1:${port + 1}`);
    assert.equal((await client.send(new DescribeSubnetsCommand({}))).Subnets?.length, 3);
    const token = await fetch(`${emulator.imdsEndpoint}/latest/api/token`, {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "10" },
    });
    assert.equal(token.status, 200);
    await token.body?.cancel();
  } finally {
    client.destroy();
    await emulator.close();
    await emulator.close();
  }
});

Deno.test("startEmulator() picks free ports by default and refuses what it cannot serve", async () => {
  const { sim } = simFixture();
  const { instanceId } = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const emulator = await startEmulator({ sim, instanceId });
  try {
    assert.match(emulator.ec2Endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(emulator.ec2Endpoint, emulator.imdsEndpoint);
    const taken = Number(new URL(emulator.imdsEndpoint).port);
    await assert.rejects(startEmulator({ sim, instanceId, imdsPort: taken }), Deno.errors.AddrInUse);
    await assert.rejects(startEmulator({ sim, instanceId, ec2Port: taken }), Deno.errors.AddrInUse);
  } finally {
    await emulator.close();
  }
  await assert.rejects(startEmulator({ sim, instanceId, hostname: "0.0.0.0" }), RangeError);
  await assert.rejects(startEmulator({ sim, instanceId: "i-0123456789abcdef0" }), RangeError);
  await assert.rejects(startEmulator({ sim, instanceId, imdsLagMs: -1 }), RangeError);
  await assert.rejects(startEmulator({ sim, instanceId, ec2Port: 70000 }), RangeError);
});

Deno.test("startEmulator() counts EC2 calls per action, tells of IMDS requests, and lets IMDS lag change", async () => {
  const { sim } = simFixture();
  const { instanceId } = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const seen: { method: string; path: string; token: string | null; ttl: string | null }[] = [];
  const emulator = await startEmulator({ sim, instanceId, onImdsRequest: (request) => seen.push(request) });
  const client = new EC2Client({
    endpoint: emulator.ec2Endpoint,
    region: "us-west-2",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
    maxAttempts: 1,
  });
  try {
    sim.knobs.failNext("DescribeSubnets", { code: "InternalError", httpStatus: 500 });
    await assert.rejects(client.send(new DescribeSubnetsCommand({})));
    await client.send(new DescribeSubnetsCommand({}));
    assert.deepEqual(emulator.ec2Calls(), { DescribeSubnets: 2 }, "failed calls count too");
    const put = await fetch(`${emulator.imdsEndpoint}/latest/api/token`, {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "10" },
    });
    const token = await put.text();
    const get = await fetch(`${emulator.imdsEndpoint}/latest/meta-data/instance-id`, {
      headers: { "x-aws-ec2-metadata-token": token },
    });
    assert.equal(await get.text(), instanceId);
    assert.deepEqual(seen, [
      { method: "PUT", path: "/latest/api/token", token: null, ttl: "10" },
      { method: "GET", path: "/latest/meta-data/instance-id", token, ttl: null },
    ]);
    assert.equal(emulator.imds.lagMs, 0);
    emulator.imds.lagMs = 5_000;
    assert.equal(emulator.imds.lagMs, 5_000);
    assert.throws(() => emulator.imds.lagMs = -1, RangeError);
  } finally {
    client.destroy();
    await emulator.close();
  }
});
