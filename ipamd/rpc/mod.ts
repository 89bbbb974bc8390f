/**
 * ipamd's gRPC side: the server on a Unix socket, the CNIBackend handlers over the
 * pool, the releases the plugin queued (applied through the same handlers), the
 * health service and the one table that turns errors into statuses.
 *
 * @module
 */
export { RpcError } from "./errors.ts";
export { IpamBackend, routeTableFor } from "./handlers.ts";
export {
  AWS_NODE_HEALTH_SERVICE,
  DaemonHealth,
  HealthStatus,
  type PoolHealthSource,
  ServingStatus,
} from "./health.ts";
export { QueuedReleases } from "./queued_releases.ts";
export { claimSocket, type CniBackend, ListenError, type RpcServer, startRpcServer } from "./server.ts";
