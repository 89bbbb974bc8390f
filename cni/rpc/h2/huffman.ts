/**
 * The HPACK Huffman code (RFC 7541 Appendix B), decoding only: our encoder
 * sends raw strings, but nghttp2 peers Huffman-code most of theirs. The code
 * is canonical, so the table is just the code length of each symbol (0..255,
 * then EOS = 256); codes are assigned in (length, symbol) order.
 *
 * @module
 */
import { H2Error } from "./error.ts";
import { ErrorCode } from "./frame.ts";

// deno-fmt-ignore
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const EOS = 256;
const MAX_BITS = 30;

/**
 * The code in canonical form: how many codes each length has, and the
 * symbols in code order. Built by a counting sort on first use (a few hundred
 * steps, so the plugin's first call stays cheap).
 */
let canonical: { counts: Uint16Array; symbols: Uint16Array } | undefined;

function buildCanonical(): { counts: Uint16Array; symbols: Uint16Array } {
  const counts = new Uint16Array(MAX_BITS + 1);
  for (const length of CODE_LENGTHS) counts[length]!++;
  const next = new Uint16Array(MAX_BITS + 1);
  for (let length = 1; length < MAX_BITS; length++) next[length + 1] = next[length]! + counts[length]!;
  const symbols = new Uint16Array(CODE_LENGTHS.length);
  CODE_LENGTHS.forEach((length, symbol) => symbols[next[length]!++] = symbol);
  return { counts, symbols };
}

function fail(why: string): never {
  throw new H2Error("protocol", ErrorCode.COMPRESSION_ERROR, `Cannot decode Huffman string: ${why}`);
}

/**
 * Decodes a Huffman-coded string into bytes, bit by bit over the canonical
 * code (zlib's puff method). Rejects EOS inside the string, and padding
 * longer than 7 bits or not made of ones (RFC 7541 §5.2).
 */
export function huffmanDecode(input: Uint8Array): Uint8Array {
  const { counts, symbols } = canonical ??= buildCanonical();
  const out = new Uint8Array(Math.ceil((input.length * 8) / 5));
  let length = 0;
  // The bits read since the last symbol: their value, count, and whether all are ones.
  let code = 0;
  let bits = 0;
  let ones = true;
  // The first code of length `bits` and the index of its symbol.
  let first = 0;
  let index = 0;
  for (const byte of input) {
    for (let shift = 7; shift >= 0; shift--) {
      const bit = (byte >> shift) & 1;
      code += bit;
      bits++;
      ones &&= bit === 1;
      const count = counts[bits]!;
      if (code - first < count) {
        const symbol = symbols[index + code - first]!;
        if (symbol === EOS) fail("EOS in the string");
        out[length++] = symbol;
        code =
          bits =
          first =
          index =
            0;
        ones = true;
      } else {
        index += count;
        first = (first + count) * 2;
        code *= 2;
      }
    }
  }
  if (bits > 7) fail("padding longer than 7 bits");
  if (!ones) fail("padding is not the EOS prefix");
  return out.subarray(0, length);
}
