/**
 * The plugin's client for ipamd: gRPC unary calls over our own small HTTP/2
 * client (`./h2/`) on the Unix socket, using only Deno APIs (`node:http2` and
 * `node:net` cost about 95 ms per plugin run). One connection, opened on the
 * first call and opened again after it fails; calls run one at a time, in
 * order. Every call has a deadline, which counts from the call (waiting for
 * earlier calls included), and failures surface as `RpcCallError` with a gRPC
 * status.
 *
 * @module
 */
import {
  type AddNetworkReply,
  addNetworkReplyCodec,
  type AddNetworkRequest,
  addNetworkRequestCodec,
  type DelNetworkReply,
  delNetworkReplyCodec,
  type DelNetworkRequest,
  delNetworkRequestCodec,
  healthCheckRequestCodec,
  healthCheckResponseCodec,
  type ListAllocationsReply,
  listAllocationsReplyCodec,
  listAllocationsRequestCodec,
  type MessageCodec,
  parseStatus,
  RpcCallError,
  RpcPath,
  type ServingStatus,
  Status,
  WireFormatError,
} from "../../shared/rpc/mod.ts";
import { H2Error, type H2Response, H2Session, type HeaderList, headerValue } from "./h2/mod.ts";

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
export class IpamdClient implements AsyncDisposable {
  readonly #socketPath: string;
  #session: H2Session | undefined;
  /** Settles when the last call queued so far has ended; never rejects. */
  #turn: Promise<void> = Promise.resolve();
  /** Calls started and not ended. */
  #calls = 0;
  /** Set by `connect()`. */
  #opening: Promise<void> | undefined;
  #closed = false;

  /** No I/O happens until the first call. */
  constructor(socketPath: string) {
    this.#socketPath = socketPath;
  }

  /**
   * Opens the connection ahead of the first call, so that call's request goes
   * out the moment it is made; a failure is left for that call to report.
   */
  connect(): Promise<void> {
    this.#opening ??= H2Session.connect(this.#socketPath).then((session) => {
      if (this.#closed || this.#session !== undefined) void session.close();
      else this.#session = session;
    }, () => {});
    return this.#opening;
  }

  /** Calls `rpc.CNIBackend/AddNetwork`. */
  addNetwork(request: AddNetworkRequest, options: CallOptions): Promise<AddNetworkReply> {
    return this.#unary(RpcPath.ADD_NETWORK, addNetworkRequestCodec, addNetworkReplyCodec, request, options);
  }

  /** Calls `rpc.CNIBackend/DelNetwork`. */
  delNetwork(request: DelNetworkRequest, options: CallOptions): Promise<DelNetworkReply> {
    return this.#unary(RpcPath.DEL_NETWORK, delNetworkRequestCodec, delNetworkReplyCodec, request, options);
  }

  /** Calls `rpc.CNIBackend/ListAllocations` (ours; a reference ipamd answers UNIMPLEMENTED). */
  listAllocations(networkName: string, options: CallOptions): Promise<ListAllocationsReply> {
    return this.#unary(
      RpcPath.LIST_ALLOCATIONS,
      listAllocationsRequestCodec,
      listAllocationsReplyCodec,
      { networkName },
      options,
    );
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

  /** Lets the call in flight finish, then closes the connection; calls not yet sent fail with CANCELLED. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#opening;
    await this.#turn;
    await this.#session?.close();
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** A new connection, the old one closed; one that comes after `deadline` aborted is closed at once. */
  async #connect(deadline: AbortSignal): Promise<H2Session> {
    if (this.#closed) throw new RpcCallError(Status.CANCELLED, "Client is closed");
    if (this.#session !== undefined) await this.#session.close();
    const connecting = H2Session.connect(this.#socketPath);
    try {
      return this.#session = await untilAborted(connecting, deadline);
    } catch (error) {
      connecting.then((late) => late.close(), () => {});
      throw error;
    }
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
    const body = frame(requestCodec.encode(request));
    const deadlineAt = Date.now() + deadlineMs;
    // AbortSignal.timeout, not setTimeout: Deno's first setTimeout costs ~7 ms, once per plugin run.
    const deadline = AbortSignal.timeout(deadlineMs);
    const previous = this.#turn;
    let done!: () => void;
    this.#turn = new Promise((resolve) => done = resolve);
    // The first call connects before returning, so the request goes out while the caller carries on.
    const first = this.#calls++ === 0;
    try {
      if (!first) await untilAborted(previous, deadline);
      if (this.#opening !== undefined) await this.#opening;
      const session = this.#session?.isAvailable === true ? this.#session : await this.#connect(deadline);
      if (this.#closed) throw new RpcCallError(Status.CANCELLED, "Client is closed");
      const timeoutMs = Math.max(1, Math.min(MAX_TIMEOUT_MS, Math.ceil(deadlineAt - Date.now())));
      const response = await session.request(requestHeaders(path, timeoutMs), body, {
        signal: deadline,
        maxBodyBytes: MAX_REPLY_BYTES,
      });
      return replyCodec.decode(unframe(replyPayload(response), replyCodec.name));
    } catch (error) {
      if (deadline.aborted && !(error instanceof RpcCallError)) {
        throw new RpcCallError(Status.DEADLINE_EXCEEDED, `Deadline exceeded after ${deadlineMs} ms`);
      }
      throw callError(error);
    } finally {
      // The next call starts only after the one before this one ended, whatever happened here.
      previous.then(done);
      this.#calls--;
    }
  }
}

function requestHeaders(path: string, timeoutMs: number): HeaderList {
  return [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", path],
    [":authority", "localhost"],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
    ["grpc-timeout", `${timeoutMs}m`],
  ];
}

/** Resolves like `promise`, or rejects when `signal` aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The reply bytes of an OK response; any other outcome throws `RpcCallError`. */
function replyPayload(response: H2Response): Uint8Array {
  if (response.status !== 200) {
    const code = STATUS_BY_HTTP_STATUS.get(response.status) ?? Status.UNKNOWN;
    throw new RpcCallError(code, `Unexpected HTTP status ${response.status}`);
  }
  const contentType = headerValue(response.headers, "content-type") ?? "";
  if (!contentType.startsWith("application/grpc")) {
    throw new RpcCallError(Status.UNKNOWN, `Unexpected content-type "${contentType}"`);
  }
  // A trailers-only response carries the status in its only header block.
  const source = headerValue(response.headers, "grpc-status") === undefined
    ? response.trailers
    : response.headers;
  const codeText = headerValue(source, "grpc-status");
  if (codeText === undefined) throw new RpcCallError(Status.UNKNOWN, "Stream ended without a gRPC status");
  const code = parseStatus(codeText);
  if (code !== Status.OK) throw new RpcCallError(code, grpcMessage(headerValue(source, "grpc-message")));
  return response.body;
}

/** Maps transport failures to gRPC statuses; already-typed errors pass through. */
function callError(error: unknown): unknown {
  if (error instanceof WireFormatError) {
    return new RpcCallError(Status.INTERNAL, error.message, { cause: error });
  }
  if (!(error instanceof H2Error)) return error;
  const options = { cause: error };
  switch (error.kind) {
    case "unavailable":
      return new RpcCallError(Status.UNAVAILABLE, `Cannot reach ipamd: ${error.message}`, options);
    case "reset": {
      // NO_ERROR before any status: ipamd dropped the connection (it is stopping); worth a retry.
      if (error.code === 0x0) {
        return new RpcCallError(
          Status.UNAVAILABLE,
          `Cannot reach ipamd: it reset the call without a status`,
          options,
        );
      }
      const code = STATUS_BY_RST_CODE.get(error.code) ?? Status.INTERNAL;
      return new RpcCallError(code, `Stream reset by ipamd (HTTP/2 code ${error.code})`, options);
    }
    case "too_large":
      return new RpcCallError(
        Status.RESOURCE_EXHAUSTED,
        `Reply larger than ${MAX_REPLY_BYTES} bytes`,
        options,
      );
    case "protocol":
      return new RpcCallError(Status.INTERNAL, `HTTP/2 error from ipamd: ${error.message}`, options);
  }
}

/** gRPC's 5-byte prefix: flag 0 (uncompressed) and a big-endian length. */
function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/** The single message of a unary reply (the body may have come in any number of DATA frames). */
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

/** grpc-message is percent-encoded UTF-8. */
function grpcMessage(value: string | undefined): string {
  const text = value ?? "";
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export { RpcCallError, Status };
