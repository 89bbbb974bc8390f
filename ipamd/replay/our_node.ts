/**
 * Our daemon on one replay node: the real datastore, policy and reconciler, the
 * EC2 port over the shared account, and the waiting-ADD queue, all in simulated
 * time. The loop is the daemon's `Reconciler.run()` (a pass, then a wait of the
 * interval or until a deferred decision or a hold ends, cut short by a wake), and
 * the queue keeps `AddressQueue`'s semantics (first come first served, a deadline,
 * then the runtime retries); both are rebuilt here on the scheduler because the
 * daemon's versions wait on real timers.
 *
 * @module
 */
import type { AttachedEni } from "../cloud/ec2_port.ts";
import { SimEc2Port } from "../cloud/ec2_sim_port.ts";
import { CloudError } from "../cloud/errors.ts";
import { Datastore } from "../pool/datastore.ts";
import { Reconciler } from "../pool/reconciler.ts";
import type { InstanceLimits, PoolSettings } from "../pool/types.ts";
import { NO_ADDRESS_TEXT, type NoAddressReason } from "../pool/waiters.ts";
import { countingView, newTally, type ReplayAccount } from "./account.ts";
import type { AddOutcome, AddressCounts, PodRef, ReplayNode } from "./replay_node.ts";
import type { Nap, Scheduler, Timer } from "./scheduler.ts";

/** How our node is set up. */
export interface OurNodeOptions {
  readonly name: string;
  readonly account: ReplayAccount;
  readonly instanceId: string;
  readonly scheduler: Scheduler;
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  /** How long an ADD waits in ipamd for an address (ADD_WAIT_TIMEOUT, default 10 s). */
  readonly addWaitMs?: number;
  /** The pool loop's interval (POOL_RECONCILE_INTERVAL, default 5 s). */
  readonly intervalMs?: number;
}

const START_BACKOFF_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

interface Waiter {
  readonly pod: PodRef;
  readonly done: (outcome: AddOutcome) => void;
  readonly timer: Timer;
}

/** Our policy on one node. */
export class OurNode implements ReplayNode {
  readonly name: string;
  readonly tally = newTally();
  readonly datastore: Datastore;
  readonly reconciler: Reconciler;
  readonly #o: OurNodeOptions;
  readonly #port: SimEc2Port;
  readonly #queue: Waiter[] = [];
  #nap: Nap | null = null;
  /** Daemon starts that failed on a cloud error (the node was restarted). */
  startFailures = 0;

  constructor(options: OurNodeOptions) {
    this.#o = options;
    this.name = options.name;
    const { scheduler, settings, limits } = options;
    const sim = countingView(options.account.sim, this.tally);
    this.#port = new SimEc2Port(sim, options.instanceId, { sleep: (ms) => scheduler.sleep(ms) });
    this.datastore = new Datastore({ cooldownMs: settings.ipCooldownMs });
    this.reconciler = new Reconciler({
      datastore: this.datastore,
      ec2: this.#port,
      limits,
      settings,
      clock: scheduler.clock,
      waitingAdds: () => this.#queue.length,
      onAddresses: () => this.#serve(),
    });
  }

  start(onReady: () => void): void {
    const { scheduler } = this.#o;
    scheduler.spawn(async () => {
      for (const eni of await this.#describeAtStart()) {
        this.datastore.addEni({ ...eni, createdAtMs: scheduler.now() });
        this.datastore.addCidrs(eni.eniId, [...eni.cidrs]);
      }
      scheduler.at(scheduler.now(), onReady);
      await this.#loop();
    });
  }

  add(pod: PodRef, done: (outcome: AddOutcome) => void): void {
    const { scheduler } = this.#o;
    const held = this.datastore.get(pod.key);
    if (held !== null) return done({ ok: true, ip: held.ip });
    if (this.#queue.length === 0) {
      const allocation = this.datastore.assign(pod.key, meta(pod), scheduler.now());
      if (allocation !== null) {
        this.#nap?.wake();
        return done({ ok: true, ip: allocation.ip });
      }
    }
    const timer = scheduler.at(scheduler.now() + (this.#o.addWaitMs ?? 10_000), () => {
      const index = this.#queue.findIndex((w) => w.pod === pod);
      if (index < 0) return;
      this.#queue.splice(index, 1);
      done({ ok: false, reason: NO_ADDRESS_TEXT[this.#blockReason()] });
    });
    this.#queue.push({ pod, done, timer });
    this.#nap?.wake();
  }

  del(pod: PodRef): void {
    const index = this.#queue.findIndex((w) => w.pod === pod);
    if (index >= 0) {
      this.#queue[index]!.timer.cancel();
      this.#queue.splice(index, 1);
    }
    if (this.datastore.release(pod.key, this.#o.scheduler.now()) !== null) this.#nap?.wake();
  }

  counts(nowMs: number): AddressCounts {
    const { total, assigned, cooling } = this.datastore.stats(nowMs);
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

  /** `Reconciler.run()` in simulated time. */
  async #loop(): Promise<void> {
    const { scheduler } = this.#o;
    const intervalMs = this.#o.intervalMs ?? 5_000;
    for (;;) {
      const outcome = await this.reconciler.pass();
      this.#serve();
      const nowMs = scheduler.now();
      const due = outcome.plan.nextWakeMs ?? Infinity;
      const holdEnd = outcome.hold?.untilMs ?? Infinity;
      const delayMs = Math.max(Math.min(intervalMs, due - nowMs, holdEnd - nowMs), 0);
      this.#nap = scheduler.nap(delayMs);
      await this.#nap.done;
      this.#nap = null;
    }
  }

  /** `AddressQueue.serve()`: hands free addresses to waiters, first come first served. */
  #serve(): void {
    const nowMs = this.#o.scheduler.now();
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const allocation = this.datastore.assign(head.pod.key, meta(head.pod), nowMs);
      if (allocation === null) return;
      this.#queue.shift();
      head.timer.cancel();
      head.done({ ok: true, ip: allocation.ip });
    }
  }

  /** The daemon's `blockOf()`: why waiting ADDs are not served. */
  #blockReason(): NoAddressReason {
    const hold = this.reconciler.hold;
    if (hold !== null) {
      if (hold.reason === "throttled" || hold.reason === "subnet-full") return hold.reason;
      return hold.reason === "attachment-limit" ? "max-enis" : "still-warming";
    }
    return this.reconciler.last?.blocked ?? "still-warming";
  }
}

function meta(pod: PodRef): { podNamespace: string; podName: string } {
  return { podNamespace: "default", podName: pod.key.containerId };
}
