/**
 * ipamd's gRPC side: the server on a Unix socket, the CNIBackend handlers over the
 * pool, the health service and the one table that turns errors into statuses.
 *
 * @module
 */
export { RpcError } from "./errors.ts";
export { IpamBackend, routeTableFor } from "./handlers.ts";
export { AWS_NODE_HEALTH_SERVICE, HealthStatus, ServingStatus } from "./health.ts";
export { clearStaleSocket, type CniBackend, ListenError, type RpcServer, startRpcServer } from "./server.ts";
