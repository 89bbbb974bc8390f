/**
 * A minimal HTTP/2 client (RFC 9113, HPACK per RFC 7541) over a Deno socket,
 * made for gRPC unary calls and free of `node:` modules.
 *
 * @module
 */
export { H2Connection, type RequestOptions } from "./connection.ts";
export { H2Error, type H2ErrorKind } from "./error.ts";
export type { HeaderList } from "./hpack.ts";
export { type H2Response, headerValue } from "./stream.ts";
