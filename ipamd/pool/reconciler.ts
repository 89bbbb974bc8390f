/**
 * Decide, then do: each pass takes a snapshot of the datastore, asks the policy
 * for a plan, carries it out through the EC2 port and records the outcome. Grow
 * steps repeat within one pass until the pool is no longer low, so a burst of pods
 * does not wait for timer ticks. A failing cloud call is recorded and never stops
 * the loop.
 *
 * @module
 */
import {
  type Clock,
  errorText,
  type Logger,
  type Nap,
  realTimers,
  settleAll,
  silentLogger,
  type Timers,
} from "../../shared/mod.ts";
import { type AttachedEni, CloudError, type Ec2Port } from "../cloud/mod.ts";
import type { Datastore, EniInfo } from "./datastore.ts";
import type { GrowthBlock, GrowthBlockReason, GrowthState } from "./growth.ts";
import { planPool } from "./policy.ts";
import type { ScaleDownWindow } from "./scale_down_window.ts";
import type { SubnetRoom } from "./subnet_room.ts";
import type { InstanceLimits, PoolAction, PoolPlan, PoolSettings } from "./types.ts";

/** What one pass did. */
export interface PassOutcome {
  /** The last plan of the pass, after the actions before it were applied. */
  readonly plan: PoolPlan;
  readonly applied: readonly PoolAction[];
  readonly failed: readonly { readonly action: PoolAction; readonly error: string }[];
  /** Set when the pool is short and the limits forbid growth. */
  readonly blocked: GrowthBlockReason | null;
  /** Set when growth waits out a cloud failure. */
  readonly hold: GrowthBlock | null;
}

/** The ADDs waiting for an address, as the reconciler sees them. */
export interface AddressDemand {
  /** ADDs waiting now. */
  readonly waiting: number;
  /** Hands addresses that just joined the pool to the waiting ADDs. */
  serve(): void;
}

/** Work on the host when the pool's ENIs change (host networking). */
export interface EniHooks {
  /** A new ENI is in the datastore. */
  added(eni: AttachedEni): Promise<void>;
  /** An ENI left the datastore. */
  removed(eni: EniInfo): Promise<void>;
}

/** Everything a reconciler works with. */
export interface ReconcilerOptions {
  readonly datastore: Datastore;
  readonly demand: AddressDemand;
  /** Written by every pass: what stops growth now. */
  readonly growth: GrowthState;
  readonly window: ScaleDownWindow;
  readonly ec2: Ec2Port;
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  readonly clock: Clock;
  readonly log?: Logger | undefined;
  /** How the loop waits (default: real timers). */
  readonly timers?: Timers | undefined;
  /** How long a non-urgent wake-up may wait to be folded into the next (default 50 ms). */
  readonly settleMs?: number | undefined;
  /** Told of every ENI the pool creates or frees. */
  readonly enis?: EniHooks | undefined;
  /** The subnets' free addresses, for subnet-aware targets. */
  readonly room?: SubnetRoom | undefined;
  /** Called after every pass with its outcome. */
  readonly onPass?: ((outcome: PassOutcome) => void) | undefined;
}

const MAX_PLANS_PER_PASS = 64;
/** Spare growth waits until the pool has been short this long (a pod that leaves at once costs nothing). */
const SPARE_SETTLE_MS = 10_000;

/** Runs passes of snapshot → policy → EC2 → datastore, one at a time; disposing drops a pending wake-up. */
export class Reconciler implements Disposable {
  readonly #o: ReconcilerOptions;
  readonly #log: Logger;
  #lastDecreaseAtMs: number | null = null;
  #last: PassOutcome | null = null;
  #running: Promise<PassOutcome> | null = null;
  #queued: Promise<PassOutcome> | null = null;
  #nap: Nap | null = null;
  #cancelSoon: (() => void) | undefined;
  #woken = false;
  /** Since when the pool has been short of spare addresses alone (no ADD waiting), or null. */
  #spareShortSinceMs: number | null = null;
  readonly #settleMs: number;
  readonly #timers: Timers;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
    this.#log = options.log ?? silentLogger;
    this.#settleMs = options.settleMs ?? 50;
    this.#timers = options.timers ?? realTimers;
  }

  /** The outcome of the last finished pass, if any. */
  get last(): PassOutcome | null {
    return this.#last;
  }

  /** When addresses were last given back to EC2. */
  get lastDecreaseAtMs(): number | null {
    return this.#lastDecreaseAtMs;
  }

  /** The plan the next pass would start with, without carrying it out. */
  preview(): PoolPlan {
    return this.#plan();
  }

  /**
   * Runs one pass. A call during a running pass returns a promise for a pass that
   * starts after it, so every wake-up is seen by a pass that began later.
   */
  pass(): Promise<PassOutcome> {
    if (this.#running === null) {
      this.#running = this.#pass().finally(() => {
        this.#running = null;
      });
      return this.#running;
    }
    this.#queued ??= this.#running.then(() => {
      this.#queued = null;
      return this.pass();
    });
    return this.#queued;
  }

  /**
   * Asks the loop started by `run()` for a pass: at once when `urgent` (ADDs are
   * waiting), else within `settleMs`, so a stream of ADDs and DELs costs a few
   * passes, not one each.
   */
  wake(urgent = false): void {
    if (urgent || this.#settleMs === 0) {
      this.#rouse();
      return;
    }
    this.#cancelSoon ??= this.#timers.after(this.#settleMs, () => {
      this.#cancelSoon = undefined;
      this.#rouse();
    });
  }

  [Symbol.dispose](): void {
    this.#cancelSoon?.();
    this.#cancelSoon = undefined;
  }

  /** Ends the loop's sleep, or, during a pass, makes it skip the next sleep. */
  #rouse(): void {
    if (this.#nap !== null) this.#nap.wake();
    else this.#woken = true;
  }

  /**
   * Runs passes until `signal` aborts: every `intervalMs`, sooner when a deferred
   * decision comes due, and at once on `wake()`.
   */
  async run(signal: AbortSignal, intervalMs: number): Promise<void> {
    const onAbort = () => this.#nap?.wake();
    signal.addEventListener("abort", onAbort);
    while (!signal.aborted) {
      this.#woken = false;
      const outcome = await this.pass();
      if (signal.aborted) break;
      if (this.#woken) continue; // woken during the pass: look again at once
      const due = outcome.plan.nextWakeMs ?? Infinity;
      const holdEnd = outcome.hold?.untilMs ?? Infinity;
      const nowMs = this.#o.clock.now();
      const napMs = Math.min(intervalMs, due - nowMs, holdEnd - nowMs);
      this.#nap = this.#timers.nap(Math.max(napMs, 0));
      await this.#nap.done;
      this.#nap = null;
    }
    signal.removeEventListener("abort", onAbort);
    this.#cancelSoon?.();
    this.#cancelSoon = undefined;
  }

  async #pass(): Promise<PassOutcome> {
    const applied: PoolAction[] = [];
    const failed: { action: PoolAction; error: string }[] = [];
    let plan = this.#plan();
    for (let round = 0; round < MAX_PLANS_PER_PASS; round++) {
      const growing = plan.shortIps > 0;
      if (!growing || this.#o.demand.waiting > 0) this.#spareShortSinceMs = null;
      let actions = growing && this.#o.growth.hold !== null ? [] : plan.actions;
      if (actions.length > 0 && growing) actions = this.#demandFirst(plan);
      if (actions.length === 0) break;
      let ok = true;
      const fail = (action: PoolAction, error: unknown) => {
        ok = false;
        failed.push({ action, error: errorText(error) });
        this.#onFailure(action, error);
      };
      if (growing) {
        // Growth steps go out together (an Assign and new ENIs), so a burst waits for the slowest, not the sum.
        const results = await settleAll(this.#timers, actions.map((action) => () => this.#apply(action)));
        results.forEach((result, i) => {
          if (result.status === "rejected") fail(actions[i]!, result.reason);
          else if (result.value) applied.push(actions[i]!);
        });
      } else {
        for (const action of actions) {
          try {
            if (await this.#apply(action)) applied.push(action);
          } catch (error) {
            fail(action, error);
          }
        }
      }
      plan = this.#plan();
      if (!ok || !growing) break;
    }
    const { growth } = this.#o;
    growth.passEnded({ blocked: plan.blocked, shortIps: plan.shortIps, failures: failed.length });
    plan = this.#withSpareWake(plan);
    const outcome: PassOutcome = { plan, applied, failed, blocked: plan.blocked, hold: growth.hold };
    this.#last = outcome;
    this.#o.onPass?.(outcome);
    return outcome;
  }

  /**
   * Growth for waiting ADDs goes first: only the calls they need (each still asks
   * for what the targets want, so spare addresses ride along at no extra call).
   * Growth for spare addresses alone comes once the pool has been short for
   * `SPARE_SETTLE_MS` while it still has an address to hand out (a pod that leaves
   * at once costs nothing), and waits while the account throttles
   * (`GrowthState.spareHeldUntilMs`).
   */
  #demandFirst(plan: PoolPlan): readonly PoolAction[] {
    if (this.#o.demand.waiting > 0) {
      const demand = this.#plan(false);
      // Waiting ADDs that cooling addresses will serve within COOLING_WAIT_MS need no growth.
      if (demand.shortIps > 0) return plan.actions.slice(0, demand.actions.length);
    }
    const nowMs = this.#o.clock.now();
    this.#spareShortSinceMs ??= nowMs;
    if (plan.stats.usable > 0 && nowMs < this.#spareShortSinceMs + SPARE_SETTLE_MS) return [];
    return this.#o.growth.spareHeldUntilMs === null ? plan.actions : [];
  }

  /** `plan` with a wake-up when waiting spare growth comes due. */
  #withSpareWake(plan: PoolPlan): PoolPlan {
    if (plan.shortIps === 0 || plan.actions.length === 0 || this.#o.demand.waiting > 0) return plan;
    const settleEnd = this.#spareShortSinceMs === null || plan.stats.usable === 0
      ? null
      : this.#spareShortSinceMs + SPARE_SETTLE_MS;
    const nowMs = this.#o.clock.now();
    const due = [settleEnd, this.#o.growth.spareHeldUntilMs].filter((ms): ms is number =>
      ms !== null && ms > nowMs
    );
    if (plan.nextWakeMs !== null) due.push(plan.nextWakeMs);
    return due.length === 0 ? plan : { ...plan, nextWakeMs: Math.min(...due) };
  }

  /** The policy's plan now; `spare` false plans growth for the waiting ADDs alone. */
  #plan(spare = true): PoolPlan {
    const { datastore, limits, settings, clock } = this.#o;
    const nowMs = clock.now();
    const waitingAdds = this.#o.demand.waiting;
    // Demand is what pods hold or wait for (cooling addresses count toward the warm target instead).
    const peakDemand = this.#o.window.note(nowMs, datastore.stats(nowMs).assigned + waitingAdds);
    const snapshot = datastore.snapshot(nowMs, { waitingAdds, lastDecreaseAtMs: this.#lastDecreaseAtMs });
    const input = { limits, settings, nowMs, spare, room: this.#o.room };
    return planPool({ ...snapshot, ...(peakDemand ? { peakDemand } : {}) }, input);
  }

  /** Carries out one action; false when the datastore no longer allows it. */
  async #apply(action: PoolAction): Promise<boolean> {
    const { datastore, ec2, settings, clock } = this.#o;
    const prefixes = settings.prefixDelegation;
    switch (action.kind) {
      case "assign": {
        const cidrs = await ec2.assignAddresses(action.eniId, { count: action.count, prefixes });
        const added = this.#keep(action.eniId, cidrs);
        if (added.length === 0) {
          // Growing again at once would ask again at once: pause as after a failure.
          throw new CloudError(
            "unavailable",
            "EmptyAnswer",
            `AssignPrivateIpAddresses on "${action.eniId}" brought no address the pool can use`,
          );
        }
        this.#grew("assigned addresses", { eniId: action.eniId, count: added.length });
        return true;
      }
      case "create-eni": {
        const eni = await ec2.createEni({ count: action.count, prefixes });
        datastore.addEni({ ...eni, createdAtMs: clock.now() });
        const added = this.#keep(eni.eniId, eni.cidrs);
        await this.#o.enis?.added({ ...eni, cidrs: added });
        this.#grew("created ENI", { eniId: eni.eniId, device: eni.deviceNumber, count: added.length });
        return true;
      }
      case "release": {
        const taken = datastore.takeForRelease(action.eniId, [...action.cidrs], clock.now());
        if (taken.length === 0) return false;
        try {
          await ec2.releaseAddresses(action.eniId, taken);
        } catch (error) {
          datastore.addCidrs(action.eniId, taken);
          throw error;
        }
        this.#lastDecreaseAtMs = clock.now();
        this.#log.info("released addresses", { eniId: action.eniId, count: taken.length });
        return true;
      }
      case "free-eni": {
        const eni = datastore.getEni(action.eniId);
        if (eni === null || !datastore.takeEniForFree(action.eniId, clock.now())) return false;
        try {
          await ec2.freeEni(action.eniId);
        } catch (error) {
          datastore.adoptEni(eni);
          throw error;
        }
        await this.#o.enis?.removed(eni);
        this.#log.info("freed ENI", { eniId: action.eniId });
        return true;
      }
    }
  }

  /**
   * Adds what fits of EC2's answer for `eniId` and returns it; the rest (an address
   * the ENI already owns as its own, one another ENI holds) is logged and left out,
   * never a reason to drop the answer and ask EC2 again.
   */
  #keep(eniId: string, cidrs: readonly string[]): string[] {
    const { added, misfits } = this.#o.datastore.addFitting(eniId, cidrs);
    if (misfits.length > 0) {
      this.#log.warn("EC2's answer holds addresses the pool cannot take; keeping the rest", {
        eniId,
        kept: added.length,
        left: misfits.join("; "),
      });
    }
    return added;
  }

  #grew(msg: string, fields: Record<string, string | number>): void {
    this.#o.growth.grew();
    this.#log.info(msg, fields);
    this.#o.demand.serve();
  }

  #onFailure(action: PoolAction, error: unknown): void {
    this.#log.warn("pool action failed", { action: action.kind, error: errorText(error) });
    this.#o.growth.failed(error);
  }
}
