/**
 * ipamd's Prometheus metrics. The reference's `awscni_*` names, types and labels
 * are kept so its dashboards and cni-metrics-helper keep working; ours are added
 * next to them. Each daemon has its own prom-client `Registry` (never the global
 * one) and prom-client renders the text format. Gauges read the pool when scraped.
 *
 * @module
 */
import type { BudgetWaits } from "../cloud/mod.ts";

export type { BudgetWaits };
import { Counter, Gauge, Histogram, Registry, Summary } from "prom-client";
import type { IamPermissions } from "./iam_permissions.ts";
import { VERSION } from "../../shared/mod.ts";
import {
  type AddressQueue,
  type Datastore,
  GROWTH_BLOCK_REASONS,
  type GrowthBlockReason,
  type GrowthState,
  type InstanceLimits,
  type PoolSettings,
  type Reconciler,
} from "../pool/mod.ts";

/** One EC2 API call as the metrics record it. */
export interface Ec2CallRecord {
  /** The EC2 API the latency and errors are filed under, e.g. "CreateNetworkInterface". */
  readonly api: string;
  /** Every EC2 API the call made, for `awscni_ec2api_req_count{fn}`. */
  readonly requests: readonly string[];
  readonly latencyMs: number;
  /** The EC2 error code and HTTP status ("" when unknown) of a failed call. */
  readonly error?: { readonly code: string; readonly status: string };
}

/** What the gauges read when scraped. */
export interface MetricsSource {
  readonly datastore: Datastore;
  readonly growth: Pick<GrowthState, "current">;
  readonly queue: Pick<AddressQueue, "waiting">;
  readonly reconciler?: Pick<Reconciler, "last">;
  readonly nowMs: () => number;
}

/** The reasons that stop growth (`still-warming` only names why an ADD timed out). */
const BLOCKING_REASONS = GROWTH_BLOCK_REASONS.filter((reason) => reason !== "still-warming");

/** The node facts behind `awscni_eni_max` and `awscni_ip_max`. */
export interface MetricsOptions {
  readonly limits: InstanceLimits;
  readonly settings: Pick<PoolSettings, "maxEni" | "prefixDelegation">;
  /** Budget waits, if the EC2 adapter keeps a budget. */
  readonly budget?: BudgetWaits;
  /** The node role's EC2 permissions, for `awscni_iam_permission_missing`. */
  readonly iam?: Pick<IamPermissions, "list">;
}

/** Buckets of the ADD wait, in seconds: most ADDs find a warm address at once. */
const ADD_WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The daemon's metrics and the calls that feed them. */
export class IpamdMetrics {
  readonly registry: Registry = new Registry();
  #source: MetricsSource | null = null;
  #budget: BudgetWaits | null;
  readonly #budgetSeen = new Map<string, number>();
  readonly #addRequests: Counter;
  readonly #delRequests: Counter<"reason">;
  readonly #noAddress: Counter;
  readonly #addWait: Histogram;
  readonly #addTimeouts: Counter<"reason">;
  readonly #apiLatency: Summary<"api" | "error" | "status">;
  readonly #apiErrors: Counter<"api" | "error">;
  readonly #ec2Requests: Counter<"fn">;

  constructor(options: MetricsOptions) {
    this.#budget = options.budget ?? null;
    const registers = [this.registry];
    const { limits, settings } = options;
    const maxEnis = settings.maxEni > 0 ? Math.min(settings.maxEni, limits.maxEnis) : limits.maxEnis;
    const perEni = (limits.ipv4PerEni - 1) * (settings.prefixDelegation ? 16 : 1);
    const read = <T>(fn: (source: MetricsSource) => T): T | null =>
      this.#source === null ? null : fn(this.#source);
    const counts = () =>
      read((s) => {
        const stats = s.datastore.stats(s.nowMs());
        const prefixes = s.datastore.enis().flatMap((eni) => eni.cidrs).filter((c) => !c.endsWith("/32"));
        return { ...stats, prefixes: prefixes.length };
      });

    new Gauge({
      name: "awscni_eni_max",
      help: "The maximum number of ENIs that can be attached to the instance, accounting for MAX_ENI",
      registers,
    }).set(maxEnis);
    new Gauge({
      name: "awscni_ip_max",
      help: "The maximum number of IP addresses that can be allocated to the instance",
      registers,
    }).set(maxEnis * perEni);
    const pool = (name: string, help: string, pick: (c: NonNullable<ReturnType<typeof counts>>) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const c = counts();
          if (c !== null) this.set(pick(c));
        },
      });
    pool("awscni_eni_allocated", "The number of ENIs allocated", (c) => c.enis);
    pool("awscni_total_ip_addresses", "The total number of IP addresses", (c) => c.total);
    pool("awscni_assigned_ip_addresses", "The number of IP addresses assigned to pods", (c) => c.assigned);
    pool("awscni_total_ipv4_prefixes", "The total number of IPv4 prefixes", (c) => c.prefixes);
    pool(
      "awscni_cooling_ip_addresses",
      "Released pod IP addresses still in their cooldown",
      (c) => c.cooling,
    );
    new Gauge({
      name: "awscni_subnet_spare_ip_target",
      help: "Spare IP addresses subnet-aware targets allow as the subnets run low; -1: the targets apply",
      registers,
      collect() {
        this.set(read((s) => s.reconciler?.last?.plan.subnetSpare) ?? -1);
      },
    });
    this.#addRequests = new Counter({
      name: "awscni_add_ip_req_count",
      help: "The number of add IP address requests",
      registers,
    });
    this.#delRequests = new Counter({
      name: "awscni_del_ip_req_count",
      help: "The number of delete IP address requests",
      labelNames: ["reason"],
      registers,
    });
    this.#noAddress = new Counter({
      name: "awscni_no_available_ip_addresses",
      help: "The number of pod IP assignments that found no available IP address (the ADD then waits)",
      registers,
    });
    this.#apiLatency = new Summary({
      name: "awscni_aws_api_latency_ms",
      help: "AWS API call latency in ms",
      labelNames: ["api", "error", "status"],
      percentiles: [0.5, 0.9, 0.99],
      registers,
    });
    this.#apiErrors = new Counter({
      name: "awscni_aws_api_error_count",
      help: "The number of times AWS API returns an error",
      labelNames: ["api", "error"],
      registers,
    });
    this.#ec2Requests = new Counter({
      name: "awscni_ec2api_req_count",
      help: "The number of requests made to EC2 APIs by CNI",
      labelNames: ["fn"],
      registers,
    });
    new Gauge({
      name: "awscni_build_info",
      help: "A metric with a constant '1' value labeled by version and the runtime it runs on",
      labelNames: ["version", "runtime"],
      registers,
    }).set({ version: VERSION, runtime: `deno ${Deno.version.deno}` }, 1);
    // The process's memory, read when scraped, under the names prom-client's default metrics give them.
    const memoryGauge = (name: string, help: string, pick: (usage: Deno.MemoryUsage) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(pick(Deno.memoryUsage()));
        },
      });
    memoryGauge("process_resident_memory_bytes", "Resident memory size in bytes", (m) => m.rss);
    memoryGauge("nodejs_heap_size_total_bytes", "Process heap size from V8 in bytes", (m) => m.heapTotal);
    memoryGauge("nodejs_heap_size_used_bytes", "Process heap size used from V8 in bytes", (m) => m.heapUsed);
    memoryGauge(
      "nodejs_external_memory_bytes",
      "Memory outside V8's heap held by its objects (buffers, native handles) in bytes",
      (m) => m.external,
    );
    this.#addWait = new Histogram({
      name: "awscni_add_ip_wait_seconds",
      help: "How long an ADD waited for an address (0 when one was free)",
      buckets: ADD_WAIT_BUCKETS,
      registers,
    });
    this.#addTimeouts = new Counter({
      name: "awscni_add_ip_timeout_count",
      help: "ADDs that waited ADD_WAIT_TIMEOUT and got no address, by why the pool could not serve them",
      labelNames: ["reason"],
      registers,
    });
    for (const reason of GROWTH_BLOCK_REASONS) this.#addTimeouts.inc({ reason }, 0);
    new Gauge({
      name: "awscni_add_ip_waiting",
      help: "ADDs waiting for an address now",
      registers,
      collect() {
        const waiting = read((s) => s.queue.waiting);
        if (waiting !== null) this.set(waiting);
      },
    });
    new Gauge({
      name: "awscni_pool_growth_blocked",
      help: "1 for the reason the pool cannot grow now (a limit or a paused cloud failure), 0 for the others",
      labelNames: ["reason"],
      registers,
      collect() {
        const block = read((s) => s.growth.current);
        for (const reason of BLOCKING_REASONS) this.set({ reason }, block?.reason === reason ? 1 : 0);
      },
    });
    const iam = options.iam;
    new Gauge({
      name: "awscni_iam_permission_missing",
      help:
        "1 when the node's IAM role lacks the permission for this EC2 action (DryRun at start, or a call " +
        "EC2 refused since), 0 otherwise",
      labelNames: ["action"],
      registers,
      collect() {
        for (const status of iam?.list() ?? []) {
          this.set({ action: status.action }, status.state === "missing" ? 1 : 0);
        }
      },
    });
    const budgetNow = () => this.#budget;
    const seen = this.#budgetSeen;
    new Counter({
      name: "awscni_ec2_budget_wait_seconds_total",
      help: "Time EC2 calls waited for the client-side request budget, by EC2 action category",
      labelNames: ["category"],
      registers,
      collect() {
        const budget = budgetNow();
        for (const category of budget?.categories ?? []) {
          const ms = budget!.waitedMs(category);
          const delta = Math.max(ms - (seen.get(category) ?? 0), 0);
          this.inc({ category }, delta / 1000);
          if (delta > 0) seen.set(category, ms);
        }
      },
    });
  }

  /** Lets the gauges read the running pool. */
  watch(source: MetricsSource): void {
    this.#source = source;
  }

  /** Sets the EC2 budget the adapter keeps (replacing any earlier one). */
  setBudgetWaits(budget: BudgetWaits): void {
    this.#budget = budget;
    this.#budgetSeen.clear();
  }

  /** An AddNetwork call arrived. */
  addRequest(): void {
    this.#addRequests.inc();
  }

  /** A DelNetwork call arrived, with the plugin's reason (e.g. "PodDeleted"). */
  delRequest(reason: string): void {
    this.#delRequests.inc({ reason });
  }

  /** An ADD got an address after `waitedMs`; `queued` when none was free on arrival. */
  addServed(waitedMs: number, queued: boolean): void {
    if (queued) this.#noAddress.inc();
    this.#addWait.observe(waitedMs / 1000);
  }

  /** An ADD waited out its time without an address. */
  addTimedOut(reason: GrowthBlockReason, waitedMs: number): void {
    this.#noAddress.inc();
    this.#addTimeouts.inc({ reason });
    this.#addWait.observe(waitedMs / 1000);
  }

  /** Records one EC2 call: latency, requests and, for a failure, its error. */
  ec2Call(call: Ec2CallRecord): void {
    const failed = call.error !== undefined;
    const status = call.error?.status ?? "200";
    this.#apiLatency.observe({ api: call.api, error: String(failed), status }, call.latencyMs);
    for (const fn of call.requests) this.#ec2Requests.inc({ fn });
    if (call.error !== undefined) this.#apiErrors.inc({ api: call.api, error: call.error.code });
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type of `render()`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
