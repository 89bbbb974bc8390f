/**
 * Malformed input for ipamd's gRPC socket, as raw bytes: gRPC calls whose
 * protobuf is broken or whose gRPC framing lies, HTTP/2 frames that break the
 * protocol (bad SETTINGS, GOAWAY, RST_STREAM, WINDOW_UPDATE, CONTINUATION,
 * HPACK, stream ids, sizes), and bytes that are not HTTP/2 at all. Written here
 * without the product's HTTP/2 code, so a bug there cannot hide a bug in ipamd.
 *
 * @module
 */
import { prng } from "./_config.ts";

/** One connection's worth of bytes, and what it tries. */
export interface H2Case {
  readonly label: string;
  readonly bytes: Uint8Array;
}

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** A frame: 24-bit length, type, flags, 31-bit stream id, payload (`length` may lie). */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = new Uint8Array(),
  length?: number,
): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  const len = length ?? payload.length;
  out.set([(len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff, type & 0xff, flags & 0xff]);
  new DataView(out.buffer).setUint32(5, streamId >>> 0);
  out.set(payload, 9);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** HPACK literal header fields without indexing and without Huffman (RFC 7541 §6.2.2). */
export function headerBlock(headers: readonly [string, string][]): Uint8Array {
  const out: number[] = [];
  const int = (prefix: number, value: number) => {
    if (value < 127) return void out.push(prefix | value);
    out.push(prefix | 127);
    for (value -= 127; value >= 128; value >>>= 7) out.push((value & 0x7f) | 0x80);
    out.push(value);
  };
  for (const [name, value] of headers) {
    out.push(0x00);
    const n = new TextEncoder().encode(name);
    const v = new TextEncoder().encode(value);
    int(0, n.length);
    out.push(...n);
    int(0, v.length);
    out.push(...v);
  }
  return Uint8Array.from(out);
}

const SETTINGS_EMPTY = frame(0x4, 0, 0);

function grpcHeaders(path: string, extra: [string, string][] = []): Uint8Array {
  return headerBlock([
    [":method", "POST"],
    [":scheme", "http"],
    [":path", path],
    [":authority", "localhost"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
    ...extra,
  ]);
}

/** A gRPC message frame: compressed flag, 32-bit length (which may lie), bytes. */
function grpcMessage(
  payload: Uint8Array,
  options: { compressed?: boolean; length?: number } = {},
): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = options.compressed ? 1 : 0;
  new DataView(out.buffer).setUint32(1, options.length ?? payload.length);
  out.set(payload, 5);
  return out;
}

const PATHS = [
  "/rpc.CNIBackend/AddNetwork",
  "/rpc.CNIBackend/DelNetwork",
  "/grpc.health.v1.Health/Check",
  "/grpc.health.v1.Health/Watch",
];

/** Protobuf bytes that no decoder may accept as a request. */
function badProtobuf(rand: () => number): [string, Uint8Array] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  return pick<[string, Uint8Array]>([
    ["truncated varint", Uint8Array.from([0x08, 0x80, 0x80, 0x80])],
    ["11-byte varint", Uint8Array.from([0x08, ...Array(10).fill(0xff), 0x01])],
    ["length past the end", Uint8Array.from([0x3a, 0x7f, 0x61])],
    ["negative length", Uint8Array.from([0x3a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ["wire type 6", Uint8Array.from([0x0e, 0x01])],
    ["wire type 7", Uint8Array.from([0x0f, 0x01])],
    ["field number 0", Uint8Array.from([0x02, 0x01, 0x61])],
    ["unterminated group", Uint8Array.from([0x0b, 0x0b, 0x0b])],
    ["fixed64 cut short", Uint8Array.from([0x09, 0x01, 0x02])],
    ["container id then garbage", Uint8Array.from([0x3a, 0x02, 0x63, 0x31, 0xff])],
    [
      "random",
      Uint8Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256) | 0x80),
    ],
  ]);
}

/** One call on stream 1 with `payload` as its DATA. */
function call(path: string, data: Uint8Array, extra: [string, string][] = []): Uint8Array {
  return concat(
    PREFACE,
    SETTINGS_EMPTY,
    frame(0x1, 0x4, 1, grpcHeaders(path, extra)),
    frame(0x0, 0x1, 1, data),
  );
}

/** Builds `count` cases from `seed`. */
export function h2Cases(count: number, seed: number): H2Case[] {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const int = (max: number) => Math.floor(rand() * max);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  const u32 = (v: number) =>
    Uint8Array.from([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
  const cases: H2Case[] = [];
  const push = (label: string, ...parts: Uint8Array[]) => cases.push({ label, bytes: concat(...parts) });
  while (cases.length < count) {
    const kind = int(12);
    const path = pick(PATHS);
    if (kind <= 2) {
      const [what, proto] = badProtobuf(rand);
      push(`${path}: ${what}`, call(path, grpcMessage(proto)));
    } else if (kind === 3) {
      const lie = pick(
        [
          ["length longer than the data", grpcMessage(bytes(4), { length: 1000 })],
          ["length of 4 GiB", grpcMessage(bytes(8), { length: 0xffff_ffff })],
          ["compressed without an encoding", grpcMessage(bytes(8), { compressed: true })],
          ["a cut message prefix", Uint8Array.from([0, 0, 0])],
          [
            "two messages in a unary call",
            concat(grpcMessage(new Uint8Array()), grpcMessage(new Uint8Array())),
          ],
          ["an empty message", grpcMessage(new Uint8Array())],
        ] as const,
      );
      push(`${path}: ${lie[0]}`, call(path, lie[1]));
    } else if (kind === 4) {
      const extra = pick<[string, [string, string][]]>([
        ["unknown method", [[":path", "/rpc.CNIBackend/Nope"]]],
        ["grpc-encoding gzip", [["grpc-encoding", "gzip"]]],
        ["grpc-timeout junk", [["grpc-timeout", "99999999999H"]]],
        ["huge header", [["x-junk", "x".repeat(20_000)]]],
        ["uppercase header", [["X-Upper", "1"]]],
        ["connection header", [["connection", "close"]]],
      ]);
      push(`${path}: ${extra[0]}`, call(path, grpcMessage(new Uint8Array()), extra[1]));
    } else if (kind === 5) {
      push(
        "HEADERS with broken HPACK",
        PREFACE,
        SETTINGS_EMPTY,
        frame(
          0x1,
          0x5,
          1,
          pick([Uint8Array.from([0x80]), Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x7f]), bytes(32)]),
        ),
      );
    } else if (kind === 6) {
      const settings = pick(
        [
          ["odd SETTINGS length", frame(0x4, 0, 0, bytes(7))],
          ["SETTINGS on a stream", frame(0x4, 0, 1, bytes(6))],
          ["window too large", frame(0x4, 0, 0, concat(Uint8Array.from([0, 4]), u32(0x8000_0000)))],
          ["frame size too small", frame(0x4, 0, 0, concat(Uint8Array.from([0, 5]), u32(100)))],
          ["ENABLE_PUSH 2", frame(0x4, 0, 0, concat(Uint8Array.from([0, 2]), u32(2)))],
          ["SETTINGS ACK with payload", frame(0x4, 1, 0, bytes(6))],
        ] as const,
      );
      push(settings[0], PREFACE, settings[1]);
    } else if (kind === 7) {
      const abuse = pick(
        [
          ["GOAWAY", frame(0x7, 0, 0, concat(u32(int(0x7fff_ffff)), u32(int(14))))],
          [
            "GOAWAY after a call",
            concat(frame(0x1, 0x4, 1, grpcHeaders(path)), frame(0x7, 0, 0, concat(u32(1), u32(0)))),
          ],
          ["RST_STREAM on stream 0", frame(0x3, 0, 0, u32(8))],
          ["RST_STREAM on an idle stream", frame(0x3, 0, 7, u32(8))],
          ["WINDOW_UPDATE of 0", frame(0x8, 0, 0, u32(0))],
          [
            "WINDOW_UPDATE overflow",
            concat(frame(0x8, 0, 0, u32(0x7fff_ffff)), frame(0x8, 0, 0, u32(0x7fff_ffff))),
          ],
          ["PING of 7 bytes", frame(0x6, 0, 0, bytes(7))],
          ["CONTINUATION without HEADERS", frame(0x9, 0x4, 1, grpcHeaders(path))],
          ["DATA on stream 0", frame(0x0, 0, 0, bytes(10))],
          ["DATA on an idle stream", frame(0x0, 1, 3, bytes(10))],
          ["PRIORITY on itself", frame(0x2, 0, 1, concat(u32(1), Uint8Array.from([16])))],
          ["even stream id", frame(0x1, 0x5, 2, grpcHeaders(path))],
          ["PUSH_PROMISE from a client", frame(0x5, 0x4, 1, concat(u32(2), grpcHeaders(path)))],
          ["frame larger than allowed", frame(0x0, 0, 1, bytes(20_000))],
          ["length lies", frame(0x1, 0x4, 1, bytes(4), 0xff_ffff)],
        ] as const,
      );
      push(abuse[0], PREFACE, SETTINGS_EMPTY, abuse[1]);
    } else if (kind === 8) {
      const frames = Array.from(
        { length: 1 + int(20) },
        () => frame(int(256), int(256), int(16), bytes(int(64))),
      );
      push("random frames", PREFACE, SETTINGS_EMPTY, ...frames);
    } else if (kind === 9) {
      const streams = Array.from({ length: 200 }, (_, i) => frame(0x1, 0x5, 2 * i + 1, grpcHeaders(path)));
      push("200 streams opened and left", PREFACE, SETTINGS_EMPTY, ...streams);
    } else if (kind === 10) {
      push(
        "stream ids going down",
        PREFACE,
        SETTINGS_EMPTY,
        frame(0x1, 0x4, 9, grpcHeaders(path)),
        frame(0x1, 0x4, 3, grpcHeaders(path)),
      );
    } else {
      const raw = pick(
        [
          ["random bytes", bytes(1 + int(512))],
          [
            "HTTP/1.1",
            new TextEncoder().encode("POST /rpc.CNIBackend/AddNetwork HTTP/1.1\r\nHost: x\r\n\r\n"),
          ],
          [
            "TLS ClientHello",
            Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]),
          ],
          ["half a preface", PREFACE.subarray(0, 10)],
          ["preface only", PREFACE],
          ["wrong preface", new TextEncoder().encode("PRI * HTTP/2.1\r\n\r\nSM\r\n\r\n")],
        ] as const,
      );
      push(raw[0], raw[1]);
    }
  }
  return cases;
}
