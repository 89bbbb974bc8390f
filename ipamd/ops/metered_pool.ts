/**
 * Metering at the pool's edges: the RPC backend counts AddNetwork and DelNetwork
 * calls (`awscni_add_ip_req_count`, `awscni_del_ip_req_count{reason}`), and the
 * address queue times how long each ADD waited for an address.
 *
 * @module
 */
import type { AddNetworkRequest, DelNetworkRequest } from "../../shared/rpc/mod.ts";
import {
  AddressQueue,
  type Allocation,
  type AllocationKey,
  type AllocationMeta,
  NoAddressError,
} from "../pool/mod.ts";
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

/** An `AddressQueue` that records every ADD's wait. */
export class MeteredAddressQueue extends AddressQueue {
  readonly #metrics: IpamdMetrics;

  constructor(metrics: IpamdMetrics, options: ConstructorParameters<typeof AddressQueue>[0]) {
    super(options);
    this.#metrics = metrics;
  }

  override async acquire(key: AllocationKey, meta: AllocationMeta, timeoutMs: number): Promise<Allocation> {
    const before = this.waiting;
    const startMs = performance.now();
    const pending = super.acquire(key, meta, timeoutMs);
    const queued = this.waiting > before;
    try {
      const allocation = await pending;
      this.#metrics.addServed(performance.now() - startMs, queued);
      return allocation;
    } catch (error) {
      if (error instanceof NoAddressError) {
        this.#metrics.addTimedOut(error.reason, performance.now() - startMs);
      }
      throw error;
    }
  }
}
