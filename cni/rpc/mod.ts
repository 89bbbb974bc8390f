/**
 * The plugin's client for ipamd: gRPC unary calls over one HTTP/2 connection on
 * ipamd's Unix socket, with a deadline on every call.
 *
 * @module
 */
export { IpamdClient } from "./client.ts";
