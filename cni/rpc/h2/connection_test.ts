import assert from "node:assert/strict";
import { withTimeout } from "../../../testing/rpc_sockets.ts";
import { type FakePeer, startFakeServer } from "../../../testing/h2_fake_peer.ts";
import { H2Connection } from "./connection.ts";
import { H2Error } from "./error.ts";
import {
  encodeFrame,
  encodeUint32Frame,
  Flag,
  type Frame,
  FrameType,
  readSettings,
  Setting,
} from "./frame.ts";
import { encodeHeaderBlock, type HeaderList } from "./hpack.ts";

const REQUEST: HeaderList = [
  [":method", "POST"],
  [":scheme", "http"],
  [":path", "/rpc.CNIBackend/AddNetwork"],
  [":authority", "localhost"],
  ["content-type", "application/grpc"],
  ["te", "trailers"],
];
const BODY = Uint8Array.of(0, 0, 0, 0, 1, 8);
const is = (type: number, flags = 0) => (f: Frame): boolean => f.type === type && (f.flags & flags) === flags;

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from({ length: clean.length / 2 }, (_, i) => parseInt(clean.slice(2 * i, 2 * i + 2), 16));
}

/** A connection to a fake server, with the server's side of it; both closed afterwards. */
async function withConnection(
  use: (connection: H2Connection, peer: FakePeer) => Promise<void>,
): Promise<void> {
  await using server = await startFakeServer();
  const connection = await H2Connection.connect(server.socketPath);
  const peer = await server.accept();
  try {
    await use(connection, peer);
  } finally {
    await withTimeout(connection.close());
  }
  assert.equal(peer.received.filter(is(FrameType.GOAWAY)).length, 0, "the client never sends GOAWAY");
}

Deno.test("H2Connection opens with the preface and ENABLE_PUSH=0, ACKs SETTINGS and answers PING", async () => {
  await withConnection(async (_, peer) => {
    const settings = await peer.take((f) => f.type === FrameType.SETTINGS && f.flags === 0);
    assert.deepEqual(readSettings(settings!.payload), [[Setting.ENABLE_PUSH, 0]]);
    await peer.settings([[Setting.MAX_CONCURRENT_STREAMS, 100]]);
    assert.ok(await peer.take(is(FrameType.SETTINGS, Flag.ACK)));
    await peer.frame(FrameType.PING, 0, 0, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    const pong = await peer.take(is(FrameType.PING, Flag.ACK));
    assert.deepEqual(pong?.payload, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  });
});

Deno.test("H2Connection assembles a response sent byte by byte with CONTINUATION, padding, Huffman and indexing", async () => {
  await withConnection(async (connection, peer) => {
    const response = connection.request(REQUEST, BODY);
    const request = await peer.request();
    assert.deepEqual(request.headers, REQUEST);
    assert.deepEqual(request.body, BODY);
    const id = request.streamId;
    // :status 200 (indexed), content-type literal, then custom-key: custom-value Huffman-coded with indexing.
    const block = Uint8Array.from([
      ...encodeHeaderBlock([[":status", "200"], ["content-type", "application/grpc"]]),
      ...hex("4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
    ]);
    const padded = Uint8Array.from([2, 0, 0, 0, 0, 16, ...block.subarray(0, 3), 0, 0]); // pad 2, priority
    await peer.write(
      Uint8Array.from([
        ...encodeFrame(FrameType.HEADERS, Flag.PADDED | Flag.PRIORITY, id, padded),
        ...encodeFrame(FrameType.CONTINUATION, 0, id, block.subarray(3, 10)),
        ...encodeFrame(FrameType.CONTINUATION, Flag.END_HEADERS, id, block.subarray(10)),
        ...encodeFrame(0xfa, 0xff, id, Uint8Array.of(1, 2, 3)), // unknown type: ignored
        ...encodeFrame(FrameType.PRIORITY, 0, id, new Uint8Array(5)),
        ...encodeFrame(FrameType.DATA, Flag.PADDED, id, Uint8Array.of(3, 104, 101, 108, 0, 0, 0)),
        ...encodeFrame(FrameType.DATA, 0, id, Uint8Array.of(108, 111)),
        ...encodeFrame(
          FrameType.HEADERS,
          Flag.END_HEADERS | Flag.END_STREAM,
          id,
          hex("be 00 0b 67 72 70 63 2d 73 74 61 74 75 73 01 30"),
        ),
      ]),
      1,
    );
    assert.deepEqual(await response, {
      status: 200,
      headers: [[":status", "200"], ["content-type", "application/grpc"], ["custom-key", "custom-value"]],
      trailers: [["custom-key", "custom-value"], ["grpc-status", "0"]],
      body: new TextEncoder().encode("hello"),
    });
  });
});

Deno.test("H2Connection returns window credit so a 200 KB response does not stall", async () => {
  await withConnection(async (connection, peer) => {
    const response = connection.request(REQUEST, BODY);
    const { streamId } = await peer.request();
    await peer.headers(streamId, [[":status", "200"]]);
    const chunk = new Uint8Array(16_383).fill(7);
    for (let i = 0; i < 4; i++) await peer.frame(FrameType.DATA, 0, streamId, chunk); // 65,532 of 65,535
    const forConnection = await peer.take((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0);
    const forStream = await peer.take((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === streamId);
    assert.ok(
      forConnection !== undefined && forStream !== undefined,
      "no WINDOW_UPDATE before the window ran out",
    );
    for (let i = 0; i < 9; i++) await peer.frame(FrameType.DATA, 0, streamId, chunk);
    await peer.frame(FrameType.DATA, Flag.END_STREAM, streamId, Uint8Array.of(1));
    assert.equal((await response).body.length, 13 * 16_383 + 1);
  });
});

Deno.test("H2Connection sends DATA only within the peer's windows and frame size, and CONTINUATION for big headers", async () => {
  await withConnection(async (connection, peer) => {
    await peer.settings([[Setting.INITIAL_WINDOW_SIZE, 10]]);
    const body = Uint8Array.from({ length: 40_000 }, (_, i) => i & 0xff);
    const headers: HeaderList = [...REQUEST, ["x-big", "a".repeat(20_000)]];
    const response = connection.request(headers, body);
    const first = await peer.take(is(FrameType.DATA));
    assert.equal(first?.payload.length, 10);
    await peer.write(encodeUint32Frame(FrameType.WINDOW_UPDATE, 1, 100_000));
    const request = await peer.request();
    assert.deepEqual(request.headers, headers);
    assert.deepEqual(Uint8Array.from([...first!.payload, ...request.body]), body);
    const frames = peer.received.filter((f) => f.streamId === 1);
    assert.deepEqual(frames.slice(0, 3).map((f) => [f.type, f.flags]), [
      [FrameType.HEADERS, 0],
      [FrameType.CONTINUATION, Flag.END_HEADERS],
      [FrameType.DATA, 0],
    ]);
    assert.ok(frames.every((f) => f.payload.length <= 16_384));
    const dataSizes = frames.filter((f) => f.type === FrameType.DATA).map((f) => f.payload.length);
    assert.deepEqual(dataSizes, [10, 16_384, 16_384, 7_222], "the rest waited for WINDOW_UPDATE");
    await peer.respond(1, BODY);
    assert.equal((await response).status, 200);
  });
});

Deno.test("H2Connection queues requests beyond SETTINGS_MAX_CONCURRENT_STREAMS", async () => {
  await withConnection(async (connection, peer) => {
    await peer.settings([[Setting.MAX_CONCURRENT_STREAMS, 1]]);
    const responses = [connection.request(REQUEST, BODY), connection.request(REQUEST, BODY)];
    const first = await peer.request();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(peer.received.filter(is(FrameType.HEADERS)).length, 1, "the second stream waited");
    await peer.respond(first.streamId, BODY);
    const second = await peer.request();
    assert.equal(second.streamId, 3);
    await peer.respond(second.streamId, BODY);
    assert.deepEqual((await Promise.all(responses)).map((r) => r.status), [200, 200]);
  });
});

Deno.test("H2Connection fails a stream the peer resets, and only that stream", async () => {
  await withConnection(async (connection, peer) => {
    const reset = connection.request(REQUEST, BODY);
    const ok = connection.request(REQUEST, BODY);
    const [a, b] = [await peer.request(), await peer.request()];
    await peer.write(encodeUint32Frame(FrameType.RST_STREAM, a.streamId, 0x7));
    await assert.rejects(reset, (e: unknown) => e instanceof H2Error && e.kind === "reset" && e.code === 0x7);
    await peer.respond(b.streamId, BODY);
    assert.equal((await ok).status, 200);
  });
});

Deno.test("H2Connection on GOAWAY fails the streams above the last id, finishes the rest, then closes", async () => {
  await withConnection(async (connection, peer) => {
    const responses = [1, 2, 3].map(() => connection.request(REQUEST, BODY));
    for (let i = 0; i < 3; i++) await peer.request();
    const goaway = Uint8Array.of(0, 0, 0, 3, 0, 0, 0, 0);
    await peer.frame(FrameType.GOAWAY, 0, 0, goaway);
    await assert.rejects(responses[2]!, (e: unknown) => e instanceof H2Error && e.kind === "unavailable");
    assert.equal(connection.isAvailable, false);
    await assert.rejects(connection.request(REQUEST, BODY), /going away/);
    await peer.respond(1, BODY);
    await peer.respond(3, BODY);
    assert.deepEqual((await Promise.all(responses.slice(0, 2))).map((r) => r.status), [200, 200]);
    await withTimeout(connection.closed);
    await withTimeout(peer.done);
    assert.ok(peer.closedByClient);
  });
});

Deno.test("H2Connection resets an aborted stream with CANCEL and keeps HPACK in step with its late headers", async () => {
  await withConnection(async (connection, peer) => {
    const abort = new AbortController();
    const aborted = connection.request(REQUEST, BODY, { signal: abort.signal });
    const first = await peer.request();
    abort.abort(new Error("gave up"));
    await assert.rejects(aborted, /gave up/);
    const rst = await peer.take(is(FrameType.RST_STREAM));
    assert.deepEqual([rst?.streamId, rst?.payload], [first.streamId, Uint8Array.of(0, 0, 0, 8)]);
    // The late answer adds "x-a: 1" to the dynamic table; the next answer refers to it by index.
    await peer.frame(FrameType.HEADERS, Flag.END_HEADERS, first.streamId, hex("88 40 03 78 2d 61 01 31"));
    await peer.frame(FrameType.DATA, Flag.END_STREAM, first.streamId, BODY);
    const next = connection.request(REQUEST, BODY);
    const second = await peer.request();
    await peer.frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, second.streamId, hex("88 be"));
    assert.deepEqual((await next).headers, [[":status", "200"], ["x-a", "1"]]);
  });
});

Deno.test("H2Connection refuses a response body over maxBodyBytes with RST_STREAM CANCEL", async () => {
  await withConnection(async (connection, peer) => {
    const response = connection.request(REQUEST, BODY, { maxBodyBytes: 4 });
    const { streamId } = await peer.request();
    await peer.respond(streamId, BODY);
    await assert.rejects(response, (e: unknown) => e instanceof H2Error && e.kind === "too_large");
    const rst = await peer.take(is(FrameType.RST_STREAM));
    assert.deepEqual(rst?.payload, Uint8Array.of(0, 0, 0, 8));
  });
});

Deno.test("H2Connection.close() waits for streams in flight, then closes the socket", async () => {
  await withConnection(async (connection, peer) => {
    const response = connection.request(REQUEST, BODY);
    const { streamId } = await peer.request();
    let closed = false;
    const closing = connection.close().then(() => closed = true);
    await assert.rejects(connection.request(REQUEST, BODY), /closing/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(closed, false);
    await peer.respond(streamId, BODY);
    assert.equal((await response).status, 200);
    await withTimeout(closing);
    await withTimeout(peer.done);
    assert.ok(peer.closedByClient && peer.sawPreface);
  });
});
