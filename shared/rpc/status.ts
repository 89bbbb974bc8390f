/**
 * gRPC status codes and the error a failed call surfaces as on the client side.
 *
 * @module
 */

/** The gRPC status codes (same numbers as grpc-js `status`). */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** A gRPC status code number. */
export type Status = typeof Status[keyof typeof Status];

const NAMES = new Map<number, string>(Object.entries(Status).map(([name, code]) => [code, name]));

/** The name of a status code, e.g. "DEADLINE_EXCEEDED"; unknown codes print as "STATUS_42". */
export function statusName(code: number): string {
  return NAMES.get(code) ?? `STATUS_${code}`;
}

/** Turns a received `grpc-status` value into a code; anything unparsable is UNKNOWN, as gRPC says. */
export function parseStatus(value: string | undefined): Status {
  if (value === undefined || !/^\d{1,2}$/.test(value)) return Status.UNKNOWN;
  const code = Number(value);
  return NAMES.has(code) ? code as Status : Status.UNKNOWN;
}

/** A gRPC call that ended with a status other than OK. */
export class RpcCallError extends Error {
  override readonly name = "RpcCallError";
  /** The gRPC status code. */
  readonly code: Status;
  /** The status message sent by the server (or written by the client for local failures). */
  readonly details: string;

  constructor(code: Status, details: string, options?: { cause?: unknown }) {
    super(`${statusName(code)}: ${details}`, options);
    this.code = code;
    this.details = details;
  }
}
