/**
 * The few CRI `runtime.v1` messages kubelet sends to run and remove a pod
 * sandbox, hand-encoded with shared/rpc/wire.ts (field numbers from
 * kubernetes/cri-api `pkg/apis/runtime/v1/api.proto`). Decoding keeps only the
 * fields the tests read and skips the rest.
 *
 * @module
 */
import { WireReader, WireType, WireWriter } from "../../shared/rpc/wire.ts";

/** `PodSandboxMetadata`. */
export interface PodSandboxMetadata {
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
  readonly attempt: number;
}

/** The parts of `PodSandboxConfig` kubelet always fills for a pod with its own network. */
export interface PodSandboxConfig {
  readonly metadata: PodSandboxMetadata;
  readonly hostname: string;
  readonly logDirectory: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `linux.cgroup_parent`. */
  readonly cgroupParent: string;
}

/** `VersionResponse`. */
export interface VersionResponse {
  readonly version: string;
  readonly runtimeName: string;
  readonly runtimeVersion: string;
  readonly runtimeApiVersion: string;
}

/** `PodSandboxState`. */
export const SANDBOX_READY = 0;

/** `PodSandboxStatusResponse`: the status fields the tests use, and `info` (verbose). */
export interface PodSandboxStatus {
  readonly id: string;
  readonly state: number;
  /** `network.ip`, "" when the runtime reports none. */
  readonly ip: string;
  readonly info: Readonly<Record<string, string>>;
}

type Write = (w: WireWriter) => void;

function message(write: Write): Uint8Array {
  const w = new WireWriter();
  write(w);
  return w.finish();
}

function str(w: WireWriter, no: number, value: string): void {
  if (value !== "") w.tag(no, WireType.LEN).string(value);
}

function sub(w: WireWriter, no: number, write: Write): void {
  w.tag(no, WireType.LEN).bytes(message(write));
}

function map(w: WireWriter, no: number, entries: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(entries)) {
    sub(w, no, (e) => (str(e, 1, key), str(e, 2, value)));
  }
}

/** `VersionRequest { version = 1 }`. */
export function encodeVersionRequest(version: string): Uint8Array {
  return message((w) => str(w, 1, version));
}

/** `RunPodSandboxRequest { config = 1 }`: a pod in its own network, PID and IPC namespaces (all POD = 0). */
export function encodeRunPodSandboxRequest(config: PodSandboxConfig): Uint8Array {
  return message((w) =>
    sub(w, 1, (c) => {
      sub(c, 1, (m) => {
        str(m, 1, config.metadata.name);
        str(m, 2, config.metadata.uid);
        str(m, 3, config.metadata.namespace);
        if (config.metadata.attempt !== 0) m.tag(4, WireType.VARINT).uint32(config.metadata.attempt);
      });
      str(c, 2, config.hostname);
      str(c, 3, config.logDirectory);
      map(c, 6, config.labels);
      // linux { cgroup_parent = 1; security_context = 2 { namespace_options = 1 {} } }
      sub(c, 8, (l) => {
        str(l, 1, config.cgroupParent);
        sub(l, 2, (s) => sub(s, 1, () => {}));
      });
    })
  );
}

/** A request that is only `pod_sandbox_id = 1` (Stop, Remove), or Status with `verbose = 2`. */
export function encodeSandboxRequest(id: string, verbose = false): Uint8Array {
  return message((w) => {
    str(w, 1, id);
    if (verbose) w.tag(2, WireType.VARINT).uint32(1);
  });
}

/** Calls `each` for every field of a message, with a reader positioned on its value. */
function fields(bytes: Uint8Array, each: (no: number, wireType: number, r: WireReader) => void): void {
  const r = new WireReader(bytes);
  while (!r.done) {
    const { fieldNumber, wireType } = r.tag();
    each(fieldNumber, wireType, r);
  }
}

/** Reads a string field, or skips a field of another wire type. */
function readString(wireType: number, r: WireReader): string | undefined {
  if (wireType === WireType.LEN) return r.string();
  r.skip(wireType);
  return undefined;
}

/** `VersionResponse`. */
export function decodeVersionResponse(bytes: Uint8Array): VersionResponse {
  const out = { version: "", runtimeName: "", runtimeVersion: "", runtimeApiVersion: "" };
  const keys = ["", "version", "runtimeName", "runtimeVersion", "runtimeApiVersion"] as const;
  fields(bytes, (no, wireType, r) => {
    const key = keys[no];
    const value = key === undefined || key === "" ? (r.skip(wireType), undefined) : readString(wireType, r);
    if (key !== undefined && key !== "" && value !== undefined) out[key] = value;
  });
  return out;
}

/** `RunPodSandboxResponse { pod_sandbox_id = 1 }`. */
export function decodeRunPodSandboxResponse(bytes: Uint8Array): string {
  let id = "";
  fields(bytes, (no, wireType, r) => {
    const value = no === 1 ? readString(wireType, r) : (r.skip(wireType), undefined);
    if (value !== undefined) id = value;
  });
  return id;
}

/** `PodSandboxStatusResponse { status = 1 { id = 1, state = 3, network = 5 { ip = 1 } }, info = 2 }`. */
export function decodePodSandboxStatusResponse(bytes: Uint8Array): PodSandboxStatus {
  let id = "";
  let state = 0;
  let ip = "";
  const info: Record<string, string> = {};
  fields(bytes, (no, wireType, r) => {
    if (wireType !== WireType.LEN) return r.skip(wireType);
    const value = r.bytes();
    if (no === 1) {
      fields(value, (sno, swt, sr) => {
        if (sno === 1) id = readString(swt, sr) ?? id;
        else if (sno === 3 && swt === WireType.VARINT) state = sr.int32();
        else if (sno === 5 && swt === WireType.LEN) {
          fields(sr.bytes(), (nno, nwt, nr) => {
            const text = nno === 1 ? readString(nwt, nr) : (nr.skip(nwt), undefined);
            if (text !== undefined) ip = text;
          });
        } else sr.skip(swt);
      });
    } else if (no === 2) {
      let key = "";
      let text = "";
      fields(value, (eno, ewt, er) => {
        const s = eno === 1 || eno === 2 ? readString(ewt, er) : (er.skip(ewt), undefined);
        if (eno === 1) key = s ?? key;
        else if (eno === 2) text = s ?? text;
      });
      info[key] = text;
    }
  });
  return { id, state, ip, info };
}
