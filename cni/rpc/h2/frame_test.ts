import assert from "node:assert/strict";
import { H2Error } from "./error.ts";
import {
  encodeFrame,
  encodeUint32Frame,
  Flag,
  type Frame,
  framePayload,
  FrameReader,
  FrameType,
} from "./frame.ts";

function frameOf(type: number, flags: number, payload: number[]): Frame {
  return { type, flags, streamId: 1, payload: Uint8Array.from(payload) };
}

function isProtocolError(code: number) {
  return (e: unknown): boolean => e instanceof H2Error && e.kind === "protocol" && e.code === code;
}

Deno.test("encodeFrame() writes the 9-byte header: length, type, flags, 31-bit stream id", () => {
  const frame = encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, 0x8000_0003, Uint8Array.of(1, 2));
  assert.deepEqual(frame, Uint8Array.of(0, 0, 2, 1, 4, 0, 0, 0, 3, 1, 2));
  assert.deepEqual(
    encodeUint32Frame(FrameType.WINDOW_UPDATE, 0, 65_535).subarray(9),
    Uint8Array.of(0, 0, 255, 255),
  );
});

Deno.test("FrameReader reassembles frames from reads of any size", async (t) => {
  const stream = Uint8Array.from([
    ...encodeFrame(FrameType.DATA, Flag.END_STREAM, 1, Uint8Array.of(7, 8, 9)),
    ...encodeFrame(FrameType.PING, 0, 0, new Uint8Array(8)),
    ...encodeFrame(0xfa, 0, 5), // an extension type, empty
  ]);
  for (const size of [1, 2, 5, 9, 10, stream.length]) {
    await t.step(`reads of ${size} bytes`, () => {
      const reader = new FrameReader();
      const frames: Frame[] = [];
      for (let i = 0; i < stream.length; i += size) {
        reader.push(stream.subarray(i, i + size));
        for (let f = reader.next(); f !== undefined; f = reader.next()) frames.push(f);
      }
      assert.deepEqual(frames.map((f) => [f.type, f.flags, f.streamId, [...f.payload]]), [
        [FrameType.DATA, Flag.END_STREAM, 1, [7, 8, 9]],
        [FrameType.PING, 0, 0, [0, 0, 0, 0, 0, 0, 0, 0]],
        [0xfa, 0, 5, []],
      ]);
    });
  }
});

Deno.test("FrameReader keeps frames intact across buffer growth and compaction", () => {
  const reader = new FrameReader();
  const big = Uint8Array.from({ length: 16_384 }, (_, i) => i & 0xff);
  const bytes = Uint8Array.from([
    ...encodeFrame(FrameType.DATA, 0, 3, big),
    ...encodeFrame(FrameType.DATA, 0, 3, big),
  ]);
  for (let round = 0; round < 3; round++) {
    reader.push(bytes.subarray(0, 10_000));
    reader.push(bytes.subarray(10_000));
    assert.deepEqual(reader.next()?.payload, big);
    assert.deepEqual(reader.next()?.payload, big);
    assert.equal(reader.next(), undefined);
  }
});

Deno.test("FrameReader refuses a frame above the maximum frame size", () => {
  const reader = new FrameReader();
  reader.push(Uint8Array.of(0, 0x40, 0x01, 0, 0, 0, 0, 0, 1)); // 16,385 bytes announced
  assert.throws(() => reader.next(), isProtocolError(0x6));
});

Deno.test("framePayload() strips padding and HEADERS priority fields", async (t) => {
  const cases: [string, Frame, number[]][] = [
    ["DATA without padding", frameOf(FrameType.DATA, 0, [1, 2]), [1, 2]],
    ["padded DATA", frameOf(FrameType.DATA, Flag.PADDED, [2, 1, 2, 0, 0]), [1, 2]],
    ["padded DATA with only padding", frameOf(FrameType.DATA, Flag.PADDED, [1, 0]), []],
    ["HEADERS with priority", frameOf(FrameType.HEADERS, Flag.PRIORITY, [0, 0, 0, 3, 9, 0x82]), [0x82]],
    [
      "padded HEADERS with priority",
      frameOf(FrameType.HEADERS, Flag.PADDED | Flag.PRIORITY, [1, 0, 0, 0, 3, 9, 0x82, 0]),
      [0x82],
    ],
  ];
  for (const [name, frame, expected] of cases) {
    await t.step(name, () => assert.deepEqual([...framePayload(frame)], expected));
  }
  await t.step("padding longer than the frame", () => {
    assert.throws(() => framePayload(frameOf(FrameType.DATA, Flag.PADDED, [2, 1])), isProtocolError(0x1));
  });
  await t.step("padded frame without a pad length", () => {
    assert.throws(() => framePayload(frameOf(FrameType.DATA, Flag.PADDED, [])), isProtocolError(0x6));
  });
});
