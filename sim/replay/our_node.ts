/**
 * Our daemon on one replay node: the daemon's own `Pool` (datastore, policy,
 * reconciler loop and waiting-ADD queue), with the EC2 port over the shared
 * account, all waiting on the replay's scheduler instead of real timers.
 *
 * @module
 */
import { type AttachedEni, CloudError } from "../../ipamd/cloud/mod.ts";
import { SimEc2Port } from "../ec2/mod.ts";
import {
  GROWTH_BLOCK_TEXT,
  type InstanceLimits,
  NoAddressError,
  Pool,
  type PoolSettings,
} from "../../ipamd/pool/mod.ts";
import type { Timers } from "../../shared/mod.ts";
import { countingView, newTally, type ReplayAccount } from "./account.ts";
import type { AddOutcome, AddressCounts, PodRef, ReplayNode } from "./replay_node.ts";
import type { Scheduler } from "./scheduler.ts";
import { ourPlacement, replaySubnetId } from "./subnets.ts";
import type { EniPlacement } from "../../ipamd/node/mod.ts";

/** How our node is set up. */
export interface OurNodeOptions {
  readonly name: string;
  readonly account: ReplayAccount;
  readonly instanceId: string;
  /** The instance's primary ENI and its MAC. */
  readonly primary: { readonly eniId: string; readonly mac: string };
  readonly scheduler: Scheduler;
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  /** How long an ADD waits in ipamd for an address (ADD_WAIT_TIMEOUT, default 10 s). */
  readonly addWaitMs?: number;
  /** The pool loop's interval (POOL_RECONCILE_INTERVAL, default 5 s). */
  readonly intervalMs?: number;
}

const START_BACKOFF_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

/** The scheduler as the daemon's timers. */
function schedulerTimers(scheduler: Scheduler): Timers {
  return {
    nap: (ms) => scheduler.nap(ms),
    after: (ms, fn) => {
      const timer = scheduler.at(scheduler.now() + ms, fn);
      return () => timer.cancel();
    },
  };
}

/** Our policy on one node. */
export class OurNode implements ReplayNode {
  readonly name: string;
  readonly tally = newTally();
  readonly pool: Pool;
  readonly #o: OurNodeOptions;
  readonly #port: SimEc2Port;
  readonly #placement: Promise<EniPlacement>;
  #placed: EniPlacement | null = null;
  /** Daemon starts that failed on a cloud error (the node was restarted). */
  startFailures = 0;

  constructor(options: OurNodeOptions) {
    this.#o = options;
    this.name = options.name;
    const { scheduler, settings, limits } = options;
    const timers = schedulerTimers(scheduler);
    const sim = countingView(options.account.sim, this.tally);
    // The daemon's placement: subnet discovery for new ENIs, the subnets' free addresses for the targets.
    this.#placement = ourPlacement(sim, { ...options.primary, settings });
    this.#placement.then((placement) => this.#placed = placement);
    this.#port = new SimEc2Port(sim, options.instanceId, {
      sleep: (ms) => scheduler.sleep(ms),
      placement: () => this.#placement.then((placement) => placement.place()),
    });
    const idOf = new Map(options.account.subnets.map((subnet, i) => [subnet.cidr, replaySubnetId(i)]));
    const room = {
      total: () => this.#placed?.total ?? Infinity,
      free: (eniId: string | null) => {
        const cidr = eniId === null ? null : this.pool.datastore.getEni(eniId)?.subnetCidr ?? "";
        return this.#placed?.free(cidr === null ? null : idOf.get(cidr) ?? "?") ?? Infinity;
      },
    };
    this.pool = new Pool({ ec2: this.#port, limits, settings, clock: scheduler.clock, timers, room });
  }

  /** The daemon's refresh of the subnets' free addresses: at start, then every 30 s. */
  async #refreshSubnets(): Promise<void> {
    const placement = await this.#placement;
    for (;;) {
      try {
        await placement.refresh([], () => Promise.resolve(), this.#o.settings.subnetAware);
      } catch {
        // Throttled: the next run tries again.
      }
      await this.#o.scheduler.sleep(30_000);
    }
  }

  start(onReady: () => void): void {
    const { scheduler } = this.#o;
    scheduler.spawn(async () => {
      this.pool.adopt(await this.#describeAtStart());
      scheduler.at(scheduler.now(), onReady);
      scheduler.spawn(() => this.#refreshSubnets());
      await this.pool.run(this.#o.intervalMs ?? 5_000).done;
    });
  }

  add(pod: PodRef, done: (outcome: AddOutcome) => void): void {
    const meta = { podNamespace: "default", podName: pod.key.containerId };
    this.pool.acquire(pod.key, meta, this.#o.addWaitMs ?? 10_000).then(
      (allocation) => {
        this.pool.changed();
        done({ ok: true, ip: allocation.ip });
      },
      (error) =>
        done({
          ok: false,
          reason: error instanceof NoAddressError ? GROWTH_BLOCK_TEXT[error.reason] : String(error),
        }),
    );
  }

  del(pod: PodRef): void {
    if (this.pool.release(pod.key) !== null) this.pool.changed();
  }

  counts(nowMs: number): AddressCounts {
    const { total, assigned, cooling } = this.pool.datastore.stats(nowMs);
    return { total, assigned, cooling };
  }

  /**
   * The daemon's first `describeNode()`. If it fails the daemon does not start; the
   * service manager restarts it, modelled as a retry after the reconciler's throttle
   * back-off (1, 2, 4, 8, 16, then 30 s).
   */
  async #describeAtStart(): Promise<AttachedEni[]> {
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#port.describeNode();
      } catch (error) {
        if (!(error instanceof CloudError)) throw error;
        this.startFailures++;
        await this.#o.scheduler.sleep(START_BACKOFF_MS[Math.min(attempt, START_BACKOFF_MS.length - 1)]!);
      }
    }
  }
}
