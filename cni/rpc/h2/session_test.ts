import assert from "node:assert/strict";
import { tempDir, withTimeout } from "../../../testing/rpc_sockets.ts";
import {
  encodeSettings,
  type FakePeer,
  readSettings,
  startFakeServer,
} from "../../../testing/h2_fake_peer.ts";
import { H2Error } from "./error.ts";
import { encodeFrame, encodeUint32Frame, Flag, type Frame, FrameType, Setting } from "./frame.ts";
import { encodeHeaderBlock, type HeaderList } from "./hpack.ts";
import { H2Session } from "./session.ts";

const REQUEST: HeaderList = [
  [":method", "POST"],
  [":scheme", "http"],
  [":path", "/rpc.CNIBackend/AddNetwork"],
  [":authority", "localhost"],
  ["content-type", "application/grpc"],
  ["te", "trailers"],
];
const BODY = Uint8Array.of(0, 0, 0, 0, 1, 8);
const STATUS_200 = encodeHeaderBlock([[":status", "200"]]);
const is = (type: number, flags = 0) => (f: Frame): boolean => f.type === type && (f.flags & flags) === flags;

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from({ length: clean.length / 2 }, (_, i) => parseInt(clean.slice(2 * i, 2 * i + 2), 16));
}

function isH2Error(kind: string, code?: number) {
  return (e: unknown): boolean =>
    e instanceof H2Error && e.kind === kind && (code === undefined || e.code === code);
}

/** A session with a fake server, and the server's side of it; both closed afterwards. */
async function withSession(use: (session: H2Session, peer: FakePeer) => Promise<void>): Promise<void> {
  await using server = await startFakeServer();
  const session = await H2Session.connect(server.socketPath);
  const peer = await server.accept();
  try {
    await use(session, peer);
  } finally {
    await withTimeout(session.close());
  }
  assert.equal(peer.received.filter(is(FrameType.GOAWAY)).length, 0, "the client never sends GOAWAY");
}

Deno.test("H2Session opens with the preface and ENABLE_PUSH=0, ACKs SETTINGS and answers PING", async () => {
  await withSession(async (_, peer) => {
    const settings = await peer.take((f) => f.type === FrameType.SETTINGS && f.flags === 0);
    assert.deepEqual(readSettings(settings!.payload), [[Setting.ENABLE_PUSH, 0]]);
    await peer.settings([[0x3, 100]]);
    assert.ok(await peer.take(is(FrameType.SETTINGS, Flag.ACK)));
    await peer.frame(FrameType.PING, 0, 0, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    const pong = await peer.take(is(FrameType.PING, Flag.ACK));
    assert.deepEqual(pong?.payload, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  });
});

Deno.test("H2Session assembles a response sent byte by byte with CONTINUATION, padding, Huffman and indexing", async () => {
  await withSession(async (session, peer) => {
    const response = session.request(REQUEST, BODY);
    const request = await peer.request();
    assert.deepEqual(request.headers, REQUEST);
    assert.deepEqual(request.body, BODY);
    const id = request.streamId;
    // :status 200 (indexed), content-type literal, then custom-key: custom-value Huffman-coded with indexing.
    const block = Uint8Array.from([
      0x88,
      ...hex("5f10"),
      ...new TextEncoder().encode("application/grpc"),
      ...hex(
        "4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
      ),
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

Deno.test("H2Session gives back window credit so a 200 KB response does not stall", async () => {
  await withSession(async (session, peer) => {
    const response = session.request(REQUEST, BODY);
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

Deno.test("H2Session sends the body only within the peer's windows, then runs the next request on stream 3", async () => {
  await withSession(async (session, peer) => {
    await peer.settings([[Setting.INITIAL_WINDOW_SIZE, 4]]);
    const response = session.request(REQUEST, BODY);
    assert.ok(await peer.take(is(FrameType.HEADERS, Flag.END_HEADERS)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(peer.received.filter(is(FrameType.DATA)).length, 0, "the body waited for window");
    await peer.write(encodeUint32Frame(FrameType.WINDOW_UPDATE, 1, 2));
    const data = await peer.take(is(FrameType.DATA, Flag.END_STREAM));
    assert.deepEqual(data?.payload, BODY);
    await peer.respond(1, BODY);
    assert.equal((await response).status, 200);
    const next = session.request(REQUEST, new Uint8Array());
    const second = await peer.request();
    assert.equal(second.streamId, 3);
    await peer.respond(3, BODY);
    assert.equal((await next).status, 200);
    assert.throws(() => session.request(REQUEST, new Uint8Array(16_385)), RangeError);
  });
});

Deno.test("H2Session refuses a second request while one is in flight", async () => {
  await withSession(async (session, peer) => {
    const first = session.request(REQUEST, BODY);
    assert.throws(() => session.request(REQUEST, BODY), /one request at a time/);
    const { streamId } = await peer.request();
    await peer.respond(streamId, BODY);
    assert.equal((await first).status, 200);
  });
});

Deno.test("H2Session fails a stream the peer resets and keeps the connection", async () => {
  await withSession(async (session, peer) => {
    const reset = session.request(REQUEST, BODY);
    const { streamId } = await peer.request();
    await peer.write(encodeUint32Frame(FrameType.RST_STREAM, streamId, 0x7));
    await assert.rejects(reset, isH2Error("reset", 0x7));
    assert.equal(session.isAvailable, true);
    const ok = session.request(REQUEST, BODY);
    await peer.respond((await peer.request()).streamId, BODY);
    assert.equal((await ok).status, 200);
  });
});

Deno.test("H2Session on GOAWAY finishes a stream at or below the last id, then closes", async () => {
  await withSession(async (session, peer) => {
    const response = session.request(REQUEST, BODY);
    const { streamId } = await peer.request();
    await peer.frame(FrameType.GOAWAY, 0, 0, Uint8Array.of(0, 0, 0, streamId, 0, 0, 0, 0));
    await peer.respond(streamId, BODY);
    assert.equal((await response).status, 200);
    assert.equal(session.isAvailable, false);
    await assert.rejects(session.request(REQUEST, BODY), isH2Error("unavailable"));
    await withTimeout(session.closed);
    await withTimeout(peer.done);
    assert.ok(peer.closedByClient);
  });
});

Deno.test("H2Session on GOAWAY fails a stream above the last id as unavailable", async () => {
  await withSession(async (session, peer) => {
    const response = session.request(REQUEST, BODY);
    await peer.request();
    await peer.frame(FrameType.GOAWAY, 0, 0, new Uint8Array(8));
    await assert.rejects(response, (e: unknown) => isH2Error("unavailable")(e) && /GOAWAY/.test(String(e)));
    await withTimeout(session.closed);
  });
});

Deno.test("H2Session resets an aborted stream with CANCEL and keeps HPACK in step with its late headers", async () => {
  await withSession(async (session, peer) => {
    const abort = new AbortController();
    const aborted = session.request(REQUEST, BODY, { signal: abort.signal });
    const first = await peer.request();
    abort.abort(new Error("gave up"));
    await assert.rejects(aborted, /gave up/);
    const rst = await peer.take(is(FrameType.RST_STREAM));
    assert.deepEqual([rst?.streamId, rst?.payload], [first.streamId, Uint8Array.of(0, 0, 0, 8)]);
    // The late answer adds "x-a: 1" to the dynamic table; the next answer refers to it by index.
    await peer.frame(FrameType.HEADERS, Flag.END_HEADERS, first.streamId, hex("88 40 03 78 2d 61 01 31"));
    await peer.frame(FrameType.DATA, Flag.END_STREAM, first.streamId, BODY);
    const next = session.request(REQUEST, BODY);
    const second = await peer.request();
    await peer.frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, second.streamId, hex("88 be"));
    assert.deepEqual((await next).headers, [[":status", "200"], ["x-a", "1"]]);
  });
});

Deno.test("H2Session refuses a response body over maxBodyBytes with RST_STREAM CANCEL", async () => {
  await withSession(async (session, peer) => {
    const response = session.request(REQUEST, BODY, { maxBodyBytes: 4 });
    const { streamId } = await peer.request();
    await peer.respond(streamId, BODY);
    await assert.rejects(response, isH2Error("too_large"));
    const rst = await peer.take(is(FrameType.RST_STREAM));
    assert.deepEqual(rst?.payload, Uint8Array.of(0, 0, 0, 8));
  });
});

Deno.test("H2Session.close() waits for the request in flight, then closes the socket", async () => {
  await withSession(async (session, peer) => {
    const response = session.request(REQUEST, BODY);
    const { streamId } = await peer.request();
    let closed = false;
    const closing = session.close().then(() => closed = true);
    await assert.rejects(session.request(REQUEST, BODY), /closing/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(closed, false);
    await peer.respond(streamId, BODY);
    assert.equal((await response).status, 200);
    await withTimeout(closing);
    await withTimeout(peer.done);
    assert.ok(peer.closedByClient && peer.sawPreface);
  });
});

Deno.test("H2Session fails the stream and closes the socket, without GOAWAY, on a connection error", async (t) => {
  const cases: [string, Uint8Array, number][] = [
    [
      "CONTINUATION without HEADERS",
      encodeFrame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, STATUS_200),
      0x1,
    ],
    [
      "DATA inside a header block",
      Uint8Array.from([
        ...encodeFrame(FrameType.HEADERS, 0, 1, STATUS_200),
        ...encodeFrame(FrameType.DATA, 0, 1),
      ]),
      0x1,
    ],
    ["padding longer than the frame", encodeFrame(FrameType.DATA, Flag.PADDED, 1, Uint8Array.of(5, 1)), 0x1],
    ["PUSH_PROMISE", encodeFrame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, new Uint8Array(4)), 0x1],
    ["SETTINGS on a stream", encodeFrame(FrameType.SETTINGS, 0, 1), 0x1],
    ["SETTINGS with a partial entry", encodeFrame(FrameType.SETTINGS, 0, 0, new Uint8Array(5)), 0x6],
    ["SETTINGS_MAX_FRAME_SIZE below 16 KiB", encodeSettings([[Setting.MAX_FRAME_SIZE, 100]]), 0x1],
    [
      "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
      encodeSettings([[Setting.INITIAL_WINDOW_SIZE, 2 ** 31]]),
      0x3,
    ],
    ["SETTINGS_ENABLE_PUSH of 2", encodeSettings([[Setting.ENABLE_PUSH, 2]]), 0x1],
    ["PING of 4 bytes", encodeFrame(FrameType.PING, 0, 0, new Uint8Array(4)), 0x6],
    ["GOAWAY of 4 bytes", encodeFrame(FrameType.GOAWAY, 0, 0, new Uint8Array(4)), 0x6],
    ["RST_STREAM of 2 bytes", encodeFrame(FrameType.RST_STREAM, 0, 1, new Uint8Array(2)), 0x6],
    [
      "undecodable header block",
      encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, 1, Uint8Array.of(0x80)),
      0x9,
    ],
    ["a frame over 16 KiB", encodeFrame(FrameType.DATA, 0, 1, new Uint8Array(16_385)), 0x6],
    ["DATA on an idle stream", encodeFrame(FrameType.DATA, 0, 7, BODY), 0x1],
    ["HEADERS on a server stream", encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, 2, STATUS_200), 0x1],
    ["connection WINDOW_UPDATE of 0", encodeUint32Frame(FrameType.WINDOW_UPDATE, 0, 0), 0x3],
  ];
  for (const [name, bytes, code] of cases) {
    await t.step(name, async () => {
      await using server = await startFakeServer();
      const session = await H2Session.connect(server.socketPath);
      const peer = await server.accept();
      const response = session.request(REQUEST, BODY);
      await peer.request();
      await peer.write(bytes);
      await assert.rejects(response, isH2Error("protocol", code));
      assert.equal(session.isAvailable, false);
      await withTimeout(session.closed);
      await withTimeout(peer.done);
      assert.equal(peer.received.filter(is(FrameType.GOAWAY)).length, 0);
    });
  }
});

Deno.test("H2Session resets a malformed response with PROTOCOL_ERROR and keeps the connection", async (t) => {
  const cases: [string, (id: number) => Uint8Array, RegExp][] = [
    [
      "DATA before the headers",
      (id) => encodeFrame(FrameType.DATA, Flag.END_STREAM, id, BODY),
      /DATA before/,
    ],
    [
      "trailers without END_STREAM",
      (id) =>
        Uint8Array.from([
          ...encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, id, STATUS_200),
          ...encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, id, encodeHeaderBlock([["grpc-status", "0"]])),
        ]),
      /trailers without END_STREAM/,
    ],
    [
      "no :status",
      (id) => encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, id, encodeHeaderBlock([["a", "b"]])),
      /":status" is ""/,
    ],
    [
      "1xx with END_STREAM",
      (id) =>
        encodeFrame(
          FrameType.HEADERS,
          Flag.END_HEADERS | Flag.END_STREAM,
          id,
          encodeHeaderBlock([[":status", "103"]]),
        ),
      /1xx/,
    ],
  ];
  await using server = await startFakeServer();
  const session = await H2Session.connect(server.socketPath);
  const peer = await server.accept();
  for (const [name, bytes, message] of cases) {
    await t.step(name, async () => {
      const response = session.request(REQUEST, BODY);
      const { streamId } = await peer.request();
      await peer.write(bytes(streamId));
      await assert.rejects(
        response,
        (e: unknown) => isH2Error("protocol", 0x1)(e) && message.test(String(e)),
      );
      const rst = await peer.take((f) => f.type === FrameType.RST_STREAM && f.streamId === streamId);
      assert.deepEqual(rst?.payload, Uint8Array.of(0, 0, 0, 1));
      assert.equal(session.isAvailable, true);
    });
  }
  const response = session.request(REQUEST, BODY);
  const { streamId } = await peer.request();
  await peer.write(
    Uint8Array.from([
      ...encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, streamId, encodeHeaderBlock([[":status", "100"]])),
      ...encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, streamId, STATUS_200),
    ]),
  );
  assert.equal((await response).status, 200, "a 1xx block, then a trailers-only response, still works");
  await session.close();
});

Deno.test("H2Session refuses a server whose first frame is not SETTINGS", async () => {
  await using server = await startFakeServer();
  const session = await H2Session.connect(server.socketPath);
  const peer = await server.accept({ preface: false });
  const response = session.request(REQUEST, BODY);
  await peer.frame(FrameType.PING, 0, 0, new Uint8Array(8));
  await assert.rejects(
    response,
    (e: unknown) => isH2Error("protocol", 0x1)(e) && /not SETTINGS/.test(String(e)),
  );
  await withTimeout(session.closed);
});

Deno.test("H2Session fails the stream as unavailable when the peer drops the connection", async () => {
  await using server = await startFakeServer();
  const session = await H2Session.connect(server.socketPath);
  const peer = await server.accept();
  const response = session.request(REQUEST, BODY);
  await peer.request();
  peer.close();
  await assert.rejects(response, isH2Error("unavailable"));
  assert.equal(session.isAvailable, false);
  await assert.rejects(session.request(REQUEST, BODY), isH2Error("unavailable"));
  await withTimeout(session.close());
});

Deno.test("H2Session.connect() rejects as unavailable for a missing socket", async () => {
  await using dir = await tempDir();
  await assert.rejects(H2Session.connect(`${dir.path}/missing.sock`), isH2Error("unavailable"));
});
