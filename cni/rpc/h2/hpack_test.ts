import assert from "node:assert/strict";
import { H2Error } from "./error.ts";
import { encodeHeaderBlock, type HeaderList, HpackDecoder, writeInteger } from "./hpack.ts";

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from({ length: clean.length / 2 }, (_, i) => parseInt(clean.slice(2 * i, 2 * i + 2), 16));
}

/** One header block of an RFC 7541 Appendix C example and the decoder state after it. */
interface Step {
  readonly block: string;
  readonly headers: HeaderList;
  readonly table: HeaderList;
  readonly size: number;
}

function runSteps(decoder: HpackDecoder, steps: readonly Step[]): void {
  for (const [i, step] of steps.entries()) {
    assert.deepEqual(decoder.decode(hex(step.block)), step.headers, `block ${i + 1}`);
    assert.deepEqual(decoder.dynamicTable.entries, step.table, `table after block ${i + 1}`);
    assert.equal(decoder.dynamicTable.size, step.size, `size after block ${i + 1}`);
  }
}

const GET_HTTP: HeaderList = [[":method", "GET"], [":scheme", "http"], [":path", "/"]];
const AUTHORITY: [string, string] = [":authority", "www.example.com"];
const NO_CACHE: [string, string] = ["cache-control", "no-cache"];
const CUSTOM: [string, string] = ["custom-key", "custom-value"];
const REQUESTS = (blocks: [string, string, string]): Step[] => [
  { block: blocks[0], headers: [...GET_HTTP, AUTHORITY], table: [AUTHORITY], size: 57 },
  { block: blocks[1], headers: [...GET_HTTP, AUTHORITY, NO_CACHE], table: [NO_CACHE, AUTHORITY], size: 110 },
  {
    block: blocks[2],
    headers: [[":method", "GET"], [":scheme", "https"], [":path", "/index.html"], AUTHORITY, CUSTOM],
    table: [CUSTOM, NO_CACHE, AUTHORITY],
    size: 164,
  },
];

const DATE_21: [string, string] = ["date", "Mon, 21 Oct 2013 20:13:21 GMT"];
const DATE_22: [string, string] = ["date", "Mon, 21 Oct 2013 20:13:22 GMT"];
const PRIVATE: [string, string] = ["cache-control", "private"];
const LOCATION: [string, string] = ["location", "https://www.example.com"];
const COOKIE: [string, string] = ["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"];
const RESPONSES = (blocks: [string, string, string]): Step[] => [
  {
    block: blocks[0],
    headers: [[":status", "302"], PRIVATE, DATE_21, LOCATION],
    table: [LOCATION, DATE_21, PRIVATE, [":status", "302"]],
    size: 222,
  },
  {
    block: blocks[1],
    headers: [[":status", "307"], PRIVATE, DATE_21, LOCATION],
    table: [[":status", "307"], LOCATION, DATE_21, PRIVATE],
    size: 222,
  },
  {
    block: blocks[2],
    headers: [[":status", "200"], PRIVATE, DATE_22, LOCATION, ["content-encoding", "gzip"], COOKIE],
    table: [COOKIE, ["content-encoding", "gzip"], DATE_22],
    size: 215,
  },
];

Deno.test("HpackDecoder decodes the RFC 7541 C.2 single representations", async (t) => {
  const cases: [string, string, HeaderList, HeaderList][] = [
    [
      "C.2.1 literal with indexing",
      "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
      [["custom-key", "custom-header"]],
      [["custom-key", "custom-header"]],
    ],
    ["C.2.2 literal without indexing", "040c 2f73 616d 706c 652f 7061 7468", [[":path", "/sample/path"]], []],
    [
      "C.2.3 literal never indexed",
      "1008 7061 7373 776f 7264 0673 6563 7265 74",
      [["password", "secret"]],
      [],
    ],
    ["C.2.4 indexed", "82", [[":method", "GET"]], []],
  ];
  for (const [name, block, headers, table] of cases) {
    await t.step(name, () => {
      const decoder = new HpackDecoder();
      assert.deepEqual(decoder.decode(hex(block)), headers);
      assert.deepEqual(decoder.dynamicTable.entries, table);
    });
  }
});

Deno.test("HpackDecoder decodes the RFC 7541 C.3 requests without Huffman", () => {
  runSteps(
    new HpackDecoder(),
    REQUESTS([
      "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
      "8286 84be 5808 6e6f 2d63 6163 6865",
      "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ]),
  );
});

Deno.test("HpackDecoder decodes the RFC 7541 C.4 requests with Huffman", () => {
  runSteps(
    new HpackDecoder(),
    REQUESTS([
      "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
      "8286 84be 5886 a8eb 1064 9cbf",
      "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ]),
  );
});

Deno.test("HpackDecoder decodes the RFC 7541 C.5 responses without Huffman, evicting from a 256-octet table", () => {
  runSteps(
    new HpackDecoder(256),
    RESPONSES([
      "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
      "4803 3330 37c1 c0bf",
      "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
    ]),
  );
});

Deno.test("HpackDecoder decodes the RFC 7541 C.6 responses with Huffman, evicting from a 256-octet table", () => {
  runSteps(
    new HpackDecoder(256),
    RESPONSES([
      "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
      "4883 640e ffc1 c0bf",
      "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    ]),
  );
});

Deno.test("HpackDecoder applies dynamic table size updates at the start of a block", () => {
  const decoder = new HpackDecoder();
  decoder.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
  assert.equal(decoder.dynamicTable.size, 55);
  assert.deepEqual(decoder.decode(hex("20 82")), [[":method", "GET"]], "size 0 empties the table");
  assert.deepEqual(decoder.dynamicTable, { entries: [], size: 0 });
  decoder.decode(hex("3f e1 1f 40 01 61 01 62")); // back to 4096, then add a: b
  assert.deepEqual(decoder.dynamicTable, { entries: [["a", "b"]], size: 34 });
  assert.deepEqual(decoder.decode(hex("be")), [["a", "b"]]);
});

Deno.test("HpackDecoder refuses malformed blocks with COMPRESSION_ERROR", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["index 0", "80", /index 0/],
    ["index past the tables", "be", /index 62/],
    ["size update after a field", "82 20", /size update after a field/],
    ["size update above the limit", "3f e2 1f", /table size 4097/],
    ["truncated integer", "ff", /truncated integer/],
    ["huge integer", "ff ff ff ff ff 0f", /integer too large/],
    ["truncated string", "04 05 61", /truncated string/],
    ["bad Huffman padding", "04 81 00", /padding/],
  ];
  for (const [name, block, message] of cases) {
    await t.step(name, () => {
      assert.throws(
        () => new HpackDecoder().decode(hex(block)),
        (e: unknown) =>
          e instanceof H2Error && e.kind === "protocol" && e.code === 0x9 && message.test(e.message),
      );
    });
  }
});

Deno.test("writeInteger() encodes the RFC 7541 C.1 integers", () => {
  const cases: [number, number, string][] = [[10, 5, "0a"], [1337, 5, "1f9a0a"], [42, 8, "2a"]];
  for (const [value, prefix, expected] of cases) {
    const out: number[] = [];
    writeInteger(out, 0, prefix, value);
    assert.deepEqual(Uint8Array.from(out), hex(expected), `${value} with a ${prefix}-bit prefix`);
  }
});

Deno.test("encodeHeaderBlock() writes literals without indexing, new name, without Huffman (C.2.2)", () => {
  assert.deepEqual(
    encodeHeaderBlock([[":path", "/sample/path"]]),
    hex("0005 3a70 6174 680c 2f73 616d 706c 652f 7061 7468"),
  );
  assert.deepEqual(encodeHeaderBlock([["x", "a".repeat(127)]]).subarray(0, 5), hex("0001 787f 00"));
  const request: HeaderList = [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", "/rpc.CNIBackend/AddNetwork"],
    [":authority", "localhost"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
    ["grpc-timeout", "1999m"],
  ];
  const decoder = new HpackDecoder();
  assert.deepEqual(decoder.decode(encodeHeaderBlock(request)), request);
  assert.deepEqual(decoder.dynamicTable.size, 0, "the peer's table stays empty");
  assert.throws(() => encodeHeaderBlock([["x", "\u0100"]]), RangeError);
});
