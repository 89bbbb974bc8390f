/**
 * Why the pool cannot grow, in one vocabulary for the policy's plan, the pause
 * after a cloud failure, a waiting ADD's failure, the metrics' `reason` label,
 * `aws-cni status` and the README's troubleshooting. `GrowthState` keeps the
 * current reason: the reconciler writes it, everything else reads it. It also
 * says when growth for spare addresses (the warm targets, with no ADD waiting for
 * them) waits because the account is throttled, so the calls go to pods first.
 * Every pause is drawn at random, so nodes that failed together do not come back
 * together.
 *
 * @module
 */
import { type Clock, errorText } from "../../shared/mod.ts";
import { type AccountPressure, CloudError } from "../cloud/mod.ts";

/** Every reason, in the order the metrics list them. */
export const GROWTH_BLOCK_REASONS = [
  "max-enis",
  "max-pods",
  "subnet-full",
  "throttled",
  "unauthorized",
  "cloud-error",
  "still-warming",
] as const;

/** Why the pool cannot grow (or, for `still-warming`, has not grown yet). */
export type GrowthBlockReason = typeof GROWTH_BLOCK_REASONS[number];

/** The one text of each reason, as operators read it. */
export const GROWTH_BLOCK_TEXT: Readonly<Record<GrowthBlockReason, string>> = Object.freeze({
  "max-enis": "max ENIs reached",
  "max-pods": "max pods reached",
  "subnet-full": "subnet full",
  "throttled": "EC2 throttled",
  "unauthorized": "not authorized",
  "cloud-error": "EC2 error",
  "still-warming": "still warming",
});

/** Why the pool cannot grow, with the cloud's words and until when growth pauses. */
export interface GrowthBlock {
  readonly reason: GrowthBlockReason;
  /** The cloud error for a paused failure; "" for a limit. */
  readonly detail: string;
  /** When a paused failure is retried; null for a limit, or a pause that ran out. */
  readonly untilMs: number | null;
}

/** A pause after a cloud failure. */
interface Hold extends GrowthBlock {
  readonly untilMs: number;
}

/** The longest pause after the n-th throttled failure in a row; the pause is drawn from 0 to it (full jitter). */
const THROTTLE_HOLD_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];
/** The longest pause after the n-th other transient cloud failure in a row (full jitter). */
const ERROR_HOLD_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];
/**
 * After the account last throttled a request, spare growth waits a random while of
 * up to this: a fleet's demand goes first, and its spares spread out after it.
 */
export const SPARE_QUIET_MS = 120_000;

/** What a growth state works with besides its clock. */
export interface GrowthOptions {
  /** The pause after a full subnet (default 120 s, as the reference), drawn from half of it to all of it. */
  readonly subnetFullHoldMs?: number | undefined;
  /** When EC2 last throttled one of the node's requests, retried or not. */
  readonly pressure?: AccountPressure | undefined;
  /** Draws the pauses (default Math.random). */
  readonly random?: (() => number) | undefined;
}

/** The pool's growth: paused after cloud failures, stopped by a limit, or free. */
export class GrowthState {
  readonly #clock: Clock;
  readonly #subnetFullHoldMs: number;
  readonly #pressure: AccountPressure | undefined;
  readonly #random: () => number;
  #hold: Hold | null = null;
  #limit: GrowthBlockReason | null = null;
  #throttles = 0;
  #errors = 0;
  #lastThrottledAtMs: number | null = null;
  #grewAtMs = -Infinity;
  /** The throttle the spare pause was drawn for, and the pause. */
  #spare: { readonly afterMs: number; readonly pauseMs: number } | null = null;

  constructor(clock: Clock, options: GrowthOptions = {}) {
    this.#clock = clock;
    this.#subnetFullHoldMs = options.subnetFullHoldMs ?? 120_000;
    this.#pressure = options.pressure;
    this.#random = options.random ?? Math.random;
  }

  /**
   * Until when growth for spare addresses waits because the account throttled a
   * request lately (a random while of up to `SPARE_QUIET_MS` after the last
   * throttle, drawn anew for each), or null. Growth for waiting ADDs goes on.
   */
  get spareHeldUntilMs(): number | null {
    const last = this.#lastThrottleMs;
    if (last === -Infinity) return null;
    if (this.#spare?.afterMs !== last) {
      this.#spare = { afterMs: last, pauseMs: this.#random() * SPARE_QUIET_MS };
    }
    const untilMs = last + this.#spare.pauseMs;
    return this.#clock.now() < untilMs ? untilMs : null;
  }

  /**
   * While spare growth waits out the account's throttling, that wait as a block
   * (growth for waiting ADDs goes on), or null.
   */
  get spareHold(): GrowthBlock | null {
    const untilMs = this.spareHeldUntilMs;
    const detail = "growth for spare addresses waits while EC2 throttles; waiting ADDs go first";
    return untilMs === null ? null : { reason: "throttled", detail, untilMs };
  }

  /** When EC2 last throttled one of the node's requests, retried or not; -Infinity if never. */
  get #lastThrottleMs(): number {
    return Math.max(this.#pressure?.lastThrottledAtMs ?? -Infinity, this.#lastThrottledAtMs ?? -Infinity);
  }

  /** The pause after a cloud failure, while it lasts. */
  get hold(): GrowthBlock | null {
    return this.#hold !== null && this.#clock.now() < this.#hold.untilMs ? this.#hold : null;
  }

  /** Why the pool cannot grow now, or null: a pause wins over the limit the last pass ran into. */
  get current(): GrowthBlock | null {
    return this.hold ?? (this.#limit === null ? null : { reason: this.#limit, detail: "", untilMs: null });
  }

  /**
   * Why an ADD waiting now is not served: `current`, else the failure whose pause
   * ran out while the pool has not grown since, else `throttled` if EC2 throttled a
   * request since the pool last grew (the calls are still being retried), else
   * `still-warming`.
   */
  get whyNoAddress(): GrowthBlock {
    const failed = this.#hold;
    if (this.current !== null) return this.current;
    if (failed !== null) return { reason: failed.reason, detail: failed.detail, untilMs: null };
    if (this.#lastThrottleMs > this.#grewAtMs) {
      return {
        reason: "throttled",
        detail: "EC2 throttled requests since the pool last grew",
        untilMs: null,
      };
    }
    return { reason: "still-warming", detail: "", untilMs: null };
  }

  /**
   * A grow or shrink action failed; a cloud failure pauses growth for a random
   * while that depends on it: up to 1, 2, 4 … 30 s after throttling in a row and up
   * to 1, 2, 4 … 30 s after other transient errors in a row, such as an Assign that
   * brought nothing, or any failure that is not the cloud's (full jitter); half to
   * all of 120 s after a full subnet and of 60 s after the ENI limit or a missing
   * permission.
   */
  failed(error: unknown): void {
    const retryAfterMs = error instanceof CloudError ? error.retryAfterMs ?? 0 : 0;
    const pause = (reason: GrowthBlockReason, maxMs: number, jitter: number) => {
      const ms = Math.max(maxMs * (1 - jitter * this.#random()), retryAfterMs);
      this.#hold = { reason, detail: errorText(error), untilMs: this.#clock.now() + Math.round(ms) };
    };
    switch (error instanceof CloudError ? error.kind : "other") {
      case "throttled":
        this.#lastThrottledAtMs = this.#clock.now();
        pause("throttled", THROTTLE_HOLD_MS[Math.min(this.#throttles++, THROTTLE_HOLD_MS.length - 1)]!, 1);
        break;
      case "subnet-full":
      case "no-cidr-blocks":
        pause("subnet-full", this.#subnetFullHoldMs, 0.5);
        break;
      case "attachment-limit":
        pause("max-enis", 60_000, 0.5);
        break;
      case "unauthorized":
        pause("unauthorized", 60_000, 0.5);
        break;
      default:
        pause("cloud-error", ERROR_HOLD_MS[Math.min(this.#errors++, ERROR_HOLD_MS.length - 1)]!, 1);
    }
  }

  /** Addresses joined the pool: any pause is over. */
  grew(): void {
    this.#grewAtMs = this.#clock.now();
    this.#throttles = 0;
    this.#errors = 0;
    this.#hold = null;
  }

  /**
   * A pass ended with `blocked` (the limit its last plan ran into). A pause that
   * ran out is forgotten only once the pool is no longer short.
   */
  passEnded(pass: { blocked: GrowthBlockReason | null; shortIps: number; failures: number }): void {
    if (pass.failures === 0 && pass.shortIps === 0 && this.hold === null) this.#hold = null;
    this.#limit = pass.blocked;
  }
}
