/**
 * HTTP/2 frames (RFC 9113 §4 and §6): the numbers a client needs, the frame
 * encoder, and `FrameReader`, which cuts a byte stream into frames whatever
 * the read sizes are.
 *
 * @module
 */
import { H2Error, protocolError } from "./error.ts";

/** Frame type numbers; any other type is an extension and is ignored. */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags (ACK shares END_STREAM's bit on SETTINGS and PING). */
export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Error codes of RST_STREAM and GOAWAY. */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  FLOW_CONTROL_ERROR: 0x3,
  FRAME_SIZE_ERROR: 0x6,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

/** SETTINGS parameters the client acts on. */
export const Setting = {
  ENABLE_PUSH: 0x2,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
} as const;

/** The initial flow-control window, and our receive window (we never change it). */
export const DEFAULT_WINDOW = 65_535;
/** The largest window and stream id: 2^31 - 1. */
export const MAX_WINDOW = 0x7fff_ffff;
/** The frame size every endpoint accepts; we never advertise more. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
/** The largest SETTINGS_MAX_FRAME_SIZE a peer may set. */
export const MAX_FRAME_SIZE_LIMIT = 0xff_ffff;

/** "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", sent before the client's first SETTINGS. */
export const CLIENT_PREFACE: Uint8Array = Uint8Array.from(
  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
  (c) => c.charCodeAt(0),
);

const HEADER_BYTES = 9;

/** One frame; `payload` still holds any padding and priority fields. */
export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Uint8Array;
}

/** Encodes a frame header and payload. */
export function encodeFrame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = new Uint8Array(),
): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length << 8 | type);
  out[4] = flags;
  view.setUint32(5, streamId & MAX_WINDOW);
  out.set(payload, HEADER_BYTES);
  return out;
}

/** A frame whose payload is one 32-bit number: WINDOW_UPDATE or RST_STREAM. */
export function encodeUint32Frame(type: number, streamId: number, value: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, value);
  return encodeFrame(type, 0, streamId, payload);
}

/** The 32-bit big-endian number at `offset`. */
export function readUint32(bytes: Uint8Array, offset = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset);
}

/**
 * The content of a DATA or HEADERS frame: the payload without the pad length,
 * the padding and (HEADERS only) the priority fields.
 */
export function framePayload(frame: Frame): Uint8Array {
  const { payload, flags } = frame;
  let start = 0;
  let padding = 0;
  if (flags & Flag.PADDED) {
    if (payload.length < 1) {
      throw protocolError(ErrorCode.FRAME_SIZE_ERROR, "Padded frame without a pad length");
    }
    padding = payload[0]!;
    start = 1;
  }
  if (frame.type === FrameType.HEADERS && flags & Flag.PRIORITY) start += 5;
  if (start + padding > payload.length) {
    throw protocolError(ErrorCode.PROTOCOL_ERROR, `Padding of ${padding} bytes exceeds the frame`);
  }
  return payload.subarray(start, payload.length - padding);
}

/** Cuts received bytes into frames; a frame larger than `maxFrameSize` is a FRAME_SIZE_ERROR. */
export class FrameReader {
  readonly #maxFrameSize: number;
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;

  constructor(maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE) {
    this.#maxFrameSize = maxFrameSize;
  }

  /** Adds received bytes (copied). */
  push(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const live = this.#end - this.#start;
      if (live + chunk.length <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(Math.max(2 * this.#buf.length, live + chunk.length, 4096));
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The next complete frame, or undefined until more bytes arrive. Throws `H2Error` on an oversized frame. */
  next(): Frame | undefined {
    const available = this.#end - this.#start;
    if (available < HEADER_BYTES) return undefined;
    const b = this.#buf;
    const s = this.#start;
    const length = b[s]! << 16 | b[s + 1]! << 8 | b[s + 2]!;
    if (length > this.#maxFrameSize) {
      throw new H2Error("protocol", ErrorCode.FRAME_SIZE_ERROR, `Frame of ${length} bytes exceeds our limit`);
    }
    if (available < HEADER_BYTES + length) return undefined;
    const frame = {
      type: b[s + 3]!,
      flags: b[s + 4]!,
      streamId: readUint32(b, s + 5) & MAX_WINDOW,
      payload: b.slice(s + HEADER_BYTES, s + HEADER_BYTES + length),
    };
    this.#start += HEADER_BYTES + length;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return frame;
  }
}
