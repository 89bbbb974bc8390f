/**
 * A client's own pace for one kind of EC2 request once EC2 throttled it (the idea
 * of the AWS SDKs' "adaptive" retry mode): each throttled answer multiplies the rate
 * the node sends at by 0.7, down to a fifth of the bucket's refill; each answer that
 * was not throttled raises it a quarter; a minute without throttling ends the
 * pacing. Requests then go out one at a time, spaced by the rate (jittered), so
 * a fleet throttled together stops spending calls on answers it cannot use.
 *
 * @module
 */

/** A minute without throttling ends the pacing. */
export const PACE_RECOVERY_MS = 60_000;
/** The slowest pace, as a share of the bucket's refill. */
const FLOOR_SHARE = 0.2;
/** Each throttled answer multiplies the pace by this. */
const DECREASE = 0.7;
/** Each answer that was not throttled multiplies it by this, up to the refill. */
const INCREASE = 1.25;

/** One category's pace; no pacing until EC2 throttles a request. */
export class AdaptivePace {
  readonly #fullPerSecond: number;
  readonly #random: () => number;
  /** Requests per second while pacing; null when not pacing. */
  #perSecond: number | null = null;
  #nextMs = -Infinity;
  #lastThrottledMs = -Infinity;

  /** `fullPerSecond`: the bucket's refill, the pace's ceiling. */
  constructor(fullPerSecond: number, random: () => number = Math.random) {
    this.#fullPerSecond = fullPerSecond;
    this.#random = random;
  }

  /** Requests per second now, or null when not pacing. */
  perSecond(nowMs: number): number | null {
    if (this.#perSecond !== null && nowMs - this.#lastThrottledMs >= PACE_RECOVERY_MS) this.#perSecond = null;
    return this.#perSecond;
  }

  /** Takes the next slot for a request: how long to wait before sending it (0 when not pacing). */
  admit(nowMs: number): number {
    const perSecond = this.perSecond(nowMs);
    if (perSecond === null) return 0;
    const atMs = Math.max(nowMs, this.#nextMs);
    this.#nextMs = atMs + (1000 / perSecond) * (0.5 + this.#random());
    return Math.ceil(atMs - nowMs);
  }

  /** EC2 throttled a request: slow down. */
  throttled(nowMs: number): void {
    const current = this.perSecond(nowMs) ?? this.#fullPerSecond;
    this.#perSecond = Math.max(current * DECREASE, this.#fullPerSecond * FLOOR_SHARE);
    this.#lastThrottledMs = nowMs;
  }

  /** EC2 answered a request without throttling it: speed up a quarter, up to the ceiling. */
  answered(nowMs: number): void {
    const current = this.perSecond(nowMs);
    if (current !== null) this.#perSecond = Math.min(current * INCREASE, this.#fullPerSecond);
  }
}
