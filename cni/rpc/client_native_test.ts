import assert from "node:assert/strict";
import { FakeBackend, startTestServer } from "../../testing/rpc_server_fixture.ts";
import { INTERNAL_DETAILS, RpcError } from "../../ipamd/rpc/errors.ts";
import { HealthStatus } from "../../ipamd/rpc/health.ts";
import { startRpcServer } from "../../ipamd/rpc/server.ts";
import { makeStaleSocket, tempDir, waitFor, withTimeout } from "../../testing/rpc_sockets.ts";
import {
  addNetworkReplyCodec,
  addNetworkRequestCodec,
  delNetworkRequestCodec,
} from "../../shared/rpc/codec.ts";
import { type FakePeer, type ReceivedRequest, startFakeServer } from "../../testing/h2_fake_peer.ts";
import { encodeFrame, encodeUint32Frame, Flag, FrameType } from "./h2/frame.ts";
import { encodeHeaderBlock } from "./h2/hpack.ts";
import { RpcPath, ServingStatus } from "../../shared/rpc/messages.ts";
import { IpamdClient } from "./client.ts";
import { RpcCallError, Status } from "../../shared/rpc/status.ts";

const ADD = addNetworkRequestCodec.create({ containerId: "c1", ifName: "eth0", podName: "web-0" });
const DEL = delNetworkRequestCodec.create({ containerId: "c1", ifName: "eth0", reason: "PodDeleted" });
const SHORT = { deadlineMs: 2000 };
const REPLY = addNetworkReplyCodec.create({ success: true, networkPolicyMode: "none" });

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

function grpcFrame(message: Uint8Array, flag = 0): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  out[0] = flag;
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

Deno.test("IpamdClient.addNetwork() and delNetwork() against the grpc-js server", async () => {
  await using t = await startTestServer();
  await using client = clientFor(t.socketPath);
  const first = await client.addNetwork(ADD, SHORT);
  assert.deepEqual(first.ipAllocations, [{
    ipv4Addr: "10.0.0.10",
    ipv6Addr: "",
    deviceNumber: 0,
    routeTableId: 254,
  }]);
  assert.deepEqual(await client.addNetwork(ADD, SHORT), first, "a repeated ADD gets the same IP");
  const released = await client.delNetwork(DEL, SHORT);
  assert.deepEqual(released.ipAllocations.map((a) => a.ipv4Addr), ["10.0.0.10"]);
  assert.deepEqual((await client.delNetwork(DEL, SHORT)).ipAllocations, [], "a repeated DEL succeeds");
});

Deno.test("IpamdClient.healthCheck() reads SERVING, NOT_SERVING, and NOT_FOUND with its message", async () => {
  await using t = await startTestServer();
  await using client = clientFor(t.socketPath);
  assert.equal(await client.healthCheck(SHORT), ServingStatus.SERVING);
  t.health.set("", ServingStatus.NOT_SERVING);
  assert.equal(await client.healthCheck(SHORT), ServingStatus.NOT_SERVING);
  const error = await callError(client.healthCheck({ ...SHORT, service: "rpc.Nope" }));
  assert.deepEqual([error.code, error.details], [Status.NOT_FOUND, 'Unknown service "rpc.Nope"']);
});

Deno.test("IpamdClient surfaces the server's status and percent-decoded message", async () => {
  await using t = await startTestServer();
  await using client = clientFor(t.socketPath);
  t.backend.fail = new RpcError(Status.FAILED_PRECONDITION, "wrong client version: 100% \u00e9");
  const mapped = await callError(client.addNetwork(ADD, SHORT));
  assert.deepEqual([mapped.code, mapped.details], [
    Status.FAILED_PRECONDITION,
    "wrong client version: 100% \u00e9",
  ]);
  t.backend.fail = new Error("disk path /secret");
  const internal = await callError(client.delNetwork(DEL, SHORT));
  assert.deepEqual([internal.code, internal.details], [Status.INTERNAL, INTERNAL_DETAILS]);
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

Deno.test("IpamdClient fails with UNAVAILABLE quickly when the socket is missing or stale", async () => {
  await using dir = await tempDir();
  const stale = `${dir.path}/stale.sock`;
  await makeStaleSocket(stale);
  for (const socketPath of [`${dir.path}/missing.sock`, stale]) {
    await using client = clientFor(socketPath);
    const started = performance.now();
    const error = await callError(client.delNetwork(DEL, { deadlineMs: 5000 }));
    assert.equal(error.code, Status.UNAVAILABLE, socketPath);
    assert.match(error.details, /^Cannot reach ipamd: /);
    assert.ok(performance.now() - started < 1000, "took too long");
  }
});

Deno.test("IpamdClient runs concurrent calls one at a time, each within a deadline counted from the call", async () => {
  await using t = await startTestServer();
  await using client = clientFor(t.socketPath);
  t.backend.delayMs = 100;
  const requests = Array.from(
    { length: 3 },
    (_, i) => addNetworkRequestCodec.create({ containerId: `c${i}`, ifName: "eth0" }),
  );
  const outcomes = await Promise.all(
    requests.map((request) =>
      client.addNetwork(request, { deadlineMs: 250 }).then((r) => r.success, (e) => e)
    ),
  );
  // 100 ms each, one after the other: the third would end at 300 ms, after its deadline.
  assert.deepEqual(outcomes.slice(0, 2), [true, true]);
  assert.ok(
    outcomes[2] instanceof RpcCallError && outcomes[2].code === Status.DEADLINE_EXCEEDED,
    String(outcomes[2]),
  );
  t.backend.delayMs = 0;
  const many = await Promise.all(
    Array.from({ length: 50 }, () => client.healthCheck({ deadlineMs: 5000 })),
  );
  assert.deepEqual(many, Array(50).fill(ServingStatus.SERVING));
});

Deno.test("IpamdClient reads a 400 KB reply through HTTP/2 flow control", async () => {
  await using dir = await tempDir();
  const vpcV4Cidrs = Array.from({ length: 25_000 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
  const backend = new FakeBackend();
  backend.addNetwork = () => Promise.resolve(addNetworkReplyCodec.create({ success: true, vpcV4Cidrs }));
  const health = new HealthStatus({ "": ServingStatus.SERVING });
  const server = await startRpcServer({ socketPath: `${dir.path}/big.sock`, backend, health });
  try {
    await using client = clientFor(server.socketPath);
    const reply = await client.addNetwork(ADD, { deadlineMs: 5000 });
    assert.deepEqual(reply.vpcV4Cidrs, vpcV4Cidrs);
  } finally {
    await server.close(1000);
  }
});

Deno.test("IpamdClient.close() waits for in-flight calls; later calls fail with CANCELLED", async () => {
  await using t = await startTestServer();
  const client = new IpamdClient(t.socketPath);
  t.backend.delayMs = 300;
  const inFlight = client.addNetwork(ADD, SHORT);
  await t.backend.waitForCalls(1);
  let settled = false;
  inFlight.finally(() => settled = true).catch(() => {});
  await client.close();
  assert.ok(settled, "close() resolved before the call finished");
  assert.equal((await inFlight).success, true);
  assert.equal((await callError(client.healthCheck(SHORT))).code, Status.CANCELLED);
});

Deno.test("IpamdClient finishes a call across RpcServer.close(), then reconnects to a new server", async () => {
  await using t = await startTestServer();
  await using client = clientFor(t.socketPath);
  t.backend.delayMs = 300;
  const inFlight = client.addNetwork(ADD, SHORT);
  await t.backend.waitForCalls(1);
  await t.server.close(5000);
  assert.equal((await inFlight).success, true);
  assert.equal((await callError(client.healthCheck(SHORT))).code, Status.UNAVAILABLE);
  const health = new HealthStatus({ "": ServingStatus.NOT_SERVING });
  const restarted = await startRpcServer({ socketPath: t.socketPath, backend: new FakeBackend(), health });
  try {
    assert.equal(await client.healthCheck(SHORT), ServingStatus.NOT_SERVING);
  } finally {
    await restarted.close(1000);
  }
});

/** Runs one AddNetwork against a fake server that answers with `script`; returns the outcome. */
async function answeredBy(
  script: (peer: FakePeer, request: ReceivedRequest) => Promise<void>,
): Promise<unknown> {
  await using server = await startFakeServer();
  await using client = clientFor(server.socketPath);
  const call = client.addNetwork(ADD, SHORT).then((r) => r, (e: unknown) => e);
  const peer = await server.accept();
  await script(peer, await peer.request());
  return await call;
}

function headersFrame(id: number, headers: [string, string][], end: boolean): number[] {
  return [
    ...encodeFrame(
      FrameType.HEADERS,
      Flag.END_HEADERS | (end ? Flag.END_STREAM : 0),
      id,
      encodeHeaderBlock(headers),
    ),
  ];
}

Deno.test("IpamdClient sends a gRPC request and reads a reply split across DATA frames", async () => {
  let seen: ReceivedRequest | undefined;
  const message = grpcFrame(addNetworkReplyCodec.encode(REPLY));
  const reply = await answeredBy(async (peer, request) => {
    seen = request;
    const id = request.streamId;
    await peer.write(Uint8Array.from([
      ...headersFrame(id, [[":status", "200"], ["content-type", "application/grpc+proto"]], false),
      ...encodeFrame(FrameType.DATA, 0, id, message.subarray(0, 3)),
      ...encodeFrame(FrameType.DATA, 0, id, message.subarray(3)),
      ...headersFrame(id, [["grpc-status", "0"]], true),
    ]));
  });
  assert.deepEqual(reply, REPLY);
  const headers = new Map(seen?.headers);
  assert.deepEqual(seen?.headers.slice(0, 4), [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", RpcPath.ADD_NETWORK],
    [":authority", "localhost"],
  ]);
  assert.equal(headers.get("content-type"), "application/grpc");
  assert.equal(headers.get("te"), "trailers");
  assert.match(headers.get("grpc-timeout") ?? "", /^(19\d\d|2000)m$/);
  assert.deepEqual(seen?.body, grpcFrame(addNetworkRequestCodec.encode(ADD)));
});

Deno.test("IpamdClient maps answers without a good reply to gRPC statuses", async (t) => {
  const ok =
    (body: Uint8Array, trailers: [string, string][] = [["grpc-status", "0"]]) =>
    (peer: FakePeer, { streamId }: ReceivedRequest) => peer.respond(streamId, body, trailers);
  const only = (headers: [string, string][]) => (peer: FakePeer, { streamId }: ReceivedRequest) =>
    peer.write(Uint8Array.from(headersFrame(streamId, headers, true)));
  const raw = (bytes: (id: number) => Uint8Array) => (peer: FakePeer, { streamId }: ReceivedRequest) =>
    peer.write(bytes(streamId));
  const cases: [string, (peer: FakePeer, request: ReceivedRequest) => Promise<void>, Status, RegExp][] = [
    [
      "trailers-only error, percent-encoded message",
      only([[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", "9"], [
        "grpc-message",
        "bad%20v%C3%A9",
      ]]),
      Status.FAILED_PRECONDITION,
      /^bad v\u00e9$/,
    ],
    ["unknown status code", ok(new Uint8Array(), [["grpc-status", "99"]]), Status.UNKNOWN, /^$/],
    ["HTTP 404", only([[":status", "404"]]), Status.UNIMPLEMENTED, /404/],
    ["HTTP 503", only([[":status", "503"]]), Status.UNAVAILABLE, /503/],
    [
      "not gRPC",
      only([[":status", "200"], ["content-type", "text/html"]]),
      Status.UNKNOWN,
      /content-type "text\/html"/,
    ],
    ["OK without a message", ok(new Uint8Array()), Status.INTERNAL, /0 bytes is not a message/],
    [
      "two messages",
      ok(Uint8Array.from([...grpcFrame(new Uint8Array()), ...grpcFrame(new Uint8Array())])),
      Status.INTERNAL,
      /expected one message/,
    ],
    ["compressed message", ok(grpcFrame(new Uint8Array(), 1)), Status.INTERNAL, /compressed/],
    [
      "undecodable message",
      ok(grpcFrame(Uint8Array.of(0x0a, 0x09))),
      Status.INTERNAL,
      /Cannot decode "rpc\.AddNetworkReply"/,
    ],
    ["no grpc-status", ok(grpcFrame(new Uint8Array()), []), Status.UNKNOWN, /without a gRPC status/],
    ["reply over 1 MiB", ok(new Uint8Array(1024 * 1024 + 6)), Status.RESOURCE_EXHAUSTED, /larger than/],
    [
      "stream refused",
      raw((id) => encodeUint32Frame(FrameType.RST_STREAM, id, 0x7)),
      Status.UNAVAILABLE,
      /reset/,
    ],
    ["stream reset", raw((id) => encodeUint32Frame(FrameType.RST_STREAM, id, 0x1)), Status.INTERNAL, /reset/],
    ["connection dropped", (peer) => Promise.resolve(peer.close()), Status.UNAVAILABLE, /Cannot reach ipamd/],
    [
      "GOAWAY before the stream",
      raw(() => encodeFrame(FrameType.GOAWAY, 0, 0, new Uint8Array(8))),
      Status.UNAVAILABLE,
      /Cannot reach ipamd: .*GOAWAY/,
    ],
    [
      "malformed frame",
      raw(() => encodeFrame(FrameType.PING, 0, 0, new Uint8Array(3))),
      Status.INTERNAL,
      /HTTP\/2 error/,
    ],
  ];
  for (const [name, script, code, details] of cases) {
    await t.step(name, async () => {
      const error = await answeredBy(script);
      assert.ok(error instanceof RpcCallError, `expected an RpcCallError, got ${error}`);
      assert.equal(error.code, code, error.message);
      assert.match(error.details, details);
    });
  }
});

Deno.test("IpamdClient.close() during the first connect fails the call with CANCELLED", async () => {
  await using server = await startFakeServer();
  const client = new IpamdClient(server.socketPath);
  const call = callError(client.addNetwork(ADD, SHORT));
  await client.close();
  assert.equal((await call).code, Status.CANCELLED);
});

Deno.test("IpamdClient refuses a call without a positive deadline", async () => {
  await using client = clientFor("/nonexistent.sock");
  for (const deadlineMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    await assert.rejects(client.healthCheck({ deadlineMs }), RangeError);
  }
});
