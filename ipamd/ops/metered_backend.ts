/**
 * Metering at the RPC edge: the backend counts AddNetwork and DelNetwork calls
 * (`awscni_add_ip_req_count`, `awscni_del_ip_req_count{reason}`). How long each
 * ADD waited for an address comes from the pool (`DaemonOps` observes it).
 *
 * @module
 */
import type { AddNetworkRequest, DelNetworkRequest } from "../../shared/rpc/mod.ts";
import type { CniBackend } from "../rpc/mod.ts";
import type { IpamdMetrics } from "./metrics.ts";

/** `backend` with its calls counted. */
export function meterBackend(backend: CniBackend, metrics: IpamdMetrics): CniBackend {
  return {
    addNetwork(request: AddNetworkRequest, signal?: AbortSignal) {
      metrics.addRequest();
      return backend.addNetwork(request, signal);
    },
    delNetwork(request: DelNetworkRequest) {
      metrics.delRequest(request.reason);
      return backend.delNetwork(request);
    },
    ...(backend.listAllocations === undefined
      ? {}
      : { listAllocations: backend.listAllocations.bind(backend) }),
  };
}
