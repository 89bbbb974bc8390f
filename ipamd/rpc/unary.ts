/**
 * The one wrapper every unary RPC handler runs behind: it refuses requests
 * that did not decode, passes an AbortSignal that fires when the caller gives
 * up, answers exactly once, and maps errors through `toRpcStatus`.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { Status } from "../../shared/rpc/mod.ts";
import { RpcError, toRpcStatus } from "./errors.ts";
import type { Decoded } from "./service_defs.ts";

/** An async handler; `signal` aborts when the call is cancelled or its deadline passes. */
export type UnaryHandler<Req, Res> = (request: Req, signal: AbortSignal) => Promise<Res>;

/** Receives errors answered as INTERNAL (and anything thrown while answering), for the log. */
export type InternalErrorSink = (error: unknown, path: string) => void;

/** The part of a grpc-js unary call `unary()` uses. */
export type UnaryCall<Req> = Pick<
  grpc.ServerUnaryCall<Decoded<Req>, unknown>,
  "request" | "getPath" | "once"
>;

/** Turns an async handler into a grpc-js unary handler. */
export function unary<Req, Res>(
  handler: UnaryHandler<Req, Res>,
  onInternalError: InternalErrorSink,
): (call: UnaryCall<Req>, callback: grpc.sendUnaryData<Res>) => void {
  return (call, callback) => {
    const path = call.getPath();
    const controller = new AbortController();
    call.once(
      "cancelled",
      () => controller.abort(new RpcError(Status.CANCELLED, "Call cancelled by the client")),
    );
    const run = async (): Promise<Res> => {
      const request = call.request;
      if (!request.ok) {
        throw new RpcError(Status.INVALID_ARGUMENT, request.error.message, { cause: request.error });
      }
      return await handler(request.value, controller.signal);
    };
    // then(onFulfilled, onRejected) runs exactly one of the two, so the callback runs once.
    run().then(
      (reply) => callback(null, reply),
      (error: unknown) => {
        const status = toRpcStatus(error);
        if (!status.known) onInternalError(error, path);
        callback({ code: status.code, details: status.details }, null);
      },
    ).catch((error: unknown) => onInternalError(error, path));
  };
}
