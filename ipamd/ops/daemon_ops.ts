/**
 * The daemon's operations side in one object: metrics (and the decorators that
 * feed them), the ring of recent cloud failures, and the two loopback HTTP
 * endpoints. `startDaemon` builds it first, wraps its EC2 port and RPC backend
 * with it, and calls `serve()` once the pool exists; disposing it stops the
 * endpoints. A listener that cannot bind is logged and skipped: pods get
 * addresses without metrics.
 *
 * @module
 */
import { type Clock, errorText, type Logger } from "../../shared/mod.ts";
import type { Ec2Port } from "../cloud/mod.ts";
import type { IpamdConfig } from "../config/mod.ts";
import type { InstanceLimits, Pool } from "../pool/mod.ts";
import type { CniBackend } from "../rpc/mod.ts";
import { CloudFailures } from "./cloud_failures.ts";
import { type HttpEndpoint, serveHttp } from "./http_server.ts";
import { introspectionHandler } from "./introspection.ts";
import { MeteredEc2Port } from "./metered_ec2.ts";
import { meterBackend } from "./metered_backend.ts";
import { type BudgetWaits, IpamdMetrics } from "./metrics.ts";
import { IamPermissions } from "./iam_permissions.ts";

/** What the ops side needs besides the config. */
export interface DaemonOpsOptions {
  readonly limits: InstanceLimits;
  readonly clock: Clock;
  readonly log: Logger;
  readonly budget?: BudgetWaits | undefined;
}

/** Where the endpoints listen; null when disabled or not bound. */
export interface OpsEndpoints {
  readonly metrics: string | null;
  readonly introspection: string | null;
}

/** Metrics, cloud failures and the HTTP endpoints of one daemon. */
export class DaemonOps implements AsyncDisposable {
  readonly metrics: IpamdMetrics;
  readonly failures: CloudFailures = new CloudFailures();
  /** The node role's EC2 permissions: the start-up check, then every pool call. */
  readonly iam: IamPermissions = new IamPermissions();
  readonly #config: IpamdConfig;
  readonly #o: DaemonOpsOptions;
  #ec2: MeteredEc2Port | null = null;
  #metricsEndpoint: HttpEndpoint | null = null;
  #introspectionEndpoint: HttpEndpoint | null = null;
  #unobserve: (() => void) | null = null;

  constructor(config: IpamdConfig, options: DaemonOpsOptions) {
    this.#config = config;
    this.#o = options;
    this.metrics = new IpamdMetrics({
      limits: options.limits,
      settings: config.pool,
      ...(options.budget === undefined ? {} : { budget: options.budget }),
      iam: this.iam,
    });
  }

  /** `port` with every call metered (call once). */
  meterEc2(port: Ec2Port): Ec2Port {
    this.#ec2 = new MeteredEc2Port(port, this.metrics, this.iam);
    return this.#ec2;
  }

  /** `backend` with AddNetwork and DelNetwork counted. */
  meterBackend(backend: CniBackend): CniBackend {
    return meterBackend(backend, this.metrics);
  }

  /** Follows the pool (ADD waits, cloud failures) and starts the endpoints the config enables over it. */
  serve(pool: Pool): OpsEndpoints {
    const { clock, log, limits } = this.#o;
    const config = this.#config;
    const nowMs = () => clock.now();
    const { metrics, failures } = this;
    this.#unobserve = pool.observe({
      passed: (outcome) => failures.record(outcome, clock.now()),
      served: (waitedMs, queued) => metrics.addServed(waitedMs, queued),
      timedOut: (reason, waitedMs) => metrics.addTimedOut(reason, waitedMs),
    });
    const parts = {
      datastore: pool.datastore,
      reconciler: pool.reconciler,
      growth: pool.growth,
      queue: pool.queue,
    };
    this.metrics.watch({ ...parts, nowMs });
    if (!config.disableMetrics) {
      this.#metricsEndpoint = this.#listen("metrics", config.metricsBindAddress, async (request) => {
        if (new URL(request.url).pathname !== "/metrics") return new Response("Not Found\n", { status: 404 });
        return new Response(await this.metrics.render(), {
          headers: { "content-type": this.metrics.contentType },
        });
      });
    }
    if (!config.disableIntrospection) {
      const source = {
        ...parts,
        limits,
        settings: config.pool,
        subnetOf: (eniId: string) => this.#ec2?.subnetOf(eniId) ?? "",
        failures: this.failures,
        iam: this.iam,
      };
      const handler = introspectionHandler(source, { config, nowMs });
      this.#introspectionEndpoint = this.#listen("introspection", config.introspectionBindAddress, handler);
    }
    log.info("ops endpoints", { ...this.endpoints });
    return this.endpoints;
  }

  /** Where the endpoints listen now. */
  get endpoints(): OpsEndpoints {
    return {
      metrics: this.#metricsEndpoint?.address ?? null,
      introspection: this.#introspectionEndpoint?.address ?? null,
    };
  }

  /** Stops both endpoints and following the pool; safe to call twice. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#unobserve?.();
    this.#unobserve = null;
    const endpoints = [this.#metricsEndpoint, this.#introspectionEndpoint];
    this.#metricsEndpoint = this.#introspectionEndpoint = null;
    await Promise.all(endpoints.map((endpoint) => endpoint?.close()));
  }

  #listen(
    name: string,
    bind: string,
    handler: (request: Request) => Response | Promise<Response>,
  ): HttpEndpoint | null {
    const log = this.#o.log.with({ op: name });
    try {
      return serveHttp(bind, handler, log);
    } catch (error) {
      log.error(`cannot serve ${name}; continuing without it`, { address: bind, error: errorText(error) });
      return null;
    }
  }
}
