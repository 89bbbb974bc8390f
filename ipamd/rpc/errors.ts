/**
 * How errors thrown by RPC handlers become gRPC statuses: one table, on the
 * server side. Only errors listed here send their message to the client;
 * anything else becomes INTERNAL with a fixed message, so no internals leak.
 *
 * @module
 */
import { AlreadyExistsError, NotFoundError, PoolExhaustedError } from "../../shared/mod.ts";
import { Status, WireFormatError } from "../../shared/rpc/mod.ts";

/** A handler failure with the status to answer, e.g. FAILED_PRECONDITION for a wrong client version. */
export class RpcError extends Error {
  override readonly name = "RpcError";
  /** The gRPC status code to send (never OK). */
  readonly code: Status;

  constructor(code: Status, message: string, options?: { cause?: unknown }) {
    super(message, options);
    if (code === Status.OK) throw new RangeError("Cannot create an RpcError with status OK");
    this.code = code;
  }
}

/** The status and message sent for a failed call. */
export interface RpcStatus {
  readonly code: Status;
  readonly details: string;
}

/** What an unlisted error is answered with. */
export const INTERNAL_DETAILS = "Internal error in ipamd";

// deno-lint-ignore no-explicit-any
type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * Error classes whose messages are safe to send, with the status each maps to.
 * `RpcError` carries its own code. First match wins, so list subclasses first.
 */
const STATUS_TABLE: readonly (readonly [ErrorClass, (error: Error) => Status])[] = [
  [RpcError, (error) => (error as RpcError).code],
  [WireFormatError, () => Status.INVALID_ARGUMENT],
  [PoolExhaustedError, () => Status.RESOURCE_EXHAUSTED],
  [NotFoundError, () => Status.NOT_FOUND],
  [AlreadyExistsError, () => Status.ALREADY_EXISTS],
];

/** Maps anything a handler threw to the status to send; `known` is false for INTERNAL fallbacks. */
export function toRpcStatus(error: unknown): RpcStatus & { readonly known: boolean } {
  for (const [errorClass, codeOf] of STATUS_TABLE) {
    if (error instanceof errorClass) return { code: codeOf(error), details: error.message, known: true };
  }
  return { code: Status.INTERNAL, details: INTERNAL_DETAILS, known: false };
}
