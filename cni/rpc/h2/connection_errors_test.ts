import assert from "node:assert/strict";
import { tempDir, withTimeout } from "../../../testing/rpc_sockets.ts";
import { startFakeServer } from "../../../testing/h2_fake_peer.ts";
import { H2Connection } from "./connection.ts";
import { H2Error } from "./error.ts";
import {
  encodeFrame,
  encodeSettings,
  encodeUint32Frame,
  Flag,
  type Frame,
  FrameType,
  Setting,
} from "./frame.ts";
import { encodeHeaderBlock, type HeaderList } from "./hpack.ts";

const REQUEST: HeaderList = [[":method", "POST"], [":scheme", "http"], [":path", "/x"], [
  ":authority",
  "localhost",
]];
const BODY = Uint8Array.of(0, 0, 0, 0, 0);
const STATUS_200 = encodeHeaderBlock([[":status", "200"]]);

function isH2Error(kind: string, code?: number) {
  return (e: unknown): boolean =>
    e instanceof H2Error && e.kind === kind && (code === undefined || e.code === code);
}

Deno.test("H2Connection fails every stream and closes the socket, without GOAWAY, on a connection error", async (t) => {
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
    ["PING of 4 bytes", encodeFrame(FrameType.PING, 0, 0, new Uint8Array(4)), 0x6],
    ["GOAWAY of 4 bytes", encodeFrame(FrameType.GOAWAY, 0, 0, new Uint8Array(4)), 0x6],
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
      const connection = await H2Connection.connect(server.socketPath);
      const peer = await server.accept();
      const response = connection.request(REQUEST, BODY);
      await peer.request();
      await peer.write(bytes);
      await assert.rejects(response, isH2Error("protocol", code));
      assert.equal(connection.isAvailable, false);
      await withTimeout(connection.closed);
      await withTimeout(peer.done);
      assert.equal(peer.received.filter((f: Frame) => f.type === FrameType.GOAWAY).length, 0);
    });
  }
});

Deno.test("H2Connection resets a malformed response with PROTOCOL_ERROR and keeps the connection", async (t) => {
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
  ];
  await using server = await startFakeServer();
  const connection = await H2Connection.connect(server.socketPath);
  const peer = await server.accept();
  for (const [name, bytes, message] of cases) {
    await t.step(name, async () => {
      const response = connection.request(REQUEST, BODY);
      const { streamId } = await peer.request();
      await peer.write(bytes(streamId));
      await assert.rejects(
        response,
        (e: unknown) => isH2Error("protocol", 0x1)(e) && message.test(String(e)),
      );
      const rst = await peer.take((f) => f.type === FrameType.RST_STREAM && f.streamId === streamId);
      assert.deepEqual(rst?.payload, Uint8Array.of(0, 0, 0, 1));
      assert.equal(connection.isAvailable, true);
    });
  }
  const response = connection.request(REQUEST, BODY);
  const { streamId } = await peer.request();
  await peer.write(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, streamId, STATUS_200));
  assert.equal((await response).status, 200, "a trailers-only response still works");
  await connection.close();
});

Deno.test("H2Connection refuses a server whose first frame is not SETTINGS", async () => {
  await using server = await startFakeServer();
  const connection = await H2Connection.connect(server.socketPath);
  const peer = await server.accept({ preface: false });
  const response = connection.request(REQUEST, BODY);
  await peer.frame(FrameType.PING, 0, 0, new Uint8Array(8));
  await assert.rejects(
    response,
    (e: unknown) => isH2Error("protocol", 0x1)(e) && /not SETTINGS/.test(String(e)),
  );
  await withTimeout(connection.closed);
});

Deno.test("H2Connection fails streams as unavailable when the peer drops the connection", async () => {
  await using server = await startFakeServer();
  const connection = await H2Connection.connect(server.socketPath);
  const peer = await server.accept();
  const response = connection.request(REQUEST, BODY);
  await peer.request();
  peer.close();
  await assert.rejects(response, isH2Error("unavailable"));
  assert.equal(connection.isAvailable, false);
  await assert.rejects(connection.request(REQUEST, BODY), isH2Error("unavailable"));
  await withTimeout(connection.close());
});

Deno.test("H2Connection.connect() rejects as unavailable for a missing socket", async () => {
  await using dir = await tempDir();
  await assert.rejects(H2Connection.connect(`${dir.path}/missing.sock`), isH2Error("unavailable"));
});
