import assert from "node:assert/strict";
import { makeStaleSocket, sleep, tempDir, waitFor, withTimeout } from "../../testing/rpc_sockets.ts";
import { addNetworkRequestCodec, delNetworkRequestCodec } from "../../shared/rpc/codec.ts";
import { RpcPath, ServingStatus } from "../../shared/rpc/messages.ts";
import { Status } from "../../shared/rpc/status.ts";
import { FakeBackend, GrpcJsClient, startTestServer } from "../../testing/rpc_server_fixture.ts";
import { INTERNAL_DETAILS, RpcError } from "./errors.ts";
import { HealthStatus } from "./health.ts";
import { type CniBackend, startRpcServer } from "./server.ts";
import { IpamdClient } from "../../cni/rpc/client.ts";

const ADD = addNetworkRequestCodec.create({ containerId: "c1", ifName: "eth0", podName: "web-0" });
const DEL = delNetworkRequestCodec.create({ containerId: "c1", ifName: "eth0", reason: "PodDeleted" });

async function rejection(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof Error, "expected the call to fail");
  return error as Error & { code: number; details: string };
}

Deno.test("startRpcServer() answers AddNetwork from a grpc-js client, the same IP on a repeated ADD", async () => {
  await using t = await startTestServer();
  using client = new GrpcJsClient(t.socketPath);
  const first = await client.addNetwork(ADD);
  assert.equal(first.success, true);
  assert.deepEqual(first.ipAllocations, [{
    ipv4Addr: "10.0.0.10",
    ipv6Addr: "",
    deviceNumber: 0,
    routeTableId: 254,
  }]);
  assert.deepEqual(first.vpcV4Cidrs, ["10.0.0.0/16"]);
  const again = await client.addNetwork(ADD);
  assert.deepEqual(again, first);
  assert.equal(t.backend.assigned.size, 1);
});

Deno.test("startRpcServer() answers DelNetwork, and a repeated DEL succeeds with no addresses", async () => {
  await using t = await startTestServer();
  using client = new GrpcJsClient(t.socketPath);
  await client.addNetwork(ADD);
  const first = await client.delNetwork(DEL);
  assert.equal(first.success, true);
  assert.equal(first.ipAllocations[0]?.ipv4Addr, "10.0.0.10");
  const again = await client.delNetwork(DEL);
  assert.equal(again.success, true);
  assert.deepEqual(again.ipAllocations, []);
  assert.equal(t.backend.assigned.size, 0);
});

Deno.test("startRpcServer() health Check reports SERVING, NOT_SERVING, and NOT_FOUND for unknown services", async () => {
  await using t = await startTestServer();
  using client = new GrpcJsClient(t.socketPath);
  assert.deepEqual(await client.check(""), { status: ServingStatus.SERVING });
  t.health.set("", ServingStatus.NOT_SERVING);
  assert.deepEqual(await client.check(""), { status: ServingStatus.NOT_SERVING });
  const error = await rejection(client.check("nope"));
  assert.equal(error.code, Status.NOT_FOUND);
});

Deno.test("startRpcServer() health Watch streams the status and its changes", async () => {
  await using t = await startTestServer();
  using client = new GrpcJsClient(t.socketPath);
  const stream = client.watch("");
  const seen: number[] = [];
  const ended = new Promise<void>((resolve) => {
    stream.on("data", (reply: { status: number }) => {
      seen.push(reply.status);
      if (seen.length === 1) t.health.set("", ServingStatus.NOT_SERVING);
      if (seen.length === 2) stream.cancel();
    });
    stream.on("error", () => resolve());
    stream.on("end", () => resolve());
  });
  await withTimeout(ended);
  assert.deepEqual(seen, [ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
});

Deno.test("RpcServer.close() ends open Watch streams with OK instead of waiting for them", async () => {
  await using t = await startTestServer();
  using client = new GrpcJsClient(t.socketPath);
  const stream = client.watch("other");
  const first = new Promise<number>((resolve) =>
    stream.once("data", (r: { status: number }) => resolve(r.status))
  );
  const status = new Promise<number>((resolve) =>
    stream.on("status", (s: { code: number }) => resolve(s.code))
  );
  stream.on("error", () => {});
  assert.equal(await withTimeout(first), ServingStatus.SERVICE_UNKNOWN);
  const started = performance.now();
  await t.server.close(5000);
  assert.ok(performance.now() - started < 1000, "close() waited for the Watch stream");
  assert.equal(await withTimeout(status), Status.OK);
});

Deno.test("startRpcServer() answers malformed request bytes with INVALID_ARGUMENT and keeps serving", async () => {
  await using t = await startTestServer();
  using client = new GrpcJsClient(t.socketPath);
  for (const bytes of [[0x0a, 0x05, 0x61], [0x0b], [0x0a, 0x01, 0xff], [0x80]]) {
    const error = await rejection(client.raw(RpcPath.ADD_NETWORK, new Uint8Array(bytes)));
    assert.equal(error.code, Status.INVALID_ARGUMENT, `bytes ${bytes}`);
    assert.match(error.details, /rpc\.AddNetworkRequest/);
  }
  for (const path of [RpcPath.DEL_NETWORK, RpcPath.HEALTH_CHECK, RpcPath.HEALTH_WATCH]) {
    const error = await rejection(client.raw(path, new Uint8Array([0x0a, 0x09])));
    assert.equal(error.code, Status.INVALID_ARGUMENT, path);
  }
  assert.equal(t.backend.started, 0);
  assert.equal((await client.addNetwork(ADD)).success, true);
});

Deno.test("startRpcServer() maps an RpcError to its status and message", async () => {
  await using t = await startTestServer();
  using client = new GrpcJsClient(t.socketPath);
  t.backend.fail = new RpcError(Status.FAILED_PRECONDITION, "wrong client version");
  const error = await rejection(client.addNetwork(ADD));
  assert.equal(error.code, Status.FAILED_PRECONDITION);
  assert.equal(error.details, "wrong client version");
  assert.deepEqual(t.internalErrors, []);
});

Deno.test("startRpcServer() answers other errors with INTERNAL and a fixed message, and reports them", async () => {
  await using t = await startTestServer();
  using client = new GrpcJsClient(t.socketPath);
  const secret = new TypeError("Cannot read /var/lib/secret");
  t.backend.fail = secret;
  const error = await rejection(client.delNetwork(DEL));
  assert.equal(error.code, Status.INTERNAL);
  assert.equal(error.details, INTERNAL_DETAILS);
  assert.deepEqual(t.internalErrors, [secret]);
});

Deno.test("startRpcServer() sets the socket mode to 0600", async () => {
  await using t = await startTestServer();
  const info = await Deno.stat(t.socketPath);
  assert.equal((info.mode ?? 0) & 0o777, 0o600);
});

Deno.test("startRpcServer() replaces a stale socket file", async () => {
  await using dir = await tempDir();
  const socketPath = `${dir.path}/ipamd.sock`;
  await makeStaleSocket(socketPath);
  const server = await startRpcServer({ socketPath, backend: new FakeBackend(), health: new HealthStatus() });
  try {
    using client = new GrpcJsClient(socketPath);
    assert.equal((await client.addNetwork(ADD)).success, true);
  } finally {
    await server.close(1000);
  }
});

Deno.test("startRpcServer() refuses a socket another server answers on, and a non-socket file", async () => {
  await using t = await startTestServer();
  const options = { backend: new FakeBackend(), health: new HealthStatus() };
  await assert.rejects(startRpcServer({ socketPath: t.socketPath, ...options }), Deno.errors.AddrInUse);
  using client = new GrpcJsClient(t.socketPath);
  assert.equal((await client.addNetwork(ADD)).success, true);
  const filePath = `${t.dir}/not-a-socket`;
  await Deno.writeTextFile(filePath, "keep me");
  await assert.rejects(startRpcServer({ socketPath: filePath, ...options }), Deno.errors.AlreadyExists);
  assert.equal(await Deno.readTextFile(filePath), "keep me");
});

Deno.test("RpcServer.close() lets an in-flight call finish, refuses new ones and removes the socket", async () => {
  await using t = await startTestServer();
  using client = new GrpcJsClient(t.socketPath);
  t.backend.delayMs = 300;
  const inFlight = client.addNetwork(ADD);
  await t.backend.waitForCalls(1);
  let closedAt = 0;
  const closing = t.server.close(5000).then(() => void (closedAt = performance.now()));
  await sleep(20);
  const late = await rejection(client.addNetwork(ADD, 1000));
  assert.equal(late.code, Status.UNAVAILABLE);
  const reply = await inFlight;
  const repliedAt = performance.now();
  await closing;
  assert.equal(reply.success, true);
  assert.ok(closedAt >= repliedAt - 5, "close() resolved before the in-flight call ended");
  await assert.rejects(Deno.lstat(t.socketPath), Deno.errors.NotFound);
});

Deno.test("RpcServer.close() cancels calls still running after the grace period", async () => {
  await using t = await startTestServer();
  using client = new GrpcJsClient(t.socketPath);
  t.backend.delayMs = 10_000;
  const inFlight = rejection(client.addNetwork(ADD, 5000));
  await t.backend.waitForCalls(1);
  const started = performance.now();
  await t.server.close(100);
  assert.ok(performance.now() - started < 2000);
  const error = await inFlight;
  assert.ok([Status.CANCELLED, Status.UNAVAILABLE].includes(error.code as 1 | 14), `code ${error.code}`);
  await waitFor(() => t.backend.aborted.length === 1);
});

Deno.test("startRpcServer() answers ListAllocations from a backend that lists, UNIMPLEMENTED from one that does not", async () => {
  await using dir = await tempDir();
  const listing: CniBackend = {
    addNetwork: () => Promise.reject(new Error("not used")),
    delNetwork: () => Promise.reject(new Error("not used")),
    listAllocations: (request) =>
      Promise.resolve({
        allocations: [{
          containerId: "c1",
          ifName: "eth0",
          networkName: request.networkName,
          ipv4Addr: "10.0.0.9",
        }],
      }),
  };
  const health = new HealthStatus({ "": ServingStatus.SERVING });
  for (const [name, backend] of [["listing", listing], ["reference", new FakeBackend()]] as const) {
    const socketPath = `${dir.path}/${name}.sock`;
    const server = await startRpcServer({ socketPath, backend, health });
    const client = new IpamdClient(socketPath);
    try {
      const reply = await client.listAllocations("aws-cni", { deadlineMs: 2_000 }).catch((e: unknown) => e);
      if (name === "listing") {
        assert.deepEqual(reply, {
          allocations: [{ containerId: "c1", ifName: "eth0", networkName: "aws-cni", ipv4Addr: "10.0.0.9" }],
        });
      } else {
        assert.equal((reply as { code?: number }).code, Status.UNIMPLEMENTED);
      }
    } finally {
      await client.close();
      await server.close(500);
    }
  }
});
