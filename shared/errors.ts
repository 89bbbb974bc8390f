/**
 * Errors that cross module boundaries: `CniError` (a CNI spec error, written to
 * stdout only by the plugin dispatcher) and the few domain errors callers branch
 * on. Bad input uses the built-in TypeError, RangeError or SyntaxError.
 *
 * @module
 */

/** The CNI spec error codes the plugin emits (0-99 are reserved by the spec). */
export const CniErrorCode = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENV: 4,
  IO_FAILURE: 5,
  DECODE_FAILURE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  NOT_AVAILABLE: 50,
  NOT_AVAILABLE_LIMITED: 51,
  INTERNAL: 999,
} as const;

/** One of `CniErrorCode`. */
export type CniErrorCode = typeof CniErrorCode[keyof typeof CniErrorCode];

/** A failure the plugin reports as the spec's error JSON `{cniVersion, code, msg, details}`. */
export class CniError extends Error {
  override readonly name = "CniError";
  readonly code: CniErrorCode;
  /** Longer text for the `details` field; "" when there is nothing to add. */
  readonly details: string;

  constructor(code: CniErrorCode, msg: string, options: { details?: string; cause?: unknown } = {}) {
    super(msg, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? "";
  }
}

/** Something to act on does not exist (a link, a route, a rule, a namespace). */
export class NotFoundError extends Error {
  override readonly name: string = "NotFoundError";
}

/** Something to create exists already. */
export class AlreadyExistsError extends Error {
  override readonly name: string = "AlreadyExistsError";
}

/** The pool has no address to hand out right now (CNI code 11, try again later). */
export class PoolExhaustedError extends Error {
  override readonly name: string = "PoolExhaustedError";
}

/**
 * What a `Deno.errors.NotCapable` refused, without Deno's "run again with
 * --allow-…" hint: a compiled binary takes no permission flags.
 */
export function refusedAccess(error: Error): string {
  return error.message.replace(/, run again with .*$/, "");
}
