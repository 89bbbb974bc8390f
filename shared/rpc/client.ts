/**
 * The plugin's client for ipamd: a minimal gRPC client over `node:http2` on
 * the Unix socket (unary calls only, no compression). It costs less to load
 * than grpc-js, which matters because kubelet starts the plugin once per pod;
 * `node:http2` is only loaded on the first call. Every call has a deadline.
 * Failures surface as `RpcCallError` with a gRPC status code.
 *
 * @module
 */
import type * as http2 from "node:http2";
import {
  addNetworkReplyCodec,
  addNetworkRequestCodec,
  delNetworkReplyCodec,
  delNetworkRequestCodec,
  healthCheckRequestCodec,
  healthCheckResponseCodec,
  type MessageCodec,
} from "./codec.ts";
import {
  type AddNetworkReply,
  type AddNetworkRequest,
  type DelNetworkReply,
  type DelNetworkRequest,
  RpcPath,
  type ServingStatus,
} from "./messages.ts";
import { parseStatus, RpcCallError, Status } from "./status.ts";
import { WireFormatError } from "./wire.ts";

/** Per-call options. */
export interface CallOptions {
  /** How long the call may take, in milliseconds from now, connecting included. */
  readonly deadlineMs: number;
}

/** Replies larger than this are refused; real ones are a few hundred bytes. */
const MAX_REPLY_BYTES = 1024 * 1024;
/** grpc-timeout allows at most 8 digits. */
const MAX_TIMEOUT_MS = 99_999_999;

/** HTTP/2 RST_STREAM codes to gRPC statuses (gRPC's PROTOCOL-HTTP2 mapping); others are INTERNAL. */
const STATUS_BY_RST_CODE: ReadonlyMap<number, Status> = new Map([
  [0x7, Status.UNAVAILABLE], // REFUSED_STREAM
  [0x8, Status.CANCELLED], // CANCEL
  [0xb, Status.RESOURCE_EXHAUSTED], // ENHANCE_YOUR_CALM
  [0xc, Status.PERMISSION_DENIED], // INADEQUATE_SECURITY
]);

/** HTTP statuses other than 200 to gRPC statuses; others are UNKNOWN. */
const STATUS_BY_HTTP_STATUS: ReadonlyMap<number, Status> = new Map([
  [400, Status.INTERNAL],
  [401, Status.UNAUTHENTICATED],
  [403, Status.PERMISSION_DENIED],
  [404, Status.UNIMPLEMENTED],
  [429, Status.UNAVAILABLE],
  [502, Status.UNAVAILABLE],
  [503, Status.UNAVAILABLE],
  [504, Status.UNAVAILABLE],
]);

/** A gRPC client of ipamd over one Unix-socket HTTP/2 connection, opened on the first call. */
export class IpamdClient {
  readonly #socketPath: string;
  #session: http2.ClientHttp2Session | undefined;
  #connecting: Promise<http2.ClientHttp2Session> | undefined;
  #closed = false;

  /** No I/O happens until the first call. */
  constructor(socketPath: string) {
    this.#socketPath = socketPath;
  }

  /** Calls `rpc.CNIBackend/AddNetwork`. */
  addNetwork(request: AddNetworkRequest, options: CallOptions): Promise<AddNetworkReply> {
    return this.#unary(RpcPath.ADD_NETWORK, addNetworkRequestCodec, addNetworkReplyCodec, request, options);
  }

  /** Calls `rpc.CNIBackend/DelNetwork`. */
  delNetwork(request: DelNetworkRequest, options: CallOptions): Promise<DelNetworkReply> {
    return this.#unary(RpcPath.DEL_NETWORK, delNetworkRequestCodec, delNetworkReplyCodec, request, options);
  }

  /** Calls `grpc.health.v1.Health/Check` for `service` ("" = the whole server). */
  async healthCheck(options: CallOptions & { readonly service?: string }): Promise<ServingStatus> {
    const request = { service: options.service ?? "" };
    const reply = await this.#unary(
      RpcPath.HEALTH_CHECK,
      healthCheckRequestCodec,
      healthCheckResponseCodec,
      request,
      options,
    );
    return reply.status;
  }

  /** Closes the connection after in-flight calls end; later calls fail with CANCELLED. */
  async close(): Promise<void> {
    this.#closed = true;
    const session = this.#session;
    this.#session = undefined;
    if (session === undefined || session.destroyed) return;
    const closed = new Promise<void>((resolve) => session.once("close", resolve));
    session.close();
    await closed;
  }

  /** The open session, or a new one; concurrent first calls share one connection. */
  #connect(): Promise<http2.ClientHttp2Session> {
    const current = this.#session;
    if (current !== undefined && !current.closed && !current.destroyed) return Promise.resolve(current);
    this.#connecting ??= this.#open().finally(() => this.#connecting = undefined);
    return this.#connecting;
  }

  async #open(): Promise<http2.ClientHttp2Session> {
    const [{ connect }, net] = await Promise.all([import("node:http2"), import("node:net")]);
    if (this.#closed) throw new RpcCallError(Status.CANCELLED, "Client is closed");
    const session = connect("http://localhost", { createConnection: () => net.connect(this.#socketPath) });
    // Errors also reach the streams; this listener only keeps them from being unhandled.
    session.on("error", () => {});
    // No new stream may start after a GOAWAY, so the next call opens a new connection.
    session.once("goaway", () => {
      if (this.#session === session) this.#session = undefined;
    });
    this.#session = session;
    return session;
  }

  async #unary<Req, Res>(
    path: string,
    requestCodec: MessageCodec<Req>,
    replyCodec: MessageCodec<Res>,
    request: Req,
    options: CallOptions,
  ): Promise<Res> {
    const { deadlineMs } = options;
    if (!Number.isFinite(deadlineMs) || deadlineMs <= 0) {
      throw new RangeError(`Cannot call "${path}": deadlineMs must be a positive number, got ${deadlineMs}`);
    }
    if (this.#closed) throw new RpcCallError(Status.CANCELLED, "Client is closed");
    const deadlineAt = Date.now() + deadlineMs;
    const session = await this.#connect();
    const remainingMs = Math.max(1, Math.min(MAX_TIMEOUT_MS, Math.ceil(deadlineAt - Date.now())));
    const payload = await exchange(session, path, frame(requestCodec.encode(request)), remainingMs);
    try {
      return replyCodec.decode(unframe(payload, replyCodec.name));
    } catch (error) {
      if (!(error instanceof WireFormatError)) throw error;
      throw new RpcCallError(Status.INTERNAL, error.message, { cause: error });
    }
  }
}

/** Sends one framed request on a new stream; resolves with the reply bytes or rejects with `RpcCallError`. */
function exchange(
  session: http2.ClientHttp2Session,
  path: string,
  body: Uint8Array,
  timeoutMs: number,
): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        "te": "trailers",
        "grpc-timeout": `${timeoutMs}m`,
      });
    } catch (error) {
      // The session is going away (GOAWAY) or already destroyed.
      return reject(transportFailure(undefined, session, error ?? new Error("request failed")));
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    let status: RpcCallError | null | undefined; // null = OK
    let failure: unknown;
    const timer = setTimeout(() => {
      status ??= new RpcCallError(Status.DEADLINE_EXCEEDED, `Deadline exceeded after ${timeoutMs} ms`);
      stream.close(0x8); // CANCEL
    }, timeoutMs);
    const readStatus = (headers: http2.IncomingHttpHeaders): void => {
      const code = headers["grpc-status"];
      if (code === undefined || status !== undefined) return;
      const codeText = Array.isArray(code) ? code[0] : code;
      const parsed = parseStatus(codeText);
      status = parsed === Status.OK ? null : new RpcCallError(parsed, grpcMessage(headers["grpc-message"]));
    };
    stream.on("response", (headers) => {
      const httpStatus = Number(headers[":status"]);
      if (httpStatus !== 200) {
        status ??= new RpcCallError(
          STATUS_BY_HTTP_STATUS.get(httpStatus) ?? Status.UNKNOWN,
          `Unexpected HTTP status ${httpStatus}`,
        );
      } else if (!String(headers["content-type"] ?? "").startsWith("application/grpc")) {
        status ??= new RpcCallError(Status.UNKNOWN, `Unexpected content-type "${headers["content-type"]}"`);
      }
      readStatus(headers);
    });
    stream.on("trailers", readStatus);
    stream.on("data", (chunk: Uint8Array) => {
      size += chunk.length;
      if (size > MAX_REPLY_BYTES) {
        status ??= new RpcCallError(
          Status.RESOURCE_EXHAUSTED,
          `Reply larger than ${MAX_REPLY_BYTES} bytes`,
        );
        stream.close(0x8);
        return;
      }
      chunks.push(chunk);
    });
    stream.on("error", (error: unknown) => void (failure ??= error));
    stream.on("close", () => {
      clearTimeout(timer);
      if (status === null) resolve(concat(chunks, size));
      else reject(status ?? transportFailure(stream, session, failure));
    });
    stream.end(body);
  });
}

/**
 * The status of a call that ended without grpc-status. A reset from the server
 * maps through `STATUS_BY_RST_CODE`; a failed or lost connection is UNAVAILABLE.
 */
function transportFailure(
  stream: http2.ClientHttp2Stream | undefined,
  session: http2.ClientHttp2Session,
  error: unknown,
): RpcCallError {
  const options = { cause: error };
  const errorCode = (error as { code?: unknown } | undefined)?.code;
  if (errorCode === "ERR_HTTP2_STREAM_ERROR") {
    const rstCode = stream?.rstCode ?? -1;
    const code = STATUS_BY_RST_CODE.get(rstCode) ?? Status.INTERNAL;
    return new RpcCallError(code, `Stream reset by ipamd (HTTP/2 code ${rstCode})`, options);
  }
  if (error !== undefined || session.destroyed || session.closed) {
    const reason = error instanceof Error ? error.message : "connection closed";
    return new RpcCallError(Status.UNAVAILABLE, `Cannot reach ipamd: ${reason}`, options);
  }
  return new RpcCallError(Status.UNKNOWN, "Stream ended without a gRPC status");
}

/** gRPC's 5-byte prefix: flag 0 (uncompressed) and a big-endian length. */
function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/** The single message of a unary reply; anything else is INTERNAL. */
function unframe(payload: Uint8Array, name: string): Uint8Array {
  const fail = (why: string): never => {
    throw new RpcCallError(Status.INTERNAL, `Cannot read "${name}" reply: ${why}`);
  };
  if (payload.length < 5) fail(`${payload.length} bytes is not a message`);
  if (payload[0] !== 0) fail("compressed or flagged messages are not supported");
  const length = new DataView(payload.buffer, payload.byteOffset).getUint32(1);
  if (payload.length !== 5 + length) {
    fail(`expected one message of ${length} bytes, got ${payload.length - 5}`);
  }
  return payload.subarray(5);
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** grpc-message is percent-encoded UTF-8. */
function grpcMessage(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(",") : value ?? "";
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export { RpcCallError, Status };
