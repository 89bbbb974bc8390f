/**
 * What the plugin asks of ipamd (`IpamdApi`), its adapter over the lean gRPC
 * client in shared/rpc, and the one table that turns gRPC statuses into CNI
 * errors. Failures are `RpcCallError`s with a gRPC status, from the real client
 * and from the fake alike.
 *
 * `listAllocations` (GC, CHECK) and the pool readiness of `poolStatus` (STATUS)
 * are not in the reference contract; see the notes on each for what ipamd
 * needs to offer.
 *
 * @module
 */
import { CniError, CniErrorCode, refusedAccess } from "../shared/mod.ts";
import { IpamdClient } from "./rpc/mod.ts";
import {
  type AddNetworkReply,
  type AddNetworkRequest,
  type DelNetworkReply,
  type DelNetworkRequest,
  POOL_HEALTH_SERVICE,
  RpcCallError,
  ServingStatus,
  Status,
  statusName,
} from "../shared/rpc/mod.ts";

/** One address ipamd holds for a pod interface. */
export interface Allocation {
  readonly containerId: string;
  readonly ifName: string;
  readonly networkName: string;
  readonly ipv4Addr: string;
}

/** Whether ipamd can serve an ADD now. */
export interface PoolReadiness {
  readonly ready: boolean;
  /** Why not, for the STATUS error's details. */
  readonly reason: string;
}

/** The plugin's view of ipamd. Every call takes a deadline in milliseconds from now. */
export interface IpamdApi {
  addNetwork(request: AddNetworkRequest, deadlineMs: number): Promise<AddNetworkReply>;
  delNetwork(request: DelNetworkRequest, deadlineMs: number): Promise<DelNetworkReply>;
  /**
   * Every allocation ipamd holds for `networkName` (`rpc.CNIBackend/ListAllocations`,
   * ours); rejects with UNIMPLEMENTED from an ipamd without it (the reference's).
   */
  listAllocations(networkName: string, deadlineMs: number): Promise<readonly Allocation[]>;
  /** Readiness for STATUS; rejects when ipamd cannot be reached. */
  poolStatus(deadlineMs: number): Promise<PoolReadiness>;
  /** Opens the connection ahead of the first call (which reports any failure); never rejects. */
  connect(): Promise<void>;
  /** Closes the connection. */
  close(): Promise<void>;
}

export { POOL_HEALTH_SERVICE };

/**
 * Nothing answered on the socket (no socket file, or no process accepting on it):
 * ipamd is not running. Still UNAVAILABLE, so a DEL queues its release.
 */
export class IpamdDownError extends RpcCallError {
  constructor(socketPath: string, cause: Deno.errors.NotFound | Deno.errors.ConnectionRefused) {
    const what = cause instanceof Deno.errors.NotFound
      ? `no socket at "${socketPath}"`
      : `nothing accepts connections on "${socketPath}"`;
    super(Status.UNAVAILABLE, `ipamd is not running: ${what}`, { cause });
  }
}

/** `IpamdApi` over `IpamdClient` (our own small HTTP/2 client; no node:http2, no grpc-js). */
export class RpcIpamdApi implements IpamdApi {
  readonly #client: IpamdClient;
  readonly #socketPath: string;

  constructor(socketPath: string) {
    this.#client = new IpamdClient(socketPath);
    this.#socketPath = socketPath;
  }

  addNetwork(request: AddNetworkRequest, deadlineMs: number): Promise<AddNetworkReply> {
    return this.#named(this.#client.addNetwork(request, { deadlineMs }));
  }

  delNetwork(request: DelNetworkRequest, deadlineMs: number): Promise<DelNetworkReply> {
    return this.#named(this.#client.delNetwork(request, { deadlineMs }));
  }

  async listAllocations(networkName: string, deadlineMs: number): Promise<readonly Allocation[]> {
    return (await this.#named(this.#client.listAllocations(networkName, { deadlineMs }))).allocations;
  }

  poolStatus(deadlineMs: number): Promise<PoolReadiness> {
    return this.#named(this.#poolStatus(deadlineMs));
  }

  /** A call that could not connect fails as `IpamdDownError`, naming the socket. */
  async #named<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      const down = error instanceof RpcCallError && error.code === Status.UNAVAILABLE
        ? connectFailure(error)
        : null;
      throw down === null ? error : new IpamdDownError(this.#socketPath, down);
    }
  }

  async #poolStatus(deadlineMs: number): Promise<PoolReadiness> {
    let status: number;
    try {
      status = await this.#client.healthCheck({ deadlineMs, service: POOL_HEALTH_SERVICE });
    } catch (error) {
      if (!(error instanceof RpcCallError) || error.code !== Status.NOT_FOUND) throw error;
      const server = await this.#client.healthCheck({ deadlineMs });
      return server === ServingStatus.SERVING
        ? { ready: true, reason: "" }
        : { ready: false, reason: "ipamd is not serving" };
    }
    return status === ServingStatus.SERVING
      ? { ready: true, reason: "" }
      : { ready: false, reason: "the address pool is empty and cannot grow" };
  }

  connect(): Promise<void> {
    return this.#client.connect();
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

/** The socket error under a failed connect, if that is what `error` is. */
function connectFailure(error: Error): Deno.errors.NotFound | Deno.errors.ConnectionRefused | null {
  for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof Deno.errors.NotFound || cause instanceof Deno.errors.ConnectionRefused) return cause;
  }
  return null;
}

/** Statuses that mean "ipamd could not be asked": the request may be queued or retried. */
export function isUnreachable(error: unknown): boolean {
  return error instanceof RpcCallError &&
    (error.code === Status.UNAVAILABLE || error.code === Status.DEADLINE_EXCEEDED);
}

/** Statuses a retry may fix: CNI code 11. Everything else is 999. */
const TRY_AGAIN_STATUSES: ReadonlySet<number> = new Set([
  Status.UNAVAILABLE,
  Status.DEADLINE_EXCEEDED,
  Status.RESOURCE_EXHAUSTED,
  Status.ABORTED,
  Status.CANCELLED,
]);

/** Turns a failed ipamd call into a CNI error; `action` completes "Cannot …". Typed errors pass through. */
export function cniErrorFromIpamd(error: unknown, action: string): CniError {
  if (error instanceof CniError) return error;
  if (error instanceof Deno.errors.NotCapable) {
    return new CniError(
      CniErrorCode.INVALID_CONFIG,
      `Cannot ${action}: ipamdSocket is outside what this binary may use`,
      { details: refusedAccess(error), cause: error },
    );
  }
  if (error instanceof IpamdDownError) {
    return new CniError(CniErrorCode.TRY_AGAIN_LATER, `Cannot ${action}: ${error.details}`, {
      details:
        "start it (systemctl start aws-ipamd); its journal says why it stopped (journalctl -u aws-ipamd)",
      cause: error,
    });
  }
  if (error instanceof RpcCallError) {
    const code = TRY_AGAIN_STATUSES.has(error.code) ? CniErrorCode.TRY_AGAIN_LATER : CniErrorCode.INTERNAL;
    return new CniError(code, `Cannot ${action}: ipamd answered ${statusName(error.code)}`, {
      details: error.details,
      cause: error,
    });
  }
  const text = error instanceof Error ? error.message : String(error);
  return new CniError(CniErrorCode.INTERNAL, `Cannot ${action}`, { details: text, cause: error });
}
