/**
 * grpc-js generic service definitions for our contract, built on our codec
 * (no proto-loader). grpc-js needs serializers that return a Node `Buffer`.
 * Server-side request decoders never throw: grpc-js would answer INTERNAL, so
 * they hand a `Decoded` to the handler, which answers INVALID_ARGUMENT.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import {
  type AddNetworkReply,
  addNetworkReplyCodec,
  type AddNetworkRequest,
  addNetworkRequestCodec,
  type DelNetworkReply,
  delNetworkReplyCodec,
  type DelNetworkRequest,
  delNetworkRequestCodec,
  type HealthCheckRequest,
  healthCheckRequestCodec,
  type HealthCheckResponse,
  healthCheckResponseCodec,
  type ListAllocationsReply,
  listAllocationsReplyCodec,
  type ListAllocationsRequest,
  listAllocationsRequestCodec,
  type MessageCodec,
  RpcPath,
  WireFormatError,
} from "../../shared/rpc/mod.ts";

/** A request as the server receives it: decoded, or the reason it could not be. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly error: WireFormatError;
};

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function tryDecode<T>(codec: MessageCodec<T>): (bytes: Uint8Array) => Decoded<T> {
  return (bytes) => {
    try {
      return { ok: true, value: codec.decode(bytes) };
    } catch (error) {
      if (error instanceof WireFormatError) return { ok: false, error };
      return { ok: false, error: new WireFormatError(`Cannot decode "${codec.name}"`, { cause: error }) };
    }
  };
}

function method<Req, Res, In>(
  path: string,
  codecs: { request: MessageCodec<Req>; response: MessageCodec<Res>; readRequest: (b: Uint8Array) => In },
  responseStream = false,
): grpc.MethodDefinition<Req, Res> {
  return {
    path,
    requestStream: false,
    responseStream,
    requestSerialize: (value: Req) => toBuffer(codecs.request.encode(value)),
    // The server side reads `Decoded<Req>`; grpc-js types both directions alike.
    requestDeserialize: codecs.readRequest as unknown as (bytes: Buffer) => Req,
    responseSerialize: (value: Res) => toBuffer(codecs.response.encode(value)),
    responseDeserialize: (bytes: Buffer) => codecs.response.decode(bytes),
  };
}

function cniBackend(server: boolean): grpc.ServiceDefinition {
  return {
    AddNetwork: method<AddNetworkRequest, AddNetworkReply, unknown>(RpcPath.ADD_NETWORK, {
      request: addNetworkRequestCodec,
      response: addNetworkReplyCodec,
      readRequest: server ? tryDecode(addNetworkRequestCodec) : addNetworkRequestCodec.decode,
    }),
    DelNetwork: method<DelNetworkRequest, DelNetworkReply, unknown>(RpcPath.DEL_NETWORK, {
      request: delNetworkRequestCodec,
      response: delNetworkReplyCodec,
      readRequest: server ? tryDecode(delNetworkRequestCodec) : delNetworkRequestCodec.decode,
    }),
    ListAllocations: method<ListAllocationsRequest, ListAllocationsReply, unknown>(RpcPath.LIST_ALLOCATIONS, {
      request: listAllocationsRequestCodec,
      response: listAllocationsReplyCodec,
      readRequest: server ? tryDecode(listAllocationsRequestCodec) : listAllocationsRequestCodec.decode,
    }),
  };
}

function health(server: boolean): grpc.ServiceDefinition {
  const codecs = {
    request: healthCheckRequestCodec,
    response: healthCheckResponseCodec,
    readRequest: server ? tryDecode(healthCheckRequestCodec) : healthCheckRequestCodec.decode,
  };
  return {
    Check: method<HealthCheckRequest, HealthCheckResponse, unknown>(RpcPath.HEALTH_CHECK, codecs),
    Watch: method<HealthCheckRequest, HealthCheckResponse, unknown>(RpcPath.HEALTH_WATCH, codecs, true),
  };
}

/** `rpc.CNIBackend` for `Server.addService`; handlers receive `Decoded<Request>`. */
export const CNI_BACKEND_SERVER_DEFINITION: grpc.ServiceDefinition = cniBackend(true);
/** `grpc.health.v1.Health` for `Server.addService`; handlers receive `Decoded<HealthCheckRequest>`. */
export const HEALTH_SERVER_DEFINITION: grpc.ServiceDefinition = health(true);
/** `rpc.CNIBackend` for grpc-js clients (`makeGenericClientConstructor`). */
export const CNI_BACKEND_CLIENT_DEFINITION: grpc.ServiceDefinition = cniBackend(false);
/** `grpc.health.v1.Health` for grpc-js clients. */
export const HEALTH_CLIENT_DEFINITION: grpc.ServiceDefinition = health(false);
