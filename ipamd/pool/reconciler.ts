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
  silentLogger,
  type Timers,
} from "../../shared/mod.ts";
import { type AttachedEni, CloudError, type Ec2Port } from "../cloud/mod.ts";
import type { Datastore, EniInfo } from "./datastore.ts";
import { planPool } from "./policy.ts";
import type { PoolBlock } from "./waiters.ts";
import type { GrowBlock, InstanceLimits, PoolAction, PoolPlan, PoolSettings } from "./types.ts";

/** Why growth is paused after a cloud failure, and until when. */
export interface GrowHold {
  readonly reason: "subnet-full" | "throttled" | "attachment-limit" | "unauthorized" | "cloud-error";
  readonly untilMs: number;
  readonly message: string;
}

/** What one pass did. */
export interface PassOutcome {
  /** The last plan of the pass, after the actions before it were applied. */
  readonly plan: PoolPlan;
  readonly applied: readonly PoolAction[];
  readonly failed: readonly { readonly action: PoolAction; readonly error: string }[];
  /** Set when the pool is short and the limits forbid growth. */
  readonly blocked: GrowBlock | null;
  /** Set when growth waits out a cloud failure. */
  readonly hold: GrowHold | null;
}

/** Everything a reconciler works with. */
export interface ReconcilerOptions {
  readonly datastore: Datastore;
  readonly ec2: Ec2Port;
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  readonly clock: Clock;
  readonly log?: Logger;
  /** How many ADDs wait for an address right now. */
  readonly waitingAdds?: () => number;
  /** Called after addresses joined the pool, so waiting ADDs can be served. */
  readonly onAddresses?: () => void;
  /** How the loop waits (default: real timers). */
  readonly timers?: Timers;
  /** How long a non-urgent wake-up may wait to be folded into the next (default 50 ms). */
  readonly settleMs?: number;
  /** Called once a new ENI is in the datastore (host networking sets it up). */
  readonly onEniCreated?: (eni: AttachedEni) => Promise<void>;
  /** Called once an ENI was freed in EC2 (host networking tears it down). */
  readonly onEniFreed?: (eni: EniInfo) => Promise<void>;
  /** Called after every pass with its outcome. */
  readonly onPass?: (outcome: PassOutcome) => void;
  /** Pause after a full subnet or fragmented prefixes (default 120 s, as the reference). */
  readonly subnetFullHoldMs?: number;
}

const MAX_PLANS_PER_PASS = 64;
const THROTTLE_HOLD_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

/** Runs passes of snapshot → policy → EC2 → datastore, one at a time. */
export class Reconciler {
  readonly #o: ReconcilerOptions;
  readonly #log: Logger;
  #lastDecreaseAtMs: number | null = null;
  #hold: GrowHold | null = null;
  #throttles = 0;
  #last: PassOutcome | null = null;
  #running: Promise<PassOutcome> | null = null;
  #queued: Promise<PassOutcome> | null = null;
  #nap: Nap | null = null;
  #cancelSoon: (() => void) | undefined;
  #woken = false;
  readonly #settleMs: number;
  readonly #peaks: PeakWindow;
  readonly #timers: Timers;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
    this.#log = options.log ?? silentLogger;
    this.#settleMs = options.settleMs ?? 50;
    this.#peaks = new PeakWindow(options.settings.scaleDownWindowMs);
    this.#timers = options.timers ?? realTimers;
  }

  /** The outcome of the last finished pass, if any. */
  get last(): PassOutcome | null {
    return this.#last;
  }

  /** The current growth pause, if it has not run out. */
  get hold(): GrowHold | null {
    return this.#hold !== null && this.#o.clock.now() < this.#hold.untilMs ? this.#hold : null;
  }

  /** Why ADDs waiting now would not be served, as far as this reconciler knows. */
  get block(): PoolBlock {
    const hold = this.hold;
    const reasonOf = (h: GrowHold) =>
      h.reason === "throttled" || h.reason === "subnet-full"
        ? h.reason
        : h.reason === "attachment-limit"
        ? "max-enis"
        : "still-warming";
    if (hold !== null) {
      const retryAfterMs = Math.max(hold.untilMs - this.#o.clock.now(), 0);
      return { reason: reasonOf(hold), retryAfterMs, detail: hold.message };
    }
    const blocked = this.#last?.blocked;
    if (blocked !== undefined && blocked !== null) return { reason: blocked };
    // The pause ran out and a retry is under way, but the pool has not grown since the failure: say why.
    const failed = this.#hold;
    if (failed !== null) return { reason: reasonOf(failed), retryAfterMs: null, detail: failed.message };
    return { reason: "still-warming" };
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
      this.#nap = this.#timers.nap(Math.max(Math.min(intervalMs, due - nowMs, holdEnd - nowMs), 0));
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
      const actions = growing && this.hold !== null ? [] : plan.actions;
      if (actions.length === 0) break;
      let ok = true;
      for (const action of actions) {
        try {
          if (await this.#apply(action)) applied.push(action);
        } catch (error) {
          ok = false;
          failed.push({ action, error: errorText(error) });
          this.#onFailure(action, error);
          if (growing) break;
        }
      }
      plan = this.#plan();
      if (!ok || !growing) break;
    }
    // A pause that ran out is kept as the reason waiting ADDs hear only while the pool is still short.
    if (failed.length === 0 && plan.shortIps === 0 && this.hold === null) this.#hold = null;
    const outcome: PassOutcome = { plan, applied, failed, blocked: plan.blocked, hold: this.hold };
    this.#last = outcome;
    this.#o.onPass?.(outcome);
    return outcome;
  }

  #plan(): PoolPlan {
    const { datastore, limits, settings, clock } = this.#o;
    const nowMs = clock.now();
    const waitingAdds = this.#o.waitingAdds?.() ?? 0;
    const { assigned, cooling } = datastore.stats(nowMs);
    const peakDemand = this.#peaks.note(nowMs, assigned + cooling + waitingAdds);
    const snapshot = datastore.snapshot(nowMs, { waitingAdds, lastDecreaseAtMs: this.#lastDecreaseAtMs });
    return planPool({ ...snapshot, ...(peakDemand ? { peakDemand } : {}) }, { limits, settings, nowMs });
  }

  /** Carries out one action; false when the datastore no longer allows it. */
  async #apply(action: PoolAction): Promise<boolean> {
    const { datastore, ec2, settings, clock } = this.#o;
    const prefixes = settings.prefixDelegation;
    switch (action.kind) {
      case "assign": {
        const cidrs = await ec2.assignAddresses(action.eniId, { count: action.count, prefixes });
        datastore.addCidrs(action.eniId, cidrs);
        this.#grew("assigned addresses", { eniId: action.eniId, count: cidrs.length });
        return true;
      }
      case "create-eni": {
        const eni = await ec2.createEni({ count: action.count, prefixes });
        datastore.addEni({ ...eni, createdAtMs: clock.now() });
        datastore.addCidrs(eni.eniId, [...eni.cidrs]);
        await this.#o.onEniCreated?.(eni);
        this.#grew("created ENI", { eniId: eni.eniId, device: eni.deviceNumber, count: eni.cidrs.length });
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
          datastore.addEni(eni);
          datastore.addCidrs(eni.eniId, [...eni.cidrs]);
          throw error;
        }
        await this.#o.onEniFreed?.(eni);
        this.#log.info("freed ENI", { eniId: action.eniId });
        return true;
      }
    }
  }

  #grew(msg: string, fields: Record<string, string | number>): void {
    this.#throttles = 0;
    this.#hold = null;
    this.#log.info(msg, fields);
    this.#o.onAddresses?.();
  }

  #onFailure(action: PoolAction, error: unknown): void {
    const nowMs = this.#o.clock.now();
    const message = errorText(error);
    this.#log.warn("pool action failed", { action: action.kind, error: message });
    if (!(error instanceof CloudError)) return;
    const holdFor = (reason: GrowHold["reason"], ms: number) => {
      this.#hold = { reason, untilMs: nowMs + Math.max(ms, error.retryAfterMs ?? 0), message };
    };
    switch (error.kind) {
      case "throttled":
        holdFor("throttled", THROTTLE_HOLD_MS[Math.min(this.#throttles++, THROTTLE_HOLD_MS.length - 1)]!);
        break;
      case "subnet-full":
      case "no-cidr-blocks":
        holdFor("subnet-full", this.#o.subnetFullHoldMs ?? 120_000);
        break;
      case "attachment-limit":
        holdFor("attachment-limit", 60_000);
        break;
      case "unauthorized":
        holdFor("unauthorized", 60_000);
        break;
      default:
        holdFor("cloud-error", 1_000);
    }
  }
}

/** The largest value seen within a sliding time window (a monotonic queue). */
class PeakWindow {
  readonly #windowMs: number;
  readonly #samples: { atMs: number; value: number }[] = [];

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Records `value` at `nowMs`; returns the window's peak and when it leaves, or null with no window. */
  note(nowMs: number, value: number): { addresses: number; untilMs: number } | null {
    if (this.#windowMs <= 0) return null;
    const samples = this.#samples;
    while (samples.length > 0 && samples[samples.length - 1]!.value <= value) samples.pop();
    samples.push({ atMs: nowMs, value });
    while (samples[0]!.atMs + this.#windowMs <= nowMs) samples.shift();
    const peak = samples[0]!;
    return { addresses: peak.value, untilMs: peak.atMs + this.#windowMs };
  }
}
