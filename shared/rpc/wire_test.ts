import assert from "node:assert/strict";
import { WireFormatError, WireReader, WireType, WireWriter } from "./wire.ts";

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const ff9 = Array<number>(9).fill(0xff);

Deno.test("WireWriter writes varints as hand-computed", async (t) => {
  const cases: [string, (w: WireWriter) => unknown, number[]][] = [
    ["0", (w) => w.uint32(0), [0x00]],
    ["1", (w) => w.uint32(1), [0x01]],
    ["127", (w) => w.uint32(127), [0x7f]],
    ["128", (w) => w.uint32(128), [0x80, 0x01]],
    ["300", (w) => w.uint32(300), [0xac, 0x02]],
    ["2^32-1", (w) => w.uint32(0xffffffff), [0xff, 0xff, 0xff, 0xff, 0x0f]],
    ["int32 -1 (sign-extended, 10 bytes)", (w) => w.int32(-1), [...ff9, 0x01]],
    ["int32 min", (w) => w.int32(-0x80000000), [0x80, 0x80, 0x80, 0x80, 0xf8, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ["int32 max", (w) => w.int32(0x7fffffff), [0xff, 0xff, 0xff, 0xff, 0x07]],
    ["2^63 as halves", (w) => w.varint64(0, 0x80000000), [
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x01,
    ]],
    ["tag 1 LEN", (w) => w.tag(1, WireType.LEN), [0x0a]],
    ["tag 16 VARINT (two bytes)", (w) => w.tag(16, WireType.VARINT), [0x80, 0x01]],
    ["string", (w) => w.string("h\u00e9"), [0x03, 0x68, 0xc3, 0xa9]],
  ];
  for (const [name, write, expected] of cases) {
    await t.step(name, () => {
      const w = new WireWriter();
      write(w);
      assert.deepEqual(w.finish(), bytes(...expected));
    });
  }
});

Deno.test("WireWriter grows past its initial buffer", () => {
  const long = "x".repeat(1000);
  const r = new WireReader(new WireWriter().string(long).string("end").finish());
  assert.equal(r.string(), long);
  assert.equal(r.string(), "end");
  assert.equal(r.done, true);
});

Deno.test("WireWriter.tag() refuses field numbers outside 1..2^29-1", () => {
  assert.throws(() => new WireWriter().tag(0, WireType.VARINT), RangeError);
  assert.throws(() => new WireWriter().tag(2 ** 29, WireType.VARINT), RangeError);
});

Deno.test("WireReader reads back what WireWriter wrote", () => {
  const w = new WireWriter().int32(-1).int32(-0x80000000).int32(150).uint32(0xffffffff).varint64(5, 1);
  const r = new WireReader(w.finish());
  assert.equal(r.int32(), -1);
  assert.equal(r.int32(), -0x80000000);
  assert.equal(r.int32(), 150);
  assert.equal(r.uint32(), 0xffffffff);
  assert.deepEqual(r.varint64(), [5, 1]);
  assert.equal(r.done, true);
});

Deno.test("WireReader.bool() treats any non-zero varint as true", () => {
  assert.equal(new WireReader(bytes(0x00)).bool(), false);
  assert.equal(new WireReader(bytes(0x02)).bool(), true);
  assert.equal(new WireReader(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x01)).bool(), true);
});

Deno.test("WireReader.skip() passes over every skippable wire type", () => {
  const r = new WireReader(bytes(0x96, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x02, 0xaa, 0xbb, 1, 2, 3, 4, 0x2a));
  r.skip(WireType.VARINT);
  r.skip(WireType.FIXED64);
  r.skip(WireType.LEN);
  r.skip(WireType.FIXED32);
  assert.equal(r.uint32(), 42);
  assert.equal(r.done, true);
});

Deno.test("WireReader throws WireFormatError on malformed input", async (t) => {
  const cases: [string, number[], (r: WireReader) => unknown, RegExp][] = [
    ["empty varint", [], (r) => r.uint32(), /Truncated varint at offset 0/],
    ["truncated varint", [0x80, 0x80], (r) => r.varint64(), /Truncated varint/],
    ["varint longer than 10 bytes", [...ff9, 0xff, 0x01], (r) => r.varint64(), /overflows 64 bits/],
    ["10th byte above 1", [...ff9, 0x02], (r) => r.varint64(), /overflows 64 bits/],
    ["length over 32 bits", [0xff, 0xff, 0xff, 0xff, 0x1f], (r) => r.bytes(), /does not fit in 32 bits/],
    ["length past the end", [0x05, 0x61], (r) => r.bytes(), /Length 5 at offset 0 runs past the end/],
    ["huge length", [0xff, 0xff, 0xff, 0xff, 0x0f], (r) => r.bytes(), /runs past the end/],
    ["invalid UTF-8", [0x01, 0xff], (r) => r.string(), /Invalid UTF-8/],
    ["field number 0", [0x02], (r) => r.tag(), /Invalid field number 0/],
    ["wire type 6", [0x0e], (r) => r.tag(), /Invalid wire type 6/],
    ["wire type 7", [0x0f], (r) => r.tag(), /Invalid wire type 7/],
    ["start group", [0x0b], (r) => r.skip(r.tag().wireType), /Cannot skip wire type 3/],
    ["end group", [0x0c], (r) => r.skip(r.tag().wireType), /Cannot skip wire type 4/],
    ["truncated fixed64", [0x09, 1, 2, 3], (r) => r.skip(r.tag().wireType), /Truncated fixed-width/],
    ["truncated fixed32", [0x0d, 1], (r) => r.skip(r.tag().wireType), /Truncated fixed-width/],
  ];
  for (const [name, input, read, message] of cases) {
    await t.step(name, () =>
      assert.throws(() => read(new WireReader(bytes(...input))), (e: unknown) => {
        assert.ok(e instanceof WireFormatError);
        assert.ok(e instanceof SyntaxError);
        assert.match(e.message, message);
        return true;
      }));
  }
});
