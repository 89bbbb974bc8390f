import assert from "node:assert/strict";
import { WireType, WireWriter } from "../../shared/rpc/wire.ts";
import {
  decodePodSandboxStatusResponse,
  decodeRunPodSandboxResponse,
  decodeVersionResponse,
  encodeRunPodSandboxRequest,
  encodeSandboxRequest,
} from "./messages.ts";

const bytes = (...values: (number | string)[]) =>
  new Uint8Array(values.flatMap((v) => typeof v === "string" ? [...new TextEncoder().encode(v)] : [v]));

Deno.test("encodeSandboxRequest() writes pod_sandbox_id = 1 and verbose = 2", () => {
  assert.deepEqual(encodeSandboxRequest("abc"), bytes(0x0a, 3, "abc"));
  assert.deepEqual(encodeSandboxRequest("abc", true), bytes(0x0a, 3, "abc", 0x10, 1));
});

Deno.test("encodeRunPodSandboxRequest() nests metadata, labels and linux under config = 1", () => {
  const encoded = encodeRunPodSandboxRequest({
    metadata: { name: "p", uid: "u", namespace: "n", attempt: 0 },
    hostname: "h",
    logDirectory: "",
    labels: { a: "b" },
    cgroupParent: "/c",
  });
  const metadata = bytes(0x0a, 1, "p", 0x12, 1, "u", 0x1a, 1, "n");
  const label = bytes(0x0a, 1, "a", 0x12, 1, "b");
  const linux = bytes(0x0a, 2, "/c", 0x12, 2, 0x0a, 0);
  const config = bytes(
    0x0a,
    metadata.length,
    ...metadata,
    0x12,
    1,
    "h",
    0x32,
    label.length,
    ...label,
    0x42,
    linux.length,
    ...linux,
  );
  assert.deepEqual(encoded, bytes(0x0a, config.length, ...config));
});

Deno.test("the decoders read the fields the tests use and skip the rest", () => {
  assert.deepEqual(
    decodeVersionResponse(bytes(0x0a, 2, "v1", 0x12, 10, "containerd", 0x1a, 1, "1", 0x22, 2, "v1", 0x28, 7)),
    { version: "v1", runtimeName: "containerd", runtimeVersion: "1", runtimeApiVersion: "v1" },
  );
  assert.equal(decodeRunPodSandboxResponse(bytes(0x0a, 2, "id", 0x10, 1)), "id");
  const status = new WireWriter()
    .tag(1, WireType.LEN).bytes(
      new WireWriter().tag(1, WireType.LEN).string("sb").tag(3, WireType.VARINT).uint32(1)
        .tag(4, WireType.VARINT).varint64(0, 7)
        .tag(5, WireType.LEN).bytes(new WireWriter().tag(1, WireType.LEN).string("10.0.0.9").finish())
        .finish(),
    )
    .tag(2, WireType.LEN).bytes(
      new WireWriter().tag(1, WireType.LEN).string("info").tag(2, WireType.LEN).string("{}").finish(),
    )
    .tag(4, WireType.VARINT).uint32(5)
    .finish();
  assert.deepEqual(decodePodSandboxStatusResponse(status), {
    id: "sb",
    state: 1,
    ip: "10.0.0.9",
    info: { info: "{}" },
  });
});
