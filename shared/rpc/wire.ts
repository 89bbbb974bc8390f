/**
 * Protocol Buffers wire format, the small part our contract needs: varints,
 * length-delimited fields and skipping of unknown fields. Fixed32/fixed64 are
 * only skipped; groups are rejected, as proto3 never emits them.
 *
 * @module
 */

/** The wire types of the protobuf encoding. */
export const WireType = {
  VARINT: 0,
  FIXED64: 1,
  LEN: 2,
  START_GROUP: 3,
  END_GROUP: 4,
  FIXED32: 5,
} as const;

/** A wire type number (0..5). */
export type WireType = typeof WireType[keyof typeof WireType];

/** Bytes that are not a valid encoding of the expected message. */
export class WireFormatError extends SyntaxError {
  override readonly name = "WireFormatError";
}

const MAX_FIELD_NUMBER = 0x1fffffff;

/** Appends protobuf fields to a growing buffer. */
export class WireWriter {
  #buf = new Uint8Array(64);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  /** Writes an unsigned varint of up to 64 bits given as low and high 32-bit halves. */
  varint64(lo: number, hi: number): this {
    this.#reserve(10);
    let low = lo >>> 0;
    let high = hi >>> 0;
    while (high !== 0 || low > 0x7f) {
      this.#buf[this.#len++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    this.#buf[this.#len++] = low;
    return this;
  }

  /** Writes an unsigned 32-bit varint. */
  uint32(value: number): this {
    return this.varint64(value, 0);
  }

  /** Writes an int32 the protobuf way: negative values take 10 bytes (sign-extended to 64 bits). */
  int32(value: number): this {
    return this.varint64(value, value < 0 ? 0xffffffff : 0);
  }

  /** Writes a field key (field number and wire type). */
  tag(fieldNumber: number, wireType: WireType): this {
    if (!Number.isInteger(fieldNumber) || fieldNumber < 1 || fieldNumber > MAX_FIELD_NUMBER) {
      throw new RangeError(`Cannot write field number ${fieldNumber}: out of range`);
    }
    return this.uint32(((fieldNumber << 3) | wireType) >>> 0);
  }

  /** Writes a length prefix followed by the bytes. */
  bytes(value: Uint8Array): this {
    this.uint32(value.length);
    this.#reserve(value.length);
    this.#buf.set(value, this.#len);
    this.#len += value.length;
    return this;
  }

  /** Writes a length-prefixed UTF-8 string. */
  string(value: string): this {
    return this.bytes(ENCODER.encode(value));
  }

  /** The bytes written so far (a copy the caller owns). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Reads protobuf fields from a byte range; every read checks bounds and throws `WireFormatError`. */
export class WireReader {
  readonly #buf: Uint8Array;
  #pos = 0;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }

  /** Whether all bytes were consumed. */
  get done(): boolean {
    return this.#pos >= this.#buf.length;
  }

  /** Reads a varint of up to 10 bytes as low and high 32-bit halves. */
  varint64(): [lo: number, hi: number] {
    let lo = 0;
    let hi = 0;
    const start = this.#pos;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#buf.length) throw new WireFormatError(`Truncated varint at offset ${start}`);
      const b = this.#buf[this.#pos++] as number;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else {
        if (i === 9 && b > 1) throw new WireFormatError(`Varint overflows 64 bits at offset ${start}`);
        hi |= bits << (7 * i - 32);
      }
      if ((b & 0x80) === 0) return [lo >>> 0, hi >>> 0];
    }
    throw new WireFormatError(`Varint longer than 10 bytes at offset ${start}`);
  }

  /** Reads a varint that must fit in 32 unsigned bits (tags and lengths). */
  uint32(): number {
    const start = this.#pos;
    const [lo, hi] = this.varint64();
    if (hi !== 0) throw new WireFormatError(`Varint at offset ${start} does not fit in 32 bits`);
    return lo;
  }

  /** Reads an int32 (the low 32 bits of the varint, as protobuf does). */
  int32(): number {
    return this.varint64()[0] | 0;
  }

  /** Reads a bool (any non-zero varint is true). */
  bool(): boolean {
    const [lo, hi] = this.varint64();
    return lo !== 0 || hi !== 0;
  }

  /** Reads a field key; throws on field number 0 or a wire type that does not exist. */
  tag(): { fieldNumber: number; wireType: number } {
    const start = this.#pos;
    const key = this.uint32();
    const fieldNumber = key >>> 3;
    const wireType = key & 7;
    if (fieldNumber === 0) throw new WireFormatError(`Invalid field number 0 at offset ${start}`);
    if (wireType > WireType.FIXED32) {
      throw new WireFormatError(`Invalid wire type ${wireType} at offset ${start}`);
    }
    return { fieldNumber, wireType };
  }

  /** Reads a length-prefixed byte range (a view into the input). */
  bytes(): Uint8Array {
    const start = this.#pos;
    const len = this.uint32();
    if (len > this.#buf.length - this.#pos) {
      throw new WireFormatError(`Length ${len} at offset ${start} runs past the end of the input`);
    }
    const out = this.#buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    return out;
  }

  /** Reads a length-prefixed string; invalid UTF-8 is an error, as proto3 requires. */
  string(): string {
    const start = this.#pos;
    const bytes = this.bytes();
    try {
      return DECODER.decode(bytes);
    } catch (cause) {
      throw new WireFormatError(`Invalid UTF-8 in string at offset ${start}`, { cause });
    }
  }

  /** Skips the value of a field with the given wire type. */
  skip(wireType: number): void {
    const start = this.#pos;
    switch (wireType) {
      case WireType.VARINT:
        this.varint64();
        return;
      case WireType.LEN:
        this.bytes();
        return;
      case WireType.FIXED64:
      case WireType.FIXED32: {
        const n = wireType === WireType.FIXED64 ? 8 : 4;
        if (n > this.#buf.length - this.#pos) {
          throw new WireFormatError(`Truncated fixed-width value at offset ${start}`);
        }
        this.#pos += n;
        return;
      }
      default:
        throw new WireFormatError(`Cannot skip wire type ${wireType} at offset ${start}`);
    }
  }
}
