import assert from "node:assert/strict";
import {
  addNetworkReplyCodec,
  addNetworkRequestCodec,
  delNetworkReplyCodec,
  delNetworkRequestCodec,
  healthCheckRequestCodec,
  healthCheckResponseCodec,
  ipAllocationMetadataCodec,
  listAllocationsReplyCodec,
  listAllocationsRequestCodec,
  type MessageCodec,
} from "./codec.ts";
import { WireFormatError } from "./wire.ts";

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

// Hand-computed: key = (field number << 3) | wire type; LEN fields carry a length byte.
const ADD_REQUEST = addNetworkRequestCodec.create({
  podName: "p",
  podNamespace: "ns",
  ifName: "eth0",
  containerId: "c",
  clientVersion: "v1",
  requiresMultiNicAttachment: true,
});
const ADD_REQUEST_BYTES = bytes(
  ...[0x0a, 0x01, ...ascii("p")], // 1 podName
  ...[0x12, 0x02, ...ascii("ns")], // 2 podNamespace
  ...[0x2a, 0x04, ...ascii("eth0")], // 5 ifName
  ...[0x3a, 0x01, ...ascii("c")], // 7 containerId
  ...[0x42, 0x02, ...ascii("v1")], // 8 clientVersion
  ...[0x48, 0x01], // 9 requiresMultiNicAttachment
);

const ADD_REPLY = addNetworkReplyCodec.create({
  success: true,
  ipAllocations: [{ ipv4Addr: "10.0.0.5", ipv6Addr: "", deviceNumber: 1, routeTableId: 254 }],
  vpcV4Cidrs: ["10.0.0.0/16"],
  parentIfIndex: -1,
  networkPolicyMode: "strict",
});
const ADD_REPLY_BYTES = bytes(
  ...[0x08, 0x01], // 1 success
  ...[0x12, 0x0f], // 2 ipAllocations, 15 bytes:
  ...[0x0a, 0x08, ...ascii("10.0.0.5")], //   1 ipv4Addr
  ...[0x18, 0x01], //   3 deviceNumber
  ...[0x20, 0xfe, 0x01], //   4 routeTableId 254
  ...[0x32, 0x0b, ...ascii("10.0.0.0/16")], // 6 vpcV4Cidrs
  ...[0x50, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // 10 parentIfIndex -1
  ...[0x6a, 0x06, ...ascii("strict")], // 13 networkPolicyMode
);

const DEL_REQUEST = delNetworkRequestCodec.create({ reason: "PodDeleted", podUid: "u", clientVersion: "v" });
const DEL_REQUEST_BYTES = bytes(
  ...[0x2a, 0x0a, ...ascii("PodDeleted")], // 5 reason
  ...[0x4a, 0x01, ...ascii("v")], // 9 clientVersion
  ...[0x52, 0x01, ...ascii("u")], // 10 podUid
);

const DEL_REPLY = delNetworkReplyCodec.create({
  success: true,
  ipAllocations: [ipAllocationMetadataCodec.create()],
});
const DEL_REPLY_BYTES = bytes(0x08, 0x01, 0x12, 0x00); // an empty sub-message is still sent

const LIST_REPLY = listAllocationsReplyCodec.create({
  allocations: [{ containerId: "c", ifName: "eth0", networkName: "n", ipv4Addr: "10.0.0.5" }],
});
const LIST_REPLY_BYTES = bytes(
  ...[0x0a, 0x16], // 1 allocations, 22 bytes:
  ...[0x0a, 0x01, ...ascii("c")], //   1 containerId
  ...[0x12, 0x04, ...ascii("eth0")], //   2 ifName
  ...[0x1a, 0x01, ...ascii("n")], //   3 networkName
  ...[0x22, 0x08, ...ascii("10.0.0.5")], //   4 ipv4Addr
);

Deno.test("codecs encode and decode hand-computed byte vectors", async (t) => {
  const cases: [MessageCodec<unknown>, unknown, Uint8Array][] = [
    [addNetworkRequestCodec as MessageCodec<unknown>, ADD_REQUEST, ADD_REQUEST_BYTES],
    [addNetworkReplyCodec as MessageCodec<unknown>, ADD_REPLY, ADD_REPLY_BYTES],
    [delNetworkRequestCodec as MessageCodec<unknown>, DEL_REQUEST, DEL_REQUEST_BYTES],
    [delNetworkReplyCodec as MessageCodec<unknown>, DEL_REPLY, DEL_REPLY_BYTES],
    [healthCheckRequestCodec as MessageCodec<unknown>, { service: "x" }, bytes(0x0a, 0x01, 0x78)],
    [healthCheckResponseCodec as MessageCodec<unknown>, { status: 2 }, bytes(0x08, 0x02)],
    [listAllocationsRequestCodec as MessageCodec<unknown>, { networkName: "n" }, bytes(0x0a, 0x01, 0x6e)],
    [listAllocationsReplyCodec as MessageCodec<unknown>, LIST_REPLY, LIST_REPLY_BYTES],
  ];
  for (const [codec, message, encoded] of cases) {
    await t.step(codec.name, () => {
      assert.deepEqual(codec.encode(message), encoded);
      assert.deepEqual(codec.decode(encoded), message);
    });
  }
});

Deno.test("codecs encode an all-default message as no bytes and decode no bytes as defaults", () => {
  assert.deepEqual(addNetworkReplyCodec.encode(addNetworkReplyCodec.create()), bytes());
  assert.deepEqual(addNetworkReplyCodec.decode(bytes()), {
    success: false,
    ipAllocations: [],
    useExternalSnat: false,
    vpcV4Cidrs: [],
    podVlanId: 0,
    podEniMac: "",
    podEniSubnetGw: "",
    parentIfIndex: 0,
    vpcV6Cidrs: [],
    networkPolicyMode: "",
  });
});

Deno.test("codecs round-trip messages with every field set", async (t) => {
  const allocation = { ipv4Addr: "10.1.2.3", ipv6Addr: "2001:db8::1", deviceNumber: 2, routeTableId: 3 };
  const cases: [MessageCodec<unknown>, unknown][] = [
    [addNetworkRequestCodec as MessageCodec<unknown>, {
      clientVersion: "v1.23.1",
      podName: "web-0",
      podNamespace: "default",
      podInfraContainerId: "infra",
      netns: "/var/run/netns/cni-1",
      ifName: "eth0",
      networkName: "aws-cni",
      containerId: "0123abcd",
      requiresMultiNicAttachment: true,
    }],
    [addNetworkReplyCodec as MessageCodec<unknown>, {
      success: true,
      ipAllocations: [allocation, { ...allocation, ipv4Addr: "", deviceNumber: -0x80000000 }],
      useExternalSnat: true,
      vpcV4Cidrs: ["10.0.0.0/16", "", "100.64.0.0/10"],
      podVlanId: 0x7fffffff,
      podEniMac: "0a:1b:2c:3d:4e:5f",
      podEniSubnetGw: "10.0.0.1",
      parentIfIndex: 7,
      vpcV6Cidrs: ["2001:db8::/56"],
      networkPolicyMode: "standard \u00fc\u{1f600}",
    }],
    [delNetworkRequestCodec as MessageCodec<unknown>, {
      podName: "web-0",
      podNamespace: "default",
      podInfraContainerId: "infra",
      reason: "SetupNSFailed",
      ifName: "eth0",
      networkName: "aws-cni",
      containerId: "0123abcd",
      clientVersion: "v1",
      podUid: "uid-1",
    }],
    [delNetworkReplyCodec as MessageCodec<unknown>, {
      success: true,
      ipAllocations: [allocation],
      podVlanId: 12,
      networkPolicyMode: "none",
    }],
  ];
  for (const [codec, message] of cases) {
    await t.step(codec.name, () => assert.deepEqual(codec.decode(codec.encode(message)), message));
  }
});

Deno.test("codecs skip unknown fields of every wire type and known fields with the wrong wire type", () => {
  const unknown = [
    ...[0x78, 0x96, 0x01], // 15 varint 150
    ...[0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8], // 16 fixed64
    ...[0x8a, 0x01, 0x02, 0xaa, 0xbb], // 17 length-delimited
    ...[0x95, 0x01, 1, 2, 3, 4], // 18 fixed32
    ...[0x08, 0x05], // 1 podName sent as a varint
  ];
  const decoded = addNetworkRequestCodec.decode(bytes(...unknown, ...ADD_REQUEST_BYTES, ...unknown));
  assert.deepEqual(decoded, ADD_REQUEST);
});

Deno.test("codecs keep the last value of a scalar field sent twice and append repeated fields", () => {
  const decoded = addNetworkReplyCodec.decode(
    bytes(0x38, 0x01, 0x32, 0x01, 0x61, 0x38, 0x02, 0x32, 0x01, 0x62, 0x12, 0x00, 0x12, 0x00),
  );
  assert.equal(decoded.podVlanId, 2);
  assert.deepEqual(decoded.vpcV4Cidrs, ["a", "b"]);
  assert.equal(decoded.ipAllocations.length, 2);
});

Deno.test("codecs throw WireFormatError naming the message for malformed bytes", async (t) => {
  const cases: [string, MessageCodec<unknown>, number[], RegExp][] = [
    ["truncated value", addNetworkRequestCodec as MessageCodec<unknown>, [0x48], /Truncated varint/],
    [
      "length past the end",
      addNetworkRequestCodec as MessageCodec<unknown>,
      [0x0a, 0x05, 0x61],
      /past the end/,
    ],
    ["group", addNetworkRequestCodec as MessageCodec<unknown>, [0x0b], /Cannot skip wire type 3/],
    ["invalid UTF-8", delNetworkRequestCodec as MessageCodec<unknown>, [0x2a, 0x01, 0xc3], /Invalid UTF-8/],
    [
      "malformed sub-message",
      addNetworkReplyCodec as MessageCodec<unknown>,
      [0x12, 0x02, 0x0a, 0x05],
      /"rpc\.AddNetworkReply": Cannot decode "rpc\.IPAllocationMetadata": Length 5/,
    ],
    ["field 0", healthCheckResponseCodec as MessageCodec<unknown>, [0x00, 0x00], /Invalid field number 0/],
  ];
  for (const [name, codec, input, message] of cases) {
    await t.step(name, () => {
      assert.throws(() => codec.decode(bytes(...input)), (e: unknown) => {
        assert.ok(e instanceof WireFormatError);
        assert.match(e.message, new RegExp(`^Cannot decode "${codec.name.replaceAll(".", "\\.")}": `));
        assert.match(e.message, message);
        return true;
      });
    });
  }
});

Deno.test("codecs refuse to encode int32 fields out of range", () => {
  for (const bad of [2 ** 31, -(2 ** 31) - 1, 1.5, Number.NaN]) {
    assert.throws(
      () => ipAllocationMetadataCodec.encode(ipAllocationMetadataCodec.create({ deviceNumber: bad })),
      /Cannot encode rpc\.IPAllocationMetadata\.deviceNumber/,
    );
  }
});

Deno.test("codecs decode or throw WireFormatError for any bytes, never anything else", () => {
  let seed = 42;
  const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  const codecs = [addNetworkRequestCodec, addNetworkReplyCodec, delNetworkReplyCodec] as MessageCodec<
    unknown
  >[];
  const valid = [ADD_REQUEST_BYTES, ADD_REPLY_BYTES, DEL_REPLY_BYTES];
  const inputs: Uint8Array[] = [];
  for (const v of valid) for (let i = 0; i < v.length; i++) inputs.push(v.subarray(0, i));
  for (let i = 0; i < 3000; i++) {
    inputs.push(Uint8Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
  }
  let decoded = 0;
  for (const input of inputs) {
    for (const codec of codecs) {
      try {
        codec.decode(input);
        decoded++;
      } catch (e) {
        if (!(e instanceof WireFormatError)) throw e;
      }
    }
  }
  assert.ok(decoded > 0 && decoded < inputs.length * codecs.length);
});
