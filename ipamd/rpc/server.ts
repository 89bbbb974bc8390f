/**
 * ipamd's gRPC server on a Unix socket: `rpc.CNIBackend` (AddNetwork,
 * DelNetwork) and `grpc.health.v1.Health` (Check, Watch), served by grpc-js
 * with our codec. Every unary handler runs behind `unary()` (unary.ts). Every
 * HTTP/2 session defers its `destroy()` to dodge a crash in Deno's nghttp2
 * binding (session_guard.ts).
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { realTimers, type Timers } from "../../shared/mod.ts";
import {
  type AddNetworkReply,
  type AddNetworkRequest,
  type DelNetworkReply,
  type DelNetworkRequest,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type ListAllocationsReply,
  type ListAllocationsRequest,
  Status,
} from "../../shared/rpc/mod.ts";
import { RpcError } from "./errors.ts";
import { type HealthStatus, ServingStatus } from "./health.ts";
import { CNI_BACKEND_SERVER_DEFINITION, type Decoded, HEALTH_SERVER_DEFINITION } from "./service_defs.ts";
import { guardServerSessions } from "./session_guard.ts";
import { type InternalErrorSink, unary, type UnaryHandler } from "./unary.ts";

/** What the RPC server asks of the daemon. */
export interface CniBackend {
  /** Assigns addresses to a pod interface; `signal` aborts when the caller gives up. */
  addNetwork(request: AddNetworkRequest, signal?: AbortSignal): Promise<AddNetworkReply>;
  /** Releases a pod interface's addresses. */
  delNetwork(request: DelNetworkRequest): Promise<DelNetworkReply>;
  /** Every allocation held (for CNI GC and CHECK); without it the method is UNIMPLEMENTED. */
  listAllocations?(request: ListAllocationsRequest): Promise<ListAllocationsReply>;
}

/** Options of `startRpcServer`. */
export interface RpcServerOptions {
  /** Path of the Unix socket, e.g. /var/run/aws-node/ipamd.sock. */
  readonly socketPath: string;
  readonly backend: CniBackend;
  /** What the health service reports. */
  readonly health: HealthStatus;
  /** Called with errors answered as INTERNAL (for the log); never with the mapped ones. */
  readonly onInternalError?: InternalErrorSink;
  /** How long calls in flight may finish when the server is disposed (default 5 s). */
  readonly graceMs?: number;
  /** How the grace period is timed (default: real timers). */
  readonly timers?: Timers;
}

/** A running server; disposing it is `close()` with the options' grace period. */
export interface RpcServer extends AsyncDisposable {
  readonly socketPath: string;
  /**
   * Stops accepting calls (the socket file goes), lets in-flight calls finish for
   * up to `graceMs` (default: the options'), then cancels the rest. Safe to call twice.
   */
  close(graceMs?: number): Promise<void>;
}

/** The socket could not be bound (permissions, a missing directory, …). */
export class ListenError extends Error {
  override readonly name = "ListenError";
}

/** Requests are a few hundred bytes; refuse anything much larger. */
const MAX_REQUEST_BYTES = 64 * 1024;

function checkHealth(health: HealthStatus): UnaryHandler<HealthCheckRequest, HealthCheckResponse> {
  return (request) => {
    const status = health.get(request.service);
    if (status === undefined) {
      return Promise.reject(new RpcError(Status.NOT_FOUND, `Unknown service "${request.service}"`));
    }
    return Promise.resolve({ status });
  };
}

/** Health Watch: the current status now, then every change, until the client or `close()` ends it. */
function watchHealth(
  health: HealthStatus,
  watchers: Set<() => void>,
): grpc.handleServerStreamingCall<Decoded<HealthCheckRequest>, HealthCheckResponse> {
  return (call) => {
    if (!call.request.ok) {
      call.emit("error", { code: Status.INVALID_ARGUMENT, details: call.request.error.message });
      return;
    }
    const service = call.request.value.service;
    const unwatch = health.watch((changed, status) => {
      if (changed === service) call.write({ status });
    });
    const stop = (): void => {
      unwatch();
      watchers.delete(stop);
      if (!call.cancelled) call.end();
    };
    watchers.add(stop);
    call.once("cancelled", stop);
    call.write({ status: health.get(service) ?? ServingStatus.SERVICE_UNKNOWN });
  };
}

/**
 * Claims `socketPath` for this process: removes a socket file left by a dead server,
 * refuses a live one or a file that is not a socket. The daemon claims it before it
 * touches any state, so a second ipamd never rewrites the first's checkpoint; disposing
 * the claim removes a socket file still there (a server that failed to start).
 */
export async function claimSocket(socketPath: string): Promise<AsyncDisposable> {
  await clearStaleSocket(socketPath);
  return { [Symbol.asyncDispose]: () => removeSocket(socketPath) };
}

/** Removes a socket file left by a dead server; refuses a live one or a file that is not a socket. */
async function clearStaleSocket(socketPath: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(socketPath);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (info.isSocket !== true) {
    throw new Deno.errors.AlreadyExists(
      `Cannot listen on "${socketPath}": a file that is not a socket is there`,
    );
  }
  try {
    (await Deno.connect({ transport: "unix", path: socketPath })).close();
  } catch {
    await Deno.remove(socketPath);
    return;
  }
  throw new Deno.errors.AddrInUse(`Cannot listen on "${socketPath}": another server is answering there`);
}

/** Listens on `socketPath`; sessions are guarded before the first connection is accepted. */
function bind(server: grpc.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (error) => {
      if (error !== null) {
        return reject(
          new ListenError(`Cannot listen on "${socketPath}": ${error.message}`, { cause: error }),
        );
      }
      try {
        // Without this a client's GOAWAY can crash the process (denoland/deno#36788).
        guardServerSessions(server);
        resolve();
      } catch (guardError) {
        reject(guardError);
      }
    });
  });
}

/** Starts the server on `socketPath` (mode 0600) and returns once it accepts calls. */
export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { socketPath, backend, health } = options;
  const onInternalError = options.onInternalError ?? (() => {});
  await clearStaleSocket(socketPath);
  const server = new grpc.Server({ "grpc.max_receive_message_length": MAX_REQUEST_BYTES });
  const watchers = new Set<() => void>();
  server.addService(CNI_BACKEND_SERVER_DEFINITION, {
    AddNetwork: unary<AddNetworkRequest, AddNetworkReply>(
      (request, signal) => backend.addNetwork(request, signal),
      onInternalError,
    ),
    DelNetwork: unary<DelNetworkRequest, DelNetworkReply>(
      (request) => backend.delNetwork(request),
      onInternalError,
    ),
    ListAllocations: unary<ListAllocationsRequest, ListAllocationsReply>(
      (request) =>
        backend.listAllocations?.(request) ??
          Promise.reject(new RpcError(Status.UNIMPLEMENTED, "This ipamd cannot list allocations")),
      onInternalError,
    ),
  });
  server.addService(HEALTH_SERVER_DEFINITION, {
    Check: unary(checkHealth(health), onInternalError),
    Watch: watchHealth(health, watchers),
  });
  try {
    await bind(server, socketPath);
    await Deno.chmod(socketPath, 0o600);
  } catch (error) {
    server.forceShutdown();
    throw error;
  }
  const timers = options.timers ?? realTimers;
  const defaultGraceMs = options.graceMs ?? 5_000;
  let closing: Promise<void> | undefined;
  const close = (graceMs = defaultGraceMs): Promise<void> => {
    closing ??= shutdown(server, watchers, { graceMs, timers }).then(() => removeSocket(socketPath));
    return closing;
  };
  return { socketPath, close, [Symbol.asyncDispose]: () => close() };
}

function shutdown(
  server: grpc.Server,
  watchers: Set<() => void>,
  options: { graceMs: number; timers: Timers },
): Promise<void> {
  for (const stop of [...watchers]) stop();
  return new Promise((resolve) => {
    const cancel = options.timers.after(options.graceMs, () => {
      server.forceShutdown();
      resolve();
    });
    server.tryShutdown(() => {
      cancel();
      resolve();
    });
  });
}

async function removeSocket(socketPath: string): Promise<void> {
  try {
    await Deno.remove(socketPath);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
