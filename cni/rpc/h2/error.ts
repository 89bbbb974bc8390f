/**
 * The one error class of the HTTP/2 client, with a `kind` callers map to a
 * gRPC status: the peer is unreachable or going away, the peer reset the
 * stream, the peer broke the protocol, or a reply grew past its limit.
 *
 * @module
 */

/** What went wrong, in the terms a caller branches on. */
export type H2ErrorKind = "unavailable" | "reset" | "protocol" | "too_large";

/** A failed HTTP/2 connection or stream. */
export class H2Error extends Error {
  override readonly name = "H2Error";
  /** What went wrong. */
  readonly kind: H2ErrorKind;
  /** The HTTP/2 error code (RFC 9113 §7) received or sent; 0 when none applies. */
  readonly code: number;

  constructor(kind: H2ErrorKind, code: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.code = code;
  }
}

/** A connection error of the peer's making (RFC 9113 §5.4.1). */
export function protocolError(code: number, message: string): H2Error {
  return new H2Error("protocol", code, message);
}
