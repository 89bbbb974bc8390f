/**
 * Encoders and decoders for every message of `ipamd.proto`, each built from a
 * field table. Encoding follows proto3: fields in number order, defaults left
 * out. Decoding keeps the last value of a scalar sent twice, appends repeated
 * fields, and skips unknown fields (and known ones with an unexpected wire
 * type, as protobuf-go does). Malformed bytes throw `WireFormatError`.
 *
 * @module
 */
import type {
  AddNetworkReply,
  AddNetworkRequest,
  DelNetworkReply,
  DelNetworkRequest,
  HealthCheckRequest,
  HealthCheckResponse,
  IpAllocationMetadata,
  ListAllocationsReply,
  ListAllocationsRequest,
  PodAllocation,
} from "./messages.ts";
import { WireFormatError, WireReader, WireType, WireWriter } from "./wire.ts";

/** Encodes, decodes and builds one message type. */
export interface MessageCodec<T> {
  /** Full protobuf name, e.g. "rpc.AddNetworkRequest". */
  readonly name: string;
  /** Encodes a message; throws RangeError for an int32 field out of range. */
  encode(message: T): Uint8Array;
  /** Decodes bytes; throws `WireFormatError` naming the message when they are malformed. */
  decode(bytes: Uint8Array): T;
  /** A message with the given fields and proto3 defaults for the rest. */
  create(fields?: Partial<T>): T;
}

type FieldFor<K, V> = [V] extends [string] ? { no: number; key: K; kind: "string" }
  : [V] extends [boolean] ? { no: number; key: K; kind: "bool" }
  : [V] extends [number] ? { no: number; key: K; kind: "int32" }
  : [V] extends [readonly string[]] ? { no: number; key: K; kind: "string"; repeated: true }
  : [V] extends [readonly (infer M)[]] ? { no: number; key: K; kind: "message"; codec: MessageCodec<M> }
  : never;

/** One field of message `T`: its number, property and protobuf type. */
type Field<T> = { [K in keyof T]-?: FieldFor<K, T[K]> }[keyof T];

interface AnyField {
  no: number;
  key: PropertyKey;
  kind: "string" | "bool" | "int32" | "message";
  repeated?: true;
  codec?: MessageCodec<unknown>;
}

/** Repeated message fields are the only message fields in this contract. */
function isRepeated(f: AnyField): boolean {
  return f.repeated === true || f.kind === "message";
}

function defaultOf(f: AnyField): unknown {
  if (isRepeated(f)) return [];
  return f.kind === "string" ? "" : f.kind === "bool" ? false : 0;
}

function wireTypeOf(f: AnyField): number {
  return f.kind === "string" || f.kind === "message" ? WireType.LEN : WireType.VARINT;
}

function writeValue(w: WireWriter, f: AnyField, value: unknown, message: string): void {
  w.tag(f.no, wireTypeOf(f) as WireType);
  if (f.kind === "string") w.string(value as string);
  else if (f.kind === "bool") w.uint32(1);
  else if (f.kind === "message") w.bytes((f.codec as MessageCodec<unknown>).encode(value));
  else {
    const n = value as number;
    if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
      throw new RangeError(`Cannot encode ${message}.${String(f.key)}: ${n} is not an int32`);
    }
    w.int32(n);
  }
}

function readValue(r: WireReader, f: AnyField): unknown {
  if (f.kind === "string") return r.string();
  if (f.kind === "bool") return r.bool();
  if (f.kind === "int32") return r.int32();
  return (f.codec as MessageCodec<unknown>).decode(r.bytes());
}

/** Builds the codec of one message from its field table. */
function defineMessage<T>(name: string, fieldTable: readonly Field<T>[]): MessageCodec<T> {
  const fields = ([...fieldTable] as unknown as AnyField[]).sort((a, b) => a.no - b.no);
  const byNumber = new Map(fields.map((f) => [f.no, f]));
  function create(init: Partial<T> = {}): T {
    const out: Record<PropertyKey, unknown> = {};
    for (const f of fields) out[f.key] = defaultOf(f);
    return Object.assign(out, init) as T;
  }
  function decodeFields(bytes: Uint8Array): T {
    const out = create() as Record<PropertyKey, unknown>;
    const r = new WireReader(bytes);
    while (!r.done) {
      const { fieldNumber, wireType } = r.tag();
      const f = byNumber.get(fieldNumber);
      if (f === undefined || wireType !== wireTypeOf(f)) {
        r.skip(wireType);
        continue;
      }
      const value = readValue(r, f);
      if (isRepeated(f)) (out[f.key] as unknown[]).push(value);
      else out[f.key] = value;
    }
    return out as T;
  }
  return {
    name,
    create,
    encode(message: T): Uint8Array {
      const w = new WireWriter();
      const record = message as Record<PropertyKey, unknown>;
      for (const f of fields) {
        const value = record[f.key];
        if (isRepeated(f)) {
          for (const item of (value ?? []) as unknown[]) writeValue(w, f, item, name);
        } else if (value !== undefined && value !== defaultOf(f)) {
          writeValue(w, f, value, name);
        }
      }
      return w.finish();
    },
    decode(bytes: Uint8Array): T {
      try {
        return decodeFields(bytes);
      } catch (cause) {
        if (!(cause instanceof WireFormatError)) throw cause;
        throw new WireFormatError(`Cannot decode "${name}": ${cause.message}`, { cause });
      }
    },
  };
}

/** rpc.IPAllocationMetadata */
export const ipAllocationMetadataCodec: MessageCodec<IpAllocationMetadata> = defineMessage<
  IpAllocationMetadata
>("rpc.IPAllocationMetadata", [
  { no: 1, key: "ipv4Addr", kind: "string" },
  { no: 2, key: "ipv6Addr", kind: "string" },
  { no: 3, key: "deviceNumber", kind: "int32" },
  { no: 4, key: "routeTableId", kind: "int32" },
]);

/** rpc.AddNetworkRequest */
export const addNetworkRequestCodec: MessageCodec<AddNetworkRequest> = defineMessage<AddNetworkRequest>(
  "rpc.AddNetworkRequest",
  [
    { no: 1, key: "podName", kind: "string" },
    { no: 2, key: "podNamespace", kind: "string" },
    { no: 3, key: "podInfraContainerId", kind: "string" },
    { no: 4, key: "netns", kind: "string" },
    { no: 5, key: "ifName", kind: "string" },
    { no: 6, key: "networkName", kind: "string" },
    { no: 7, key: "containerId", kind: "string" },
    { no: 8, key: "clientVersion", kind: "string" },
    { no: 9, key: "requiresMultiNicAttachment", kind: "bool" },
  ],
);

/** rpc.AddNetworkReply */
export const addNetworkReplyCodec: MessageCodec<AddNetworkReply> = defineMessage<AddNetworkReply>(
  "rpc.AddNetworkReply",
  [
    { no: 1, key: "success", kind: "bool" },
    { no: 2, key: "ipAllocations", kind: "message", codec: ipAllocationMetadataCodec },
    { no: 5, key: "useExternalSnat", kind: "bool" },
    { no: 6, key: "vpcV4Cidrs", kind: "string", repeated: true },
    { no: 7, key: "podVlanId", kind: "int32" },
    { no: 8, key: "podEniMac", kind: "string" },
    { no: 9, key: "podEniSubnetGw", kind: "string" },
    { no: 10, key: "parentIfIndex", kind: "int32" },
    { no: 12, key: "vpcV6Cidrs", kind: "string", repeated: true },
    { no: 13, key: "networkPolicyMode", kind: "string" },
  ],
);

/** rpc.DelNetworkRequest */
export const delNetworkRequestCodec: MessageCodec<DelNetworkRequest> = defineMessage<DelNetworkRequest>(
  "rpc.DelNetworkRequest",
  [
    { no: 1, key: "podName", kind: "string" },
    { no: 2, key: "podNamespace", kind: "string" },
    { no: 3, key: "podInfraContainerId", kind: "string" },
    { no: 5, key: "reason", kind: "string" },
    { no: 6, key: "ifName", kind: "string" },
    { no: 7, key: "networkName", kind: "string" },
    { no: 8, key: "containerId", kind: "string" },
    { no: 9, key: "clientVersion", kind: "string" },
    { no: 10, key: "podUid", kind: "string" },
  ],
);

/** rpc.DelNetworkReply */
export const delNetworkReplyCodec: MessageCodec<DelNetworkReply> = defineMessage<DelNetworkReply>(
  "rpc.DelNetworkReply",
  [
    { no: 1, key: "success", kind: "bool" },
    { no: 2, key: "ipAllocations", kind: "message", codec: ipAllocationMetadataCodec },
    { no: 4, key: "podVlanId", kind: "int32" },
    { no: 6, key: "networkPolicyMode", kind: "string" },
  ],
);

/** rpc.ListAllocationsRequest */
export const listAllocationsRequestCodec: MessageCodec<ListAllocationsRequest> = defineMessage<
  ListAllocationsRequest
>("rpc.ListAllocationsRequest", [{ no: 1, key: "networkName", kind: "string" }]);

/** rpc.PodAllocation */
export const podAllocationCodec: MessageCodec<PodAllocation> = defineMessage<PodAllocation>(
  "rpc.PodAllocation",
  [
    { no: 1, key: "containerId", kind: "string" },
    { no: 2, key: "ifName", kind: "string" },
    { no: 3, key: "networkName", kind: "string" },
    { no: 4, key: "ipv4Addr", kind: "string" },
  ],
);

/** rpc.ListAllocationsReply */
export const listAllocationsReplyCodec: MessageCodec<ListAllocationsReply> = defineMessage<
  ListAllocationsReply
>(
  "rpc.ListAllocationsReply",
  [{ no: 1, key: "allocations", kind: "message", codec: podAllocationCodec }],
);

/** grpc.health.v1.HealthCheckRequest */
export const healthCheckRequestCodec: MessageCodec<HealthCheckRequest> = defineMessage<HealthCheckRequest>(
  "grpc.health.v1.HealthCheckRequest",
  [{ no: 1, key: "service", kind: "string" }],
);

/** grpc.health.v1.HealthCheckResponse (the enum travels as an int32 varint). */
export const healthCheckResponseCodec: MessageCodec<HealthCheckResponse> = defineMessage<
  HealthCheckResponse
>("grpc.health.v1.HealthCheckResponse", [{ no: 1, key: "status", kind: "int32" }]);
