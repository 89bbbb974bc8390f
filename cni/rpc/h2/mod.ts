/**
 * A small HTTP/2 client (RFC 9113, HPACK per RFC 7541) over a Deno socket,
 * one request at a time, made for gRPC unary calls and free of `node:` modules.
 *
 * @module
 */
export { H2Error, type H2ErrorKind } from "./error.ts";
export type { HeaderList } from "./hpack.ts";
export {
  type H2Response,
  H2Session,
  headerValue,
  MAX_REQUEST_BYTES,
  type RequestOptions,
} from "./session.ts";
