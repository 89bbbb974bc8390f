/**
 * The plugin-ipamd contract: the messages of `ipamd.proto` and the health service,
 * their Protocol Buffers codecs, and gRPC status codes.
 *
 * @module
 */
export {
  addNetworkReplyCodec,
  addNetworkRequestCodec,
  delNetworkReplyCodec,
  delNetworkRequestCodec,
  healthCheckRequestCodec,
  healthCheckResponseCodec,
  listAllocationsReplyCodec,
  listAllocationsRequestCodec,
  type MessageCodec,
} from "./codec.ts";
export {
  type AddNetworkReply,
  type AddNetworkRequest,
  type DelNetworkReply,
  type DelNetworkRequest,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type IpAllocationMetadata,
  type ListAllocationsReply,
  type ListAllocationsRequest,
  POOL_HEALTH_SERVICE,
  RpcPath,
  ServingStatus,
} from "./messages.ts";
export { parseStatus, RpcCallError, Status, statusName } from "./status.ts";
export { WireFormatError } from "./wire.ts";
