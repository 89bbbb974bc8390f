/**
 * The node's lifecycle around the pool: two background jobs on timers, reconciling
 * the datastore with IMDS and EC2 (every 60 s) and sweeping leaked ENIs (hourly,
 * after a random start delay). `startDaemon` wraps its EC2 port with `track()`,
 * calls `start()` once the pool runs and disposes it when the pool stops.
 *
 * @module
 */
import {
  type Clock,
  errorText,
  type Logger,
  PeriodicJob,
  realTimers,
  type Timers,
} from "../../shared/mod.ts";
import type { Ec2Port, ImdsPort } from "../cloud/mod.ts";
import type { Datastore, EniHooks } from "../pool/mod.ts";
import { LeakedEniCleaner, type LeakedEniSweep } from "./leaked_enis.ts";
import { type NodeReconcileOutcome, NodeReconciler } from "./node_reconciler.ts";
import { RecentChanges, TrackedEc2Port } from "./recent_changes.ts";
import type { EniDirectory } from "../cloud/mod.ts";

/** When and how leaked ENIs are swept. */
export interface LeakedEniSchedule {
  readonly intervalMs: number;
  /** The first sweep waits a random time up to this (spreading a fleet's sweeps). */
  readonly maxStartDelayMs: number;
  readonly minAgeMs: number;
  readonly clusterName: string;
}

/** The node, its cloud and the job timings. */
export interface NodeLifecycleOptions {
  readonly imds: ImdsPort;
  readonly directory: EniDirectory;
  readonly instanceId: string;
  readonly vpcId: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Between reconcile passes (default 60 000). */
  readonly reconcileIntervalMs?: number;
  /** How long a released address or a freed ENI is not added back (default 60 000). */
  readonly cooldownMs?: number;
  /** null: no sweeps (DISABLE_LEAKED_ENI_CLEANUP, or no provisioning). */
  readonly leakedEnis: LeakedEniSchedule | null;
  readonly timers?: Timers;
  readonly random?: () => number;
}

/** The running pool the background jobs work on. */
export interface PoolHooks {
  readonly datastore: Datastore;
  /** Host networking, told of the ENIs that come and go. */
  readonly enis?: EniHooks | undefined;
  /** The datastore changed. */
  changed?(): void;
}

/** Reconciliation and leaked-ENI cleanup of one node; disposing it stops both. */
export class NodeLifecycle implements AsyncDisposable {
  readonly changes: RecentChanges;
  readonly #o: NodeLifecycleOptions;
  readonly #timers: Timers;
  readonly #jobs: PeriodicJob[] = [];
  #reconciler: NodeReconciler | null = null;
  #cleaner: LeakedEniCleaner | null = null;

  constructor(options: NodeLifecycleOptions) {
    this.#o = options;
    this.#timers = options.timers ?? realTimers;
    this.changes = new RecentChanges(options.clock, options.cooldownMs);
  }

  /** `port`, telling reconciliation what the pool changes. */
  track(port: Ec2Port): Ec2Port {
    return new TrackedEc2Port(port, this.changes);
  }

  /** Starts the background jobs over the running pool; returns this, to dispose when the pool stops. */
  start(pool: PoolHooks): this {
    const { log } = this.#o;
    this.#reconciler = new NodeReconciler({
      ...this.#o,
      datastore: pool.datastore,
      ...(pool.enis === undefined ? {} : { enis: pool.enis }),
      ...(pool.changed === undefined ? {} : { changed: () => pool.changed?.() }),
      changes: this.changes,
      log: log.with({ op: "node" }),
    });
    this.#every(
      this.#o.reconcileIntervalMs ?? 60_000,
      this.#o.reconcileIntervalMs ?? 60_000,
      () => this.reconcile(),
    );
    const leaked = this.#o.leakedEnis;
    if (leaked === null) return this;
    this.#cleaner = new LeakedEniCleaner({
      directory: this.#o.directory,
      vpcId: this.#o.vpcId,
      clusterName: leaked.clusterName,
      minAgeMs: leaked.minAgeMs,
      clock: this.#o.clock,
      log: log.with({ op: "leaked-enis" }),
    });
    const startDelayMs = Math.floor((this.#o.random ?? Math.random)() * leaked.maxStartDelayMs);
    log.info("leaked-ENI cleanup scheduled", { startDelayMs, intervalMs: leaked.intervalMs });
    this.#every(startDelayMs, leaked.intervalMs, () => this.sweepLeakedEnis());
    return this;
  }

  /** One reconcile pass now (after `start()`). */
  async reconcile(): Promise<NodeReconcileOutcome | null> {
    return await this.#reconciler?.pass() ?? null;
  }

  /** One leaked-ENI sweep now (after `start()`, when sweeps are on). */
  async sweepLeakedEnis(): Promise<LeakedEniSweep | null> {
    return await this.#cleaner?.sweep() ?? null;
  }

  /** Stops the jobs and waits for a running one to finish; safe to call twice. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.#jobs.splice(0).map((job) => job[Symbol.asyncDispose]()));
  }

  /** Runs `job` after `firstMs`, then every `intervalMs` after each run ends. */
  #every(firstMs: number, intervalMs: number, job: () => Promise<unknown>): void {
    const onError = (error: unknown) =>
      this.#o.log.warn("node job failed; trying again later", { error: errorText(error) });
    this.#jobs.push(new PeriodicJob(this.#timers, job, { firstMs, intervalMs, onError }));
  }
}
