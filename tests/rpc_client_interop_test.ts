import assert from "node:assert/strict";
import { waitFor, withTimeout } from "../testing/rpc_sockets.ts";
import { IpamdClient } from "../cni/rpc/client.ts";
import { addNetworkRequestCodec, delNetworkRequestCodec } from "../shared/rpc/codec.ts";
import { ServingStatus } from "../shared/rpc/messages.ts";
import { RpcCallError, Status } from "../shared/rpc/status.ts";
import { FakeBackend, startTestServer } from "../testing/rpc_server_fixture.ts";
import { INTERNAL_DETAILS, RpcError } from "../ipamd/rpc/errors.ts";
import { HealthStatus } from "../ipamd/rpc/health.ts";
import { startRpcServer } from "../ipamd/rpc/server.ts";

const ADD = addNetworkRequestCodec.create({ containerId: "c1", ifName: "eth0", podName: "web-0" });
const DEL = delNetworkRequestCodec.create({ containerId: "c1", ifName: "eth0", reason: "PodDeleted" });
const SHORT = { deadlineMs: 2000 };

async function callError(promise: Promise<unknown>): Promise<RpcCallError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof RpcCallError, `expected an RpcCallError, got ${error}`);
  return error;
}

/** A client closed on dispose, so the sanitizers see no open connection. */
function clientFor(socketPath: string): IpamdClient & AsyncDisposable {
  const client = new IpamdClient(socketPath);
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

Deno.test("IpamdClient.addNetwork() gets an IP from the grpc-js server, the same one on a repeated ADD", async () => {
  await using t = await startTestServer();
  await using client = clientFor(t.socketPath);
  const first = await client.addNetwork(ADD, SHORT);
  assert.equal(first.success, true);
  assert.deepEqual(first.ipAllocations, [{
    ipv4Addr: "10.0.0.10",
    ipv6Addr: "",
    deviceNumber: 0,
    routeTableId: 254,
  }]);
  assert.deepEqual(await client.addNetwork(ADD, SHORT), first);
  assert.equal(t.backend.started, 2);
});

Deno.test("IpamdClient.delNetwork() releases the IP, and a repeated DEL succeeds with no addresses", async () => {
  await using t = await startTestServer();
  await using client = clientFor(t.socketPath);
  await client.addNetwork(ADD, SHORT);
  const first = await client.delNetwork(DEL, SHORT);
  assert.deepEqual(first.ipAllocations.map((a) => a.ipv4Addr), ["10.0.0.10"]);
  const again = await client.delNetwork(DEL, SHORT);
  assert.equal(again.success, true);
  assert.deepEqual(again.ipAllocations, []);
});

Deno.test("IpamdClient.healthCheck() reads SERVING, then NOT_SERVING, and NOT_FOUND for an unknown service", async () => {
  await using t = await startTestServer();
  await using client = clientFor(t.socketPath);
  assert.equal(await client.healthCheck(SHORT), ServingStatus.SERVING);
  t.health.set("", ServingStatus.NOT_SERVING);
  assert.equal(await client.healthCheck(SHORT), ServingStatus.NOT_SERVING);
  const error = await callError(client.healthCheck({ ...SHORT, service: "rpc.Nope" }));
  assert.equal(error.code, Status.NOT_FOUND);
  assert.equal(error.details, 'Unknown service "rpc.Nope"');
});

Deno.test("IpamdClient fails with DEADLINE_EXCEEDED on a slow backend, which sees its signal abort", async () => {
  await using t = await startTestServer();
  await using client = clientFor(t.socketPath);
  t.backend.delayMs = 10_000;
  const started = performance.now();
  const error = await withTimeout(callError(client.addNetwork(ADD, { deadlineMs: 150 })));
  const elapsed = performance.now() - started;
  assert.equal(error.code, Status.DEADLINE_EXCEEDED);
  assert.ok(elapsed >= 140 && elapsed < 1000, `took ${elapsed} ms`);
  await waitFor(() => t.backend.aborted.length === 1);
  t.backend.delayMs = 0;
  assert.equal((await client.addNetwork(ADD, SHORT)).success, true, "the connection is still usable");
});

Deno.test("IpamdClient surfaces an RpcError's status and message, and INTERNAL for other errors", async () => {
  await using t = await startTestServer();
  await using client = clientFor(t.socketPath);
  t.backend.fail = new RpcError(Status.FAILED_PRECONDITION, "wrong client version: 100% \u00e9");
  const mapped = await callError(client.addNetwork(ADD, SHORT));
  assert.equal(mapped.code, Status.FAILED_PRECONDITION);
  assert.equal(mapped.details, "wrong client version: 100% \u00e9");
  t.backend.fail = new Error("disk path /secret");
  const internal = await callError(client.delNetwork(DEL, SHORT));
  assert.equal(internal.code, Status.INTERNAL);
  assert.equal(internal.details, INTERNAL_DETAILS);
});

Deno.test("IpamdClient runs 200 calls made at once, one after the other, on one client", async () => {
  await using t = await startTestServer();
  await using client = clientFor(t.socketPath);
  const replies = await Promise.all(
    Array.from(
      { length: 200 },
      (_, i) =>
        client.addNetwork(addNetworkRequestCodec.create({ containerId: `c${i}`, ifName: "eth0" }), {
          deadlineMs: 20_000,
        }),
    ),
  );
  const ips = new Set(replies.map((r) => r.ipAllocations[0]?.ipv4Addr));
  assert.equal(ips.size, 200);
  assert.equal(t.backend.assigned.size, 200);
});

Deno.test("RpcServer.close() lets an in-flight IpamdClient call finish", async () => {
  await using t = await startTestServer();
  await using client = clientFor(t.socketPath);
  t.backend.delayMs = 300;
  const inFlight = client.addNetwork(ADD, SHORT);
  await t.backend.waitForCalls(1);
  await t.server.close(5000);
  assert.equal(t.backend.assigned.size, 1, "close() resolved before the call finished");
  assert.equal((await inFlight).success, true);
});

Deno.test("IpamdClient reconnects after the server restarts on the same socket", async () => {
  await using t = await startTestServer();
  await using client = clientFor(t.socketPath);
  assert.equal(await client.healthCheck(SHORT), ServingStatus.SERVING);
  await t.server.close(1000);
  const down = await callError(client.healthCheck(SHORT));
  assert.equal(down.code, Status.UNAVAILABLE);
  const health = new HealthStatus({ "": ServingStatus.NOT_SERVING });
  const restarted = await startRpcServer({ socketPath: t.socketPath, backend: new FakeBackend(), health });
  try {
    assert.equal(await client.healthCheck(SHORT), ServingStatus.NOT_SERVING);
  } finally {
    await restarted.close(1000);
  }
});
