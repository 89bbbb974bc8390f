/**
 * HPACK (RFC 7541). `HpackDecoder` reads everything a peer may send: indexed
 * fields, literals with, without and never indexing, dynamic table size
 * updates, and Huffman-coded strings (a grpc-js server on nghttp2 sends
 * Huffman-coded literals with incremental indexing, then refers to them by
 * index). `encodeHeaderBlock` writes literals without indexing only, so the
 * peer's dynamic table stays empty and its size never matters. Names and values are byte
 * strings: one char per octet (latin1), as HTTP/2 carries them.
 *
 * @module
 */
import { H2Error } from "./error.ts";
import { ErrorCode } from "./frame.ts";
import { huffmanDecode } from "./huffman.ts";
import { STATIC_TABLE } from "./hpack_static_table.ts";

/** Header fields in order; names may repeat. */
export type HeaderList = [name: string, value: string][];

/** The table size both sides start with (SETTINGS_HEADER_TABLE_SIZE's default). */
export const DEFAULT_TABLE_SIZE = 4096;
/** RFC 7541 §4.1: each entry costs 32 octets on top of its name and value. */
const ENTRY_OVERHEAD = 32;
/** No field of ours, or of a sane peer, needs a longer integer. */
const MAX_INTEGER = 0x7fff_ffff;

function fail(why: string): never {
  throw new H2Error("protocol", ErrorCode.COMPRESSION_ERROR, `Cannot decode header block: ${why}`);
}

/** Decodes header blocks of one connection, in the order they arrive. */
export class HpackDecoder {
  /** Newest entry first (dynamic index 62 is element 0). */
  readonly #table: (readonly [string, string])[] = [];
  readonly #maxTableSize: number;
  #tableLimit: number;
  #tableSize = 0;
  #bytes: Uint8Array = new Uint8Array(0);
  #pos = 0;

  /** `maxTableSize` is the SETTINGS_HEADER_TABLE_SIZE we advertised. */
  constructor(maxTableSize: number = DEFAULT_TABLE_SIZE) {
    this.#maxTableSize = maxTableSize;
    this.#tableLimit = maxTableSize;
  }

  /** The dynamic table, newest first, and its size in HPACK octets (for tests). */
  get dynamicTable(): { readonly entries: readonly (readonly [string, string])[]; readonly size: number } {
    return { entries: [...this.#table], size: this.#tableSize };
  }

  /** Decodes one complete header block; throws `H2Error` (COMPRESSION_ERROR) on bad input. */
  decode(block: Uint8Array): HeaderList {
    this.#bytes = block;
    this.#pos = 0;
    const out: HeaderList = [];
    while (this.#pos < block.length) {
      const first = block[this.#pos]!;
      if (first & 0x80) {
        out.push([...this.#entry(this.#integer(7))]);
      } else if ((first & 0xc0) === 0x40) {
        const field = this.#literal(6);
        this.#insert(field);
        out.push(field);
      } else if ((first & 0xe0) === 0x20) {
        if (out.length > 0) fail("dynamic table size update after a field");
        const size = this.#integer(5);
        if (size > this.#maxTableSize) fail(`table size ${size} exceeds ${this.#maxTableSize}`);
        this.#tableLimit = size;
        this.#evict(0);
      } else {
        out.push(this.#literal(4)); // without indexing (0000) or never indexed (0001)
      }
    }
    this.#bytes = new Uint8Array(0);
    return out;
  }

  #entry(index: number): readonly [string, string] {
    if (index === 0) fail("index 0");
    const entry = index <= STATIC_TABLE.length
      ? STATIC_TABLE[index - 1]
      : this.#table[index - STATIC_TABLE.length - 1];
    return entry ?? fail(`index ${index} is not in the table`);
  }

  #literal(prefixBits: number): [string, string] {
    const index = this.#integer(prefixBits);
    const name = index === 0 ? this.#string() : this.#entry(index)[0];
    return [name, this.#string()];
  }

  #insert(field: readonly [string, string]): void {
    const size = field[0].length + field[1].length + ENTRY_OVERHEAD;
    this.#evict(size);
    // An entry larger than the table empties it and is not added (RFC 7541 §4.4).
    if (size > this.#tableLimit) return;
    this.#table.unshift(field);
    this.#tableSize += size;
  }

  /** Drops the oldest entries until `room` more octets fit. */
  #evict(room: number): void {
    while (this.#tableSize + room > this.#tableLimit && this.#table.length > 0) {
      const [name, value] = this.#table.pop()!;
      this.#tableSize -= name.length + value.length + ENTRY_OVERHEAD;
    }
  }

  /** An integer with an N-bit prefix (RFC 7541 §5.1). */
  #integer(prefixBits: number): number {
    const bytes = this.#bytes;
    const max = (1 << prefixBits) - 1;
    let value = bytes[this.#pos++]! & max;
    if (value < max) return value;
    for (let shift = 0;; shift += 7) {
      if (this.#pos >= bytes.length) fail("truncated integer");
      const byte = bytes[this.#pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) fail("integer too large");
      if ((byte & 0x80) === 0) return value;
    }
  }

  /** A string literal, raw or Huffman-coded (RFC 7541 §5.2). */
  #string(): string {
    if (this.#pos >= this.#bytes.length) fail("truncated string");
    const huffman = (this.#bytes[this.#pos]! & 0x80) !== 0;
    const length = this.#integer(7);
    if (this.#pos + length > this.#bytes.length) fail("truncated string");
    const raw = this.#bytes.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return latin1(huffman ? huffmanDecode(raw) : raw);
  }
}

/** One char per byte. */
export function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return out;
}

/**
 * Encodes a header block as literals without indexing, new name (RFC 7541
 * §6.2.2), no Huffman: the peer's tables are never touched, and a request's
 * few hundred bytes need nothing smaller.
 */
export function encodeHeaderBlock(headers: HeaderList): Uint8Array {
  const out: number[] = [];
  for (const [name, value] of headers) {
    out.push(0x00);
    writeString(out, name);
    writeString(out, value);
  }
  return Uint8Array.from(out);
}

/** An integer with an N-bit prefix, `flags` in the bits above it. */
export function writeInteger(out: number[], flags: number, prefixBits: number, value: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  let rest = value - max;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

function writeString(out: number[], text: string): void {
  writeInteger(out, 0x00, 7, text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw new RangeError(`Cannot encode header text "${text}": not a byte string`);
    out.push(code);
  }
}
