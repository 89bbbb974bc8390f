/**
 * The serving status the gRPC health service reports, per service name.
 * The daemon sets it; Check reads it and Watch subscribes to it.
 *
 * @module
 */
import { POOL_HEALTH_SERVICE, ServingStatus } from "../../shared/rpc/mod.ts";

/** The service name the reference ipamd registers, probed by its tooling. */
export const AWS_NODE_HEALTH_SERVICE = "grpc.health.v1.aws-node";

/** Called with the new status of one service. */
export type HealthListener = (service: string, status: ServingStatus) => void;

/** Serving status per service name; "" is the whole server. */
export class HealthStatus {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #listeners = new Set<HealthListener>();

  /** Starts with the given statuses, e.g. `{ "": ServingStatus.NOT_SERVING }`. */
  constructor(initial: Readonly<Record<string, ServingStatus>> = {}) {
    for (const [service, status] of Object.entries(initial)) this.#statuses.set(service, status);
  }

  /** The status of a service, or undefined when it is not registered. */
  get(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** Sets the status of a service and tells the watchers if it changed. */
  set(service: string, status: ServingStatus): void {
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    for (const listener of this.#listeners) listener(service, status);
  }

  /** Sets every registered service to one status (e.g. NOT_SERVING on shutdown). */
  setAll(status: ServingStatus): void {
    for (const service of [...this.#statuses.keys()]) this.set(service, status);
  }

  /** Calls `listener` on every change until the returned function is called. */
  watch(listener: HealthListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }
}

export { ServingStatus };

/** The pool as its health service follows it. */
export interface PoolHealthSource {
  /** Whether an ADD can be served now. */
  readonly canServe: boolean;
  /** Calls `changed` after every change until the returned function is called. */
  observe(observer: { changed(): void }): () => void;
}

/**
 * The daemon's health: the whole server (""), the reference's aws-node service,
 * and `aws-cni.pool` following the pool. All NOT_SERVING until `serving()`, and
 * again once the handle it returns is disposed (shutdown has begun).
 */
export class DaemonHealth {
  readonly status: HealthStatus = new HealthStatus({
    "": ServingStatus.NOT_SERVING,
    [AWS_NODE_HEALTH_SERVICE]: ServingStatus.NOT_SERVING,
    [POOL_HEALTH_SERVICE]: ServingStatus.NOT_SERVING,
  });
  readonly #pool: PoolHealthSource;
  #unobserve: (() => void) | null;

  constructor(pool: PoolHealthSource) {
    this.#pool = pool;
    this.#unobserve = pool.observe({ changed: () => this.#follow() });
  }

  /** Says the daemon serves; disposing the handle says it no longer does, for good. */
  serving(): Disposable {
    this.status.set("", ServingStatus.SERVING);
    this.status.set(AWS_NODE_HEALTH_SERVICE, ServingStatus.SERVING);
    this.#follow();
    return {
      [Symbol.dispose]: () => {
        this.#unobserve?.();
        this.#unobserve = null;
        this.status.setAll(ServingStatus.NOT_SERVING);
      },
    };
  }

  #follow(): void {
    if (this.#unobserve === null) return;
    const status = this.#pool.canServe ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    this.status.set(POOL_HEALTH_SERVICE, status);
  }
}
