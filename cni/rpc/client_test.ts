import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import http2 from "node:http2";
import { makeStaleSocket, tempDir, waitFor, withTimeout } from "../../testing/rpc_sockets.ts";
import { IpamdClient } from "./client.ts";
import {
  addNetworkReplyCodec,
  addNetworkRequestCodec,
  delNetworkRequestCodec,
} from "../../shared/rpc/codec.ts";
import { RpcPath } from "../../shared/rpc/messages.ts";
import { RpcCallError, Status } from "../../shared/rpc/status.ts";

const ADD = addNetworkRequestCodec.create({ containerId: "c1", ifName: "eth0" });
const REPLY = addNetworkReplyCodec.create({ success: true, networkPolicyMode: "none" });

type Handler = (
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  body: Uint8Array,
) => void;

/** A bare HTTP/2 server on a Unix socket, so tests control every byte the client sees. */
async function rawServer(
  handler: Handler,
): Promise<{ socketPath: string; sessionCount(): number } & AsyncDisposable> {
  const dir = await tempDir();
  const socketPath = `${dir.path}/raw.sock`;
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer();
  let sessionCount = 0;
  server.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    sessionCount++;
  });
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on("error", () => {});
    const chunks: Uint8Array[] = [];
    stream.on("data", (c: Uint8Array) => chunks.push(c));
    stream.on("end", () => handler(stream, headers, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    sessionCount: () => sessionCount,
    async [Symbol.asyncDispose]() {
      for (const session of sessions) session.destroy();
      await new Promise((resolve) => server.close(resolve));
      await dir[Symbol.asyncDispose]();
    },
  };
}

function grpcFrame(message: Uint8Array, flag = 0): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(flag, 0);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

function replyWith(body: Uint8Array, trailers: Record<string, string> = { "grpc-status": "0" }): Handler {
  return (stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers(trailers));
    stream.end(body);
  };
}

async function callError(promise: Promise<unknown>): Promise<RpcCallError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof RpcCallError, `expected an RpcCallError, got ${error}`);
  return error;
}

async function withClient<T>(socketPath: string, use: (client: IpamdClient) => Promise<T>): Promise<T> {
  const client = new IpamdClient(socketPath);
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

Deno.test("IpamdClient sends a gRPC request: path, headers, timeout and one framed message", async () => {
  let seen: { headers: http2.IncomingHttpHeaders; body: Uint8Array } | undefined;
  await using server = await rawServer((stream, headers, body) => {
    seen = { headers, body };
    replyWith(grpcFrame(addNetworkReplyCodec.encode(REPLY)))(stream, headers, body);
  });
  const reply = await withClient(server.socketPath, (c) => c.addNetwork(ADD, { deadlineMs: 3000 }));
  assert.deepEqual(reply, REPLY);
  assert.ok(seen !== undefined);
  assert.equal(seen.headers[":method"], "POST");
  assert.equal(seen.headers[":path"], RpcPath.ADD_NETWORK);
  assert.equal(seen.headers["content-type"], "application/grpc");
  assert.equal(seen.headers["te"], "trailers");
  assert.match(String(seen.headers["grpc-timeout"]), /^(29\d\d|3000)m$/);
  assert.deepEqual(new Uint8Array(seen.body), new Uint8Array(grpcFrame(addNetworkRequestCodec.encode(ADD))));
});

Deno.test("IpamdClient fails with UNAVAILABLE quickly when the socket is missing or stale", async () => {
  await using dir = await tempDir();
  const stale = `${dir.path}/stale.sock`;
  await makeStaleSocket(stale);
  for (const socketPath of [`${dir.path}/missing.sock`, stale]) {
    const started = performance.now();
    const error = await withClient(
      socketPath,
      (c) => callError(c.delNetwork(delNetworkRequestCodec.create(), { deadlineMs: 5000 })),
    );
    assert.equal(error.code, Status.UNAVAILABLE, socketPath);
    assert.match(error.details, /^Cannot reach ipamd: /);
    assert.ok(performance.now() - started < 1000, "took too long");
  }
});

Deno.test("IpamdClient fails with DEADLINE_EXCEEDED when the server never answers", async () => {
  const held: http2.ServerHttp2Stream[] = [];
  await using server = await rawServer((stream) => void held.push(stream));
  const started = performance.now();
  const call = withClient(server.socketPath, (c) => callError(c.healthCheck({ deadlineMs: 100 })));
  const error = await withTimeout(call);
  assert.equal(error.code, Status.DEADLINE_EXCEEDED);
  assert.ok(performance.now() - started < 1000);
});

Deno.test("IpamdClient maps server answers without a good reply to statuses", async (t) => {
  const cases: [string, Handler, Status, RegExp][] = [
    [
      "trailers-only error, percent-encoded message",
      (stream) => {
        stream.respond(
          {
            ":status": 200,
            "content-type": "application/grpc",
            "grpc-status": "9",
            "grpc-message": "bad%20v%C3%A9",
          },
          { endStream: true },
        );
      },
      Status.FAILED_PRECONDITION,
      /^bad v\u00e9$/,
    ],
    ["unknown status code", replyWith(Buffer.alloc(0), { "grpc-status": "99" }), Status.UNKNOWN, /^$/],
    [
      "HTTP 404",
      (stream) => stream.respond({ ":status": 404 }, { endStream: true }),
      Status.UNIMPLEMENTED,
      /404/,
    ],
    [
      "not gRPC",
      (stream) => {
        stream.respond({ ":status": 200, "content-type": "text/html" });
        stream.end("<html>");
      },
      Status.UNKNOWN,
      /content-type/,
    ],
    ["OK without a message", replyWith(Buffer.alloc(0)), Status.INTERNAL, /0 bytes is not a message/],
    [
      "two messages",
      replyWith(Buffer.concat([grpcFrame(new Uint8Array()), grpcFrame(new Uint8Array())])),
      Status.INTERNAL,
      /expected one message/,
    ],
    ["compressed message", replyWith(grpcFrame(new Uint8Array(), 1)), Status.INTERNAL, /compressed/],
    [
      "undecodable message",
      replyWith(grpcFrame(new Uint8Array([0x0a, 0x09]))),
      Status.INTERNAL,
      /Cannot decode "rpc\.AddNetworkReply"/,
    ],
    ["no grpc-status", replyWith(grpcFrame(new Uint8Array()), {}), Status.UNKNOWN, /without a gRPC status/],
    [
      "stream refused",
      (stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM),
      Status.UNAVAILABLE,
      /reset/,
    ],
    [
      "stream reset",
      (stream) => stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR),
      Status.INTERNAL,
      /reset/,
    ],
    ["connection dropped", (stream) => stream.session?.destroy(), Status.UNAVAILABLE, /Cannot reach ipamd/],
  ];
  for (const [name, handler, code, details] of cases) {
    await t.step(name, async () => {
      await using server = await rawServer(handler);
      const error = await withClient(
        server.socketPath,
        (c) => callError(c.addNetwork(ADD, { deadlineMs: 2000 })),
      );
      assert.equal(error.code, code, `${error.message}`);
      assert.match(error.details, details);
    });
  }
});

Deno.test("IpamdClient queues 50 concurrent first calls on one connection", async () => {
  let inFlight = 0;
  let most = 0;
  await using server = await rawServer((stream, headers, body) => {
    most = Math.max(most, ++inFlight);
    setTimeout(() => {
      inFlight--;
      replyWith(grpcFrame(addNetworkReplyCodec.encode(REPLY)))(stream, headers, body);
    }, 1);
  });
  const replies = await withClient(server.socketPath, (c) => {
    return Promise.all(Array.from({ length: 50 }, () => c.addNetwork(ADD, { deadlineMs: 5000 })));
  });
  assert.deepEqual(replies, Array(50).fill(REPLY));
  assert.equal(server.sessionCount(), 1);
  assert.equal(most, 1, "one call at a time");
});

Deno.test("IpamdClient.connect() opens the one connection ahead of the first call; a failure is left to that call", async () => {
  await using server = await rawServer(replyWith(grpcFrame(addNetworkReplyCodec.encode(REPLY))));
  await withClient(server.socketPath, async (c) => {
    await c.connect();
    await waitFor(() => server.sessionCount() === 1);
    assert.deepEqual(await c.addNetwork(ADD, { deadlineMs: 2000 }), REPLY);
    assert.equal(server.sessionCount(), 1, "the call used the connection connect() opened");
  });
  await withClient("/nonexistent.sock", async (c) => {
    await c.connect();
    assert.equal((await callError(c.addNetwork(ADD, { deadlineMs: 1000 }))).code, Status.UNAVAILABLE);
  });
});

Deno.test("IpamdClient.close() during the first connect fails the call with CANCELLED", async () => {
  await using server = await rawServer(replyWith(grpcFrame(addNetworkReplyCodec.encode(REPLY))));
  const client = new IpamdClient(server.socketPath);
  const call = callError(client.addNetwork(ADD, { deadlineMs: 2000 }));
  await client.close();
  assert.equal((await call).code, Status.CANCELLED);
});

Deno.test("IpamdClient refuses a call without a positive deadline", async () => {
  await withClient("/nonexistent.sock", async (c) => {
    for (const deadlineMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(c.healthCheck({ deadlineMs }), RangeError);
    }
  });
});

Deno.test("IpamdClient fails calls made after close() with CANCELLED", async () => {
  const client = new IpamdClient("/nonexistent.sock");
  await client.close();
  const error = await callError(client.addNetwork(ADD, { deadlineMs: 1000 }));
  assert.equal(error.code, Status.CANCELLED);
});
