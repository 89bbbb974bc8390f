/**
 * A token bucket: starts full, refills continuously (fractions included) up to its
 * capacity, and every request takes one token. EC2 throttles each API action with
 * one of these per account; a client can use the same class to pace itself.
 *
 * @module
 */

/** A bucket's size and how fast it refills. */
export interface BucketSpec {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** One token bucket, driven by the times passed to it (no clock of its own). */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  #tokens: number;
  #lastMs: number | null = null;

  constructor(spec: BucketSpec) {
    if (!(spec.capacity >= 1) || !Number.isFinite(spec.capacity)) {
      throw new RangeError(`Cannot create a token bucket with capacity ${spec.capacity}`);
    }
    if (!(spec.refillPerSecond > 0) || !Number.isFinite(spec.refillPerSecond)) {
      throw new RangeError(
        `Cannot create a token bucket refilling ${spec.refillPerSecond} tokens per second`,
      );
    }
    this.capacity = spec.capacity;
    this.refillPerSecond = spec.refillPerSecond;
    this.#tokens = spec.capacity;
  }

  /**
   * Takes one token at `nowMs`. Returns 0 when a token was taken, otherwise the
   * milliseconds until one will be available (and takes nothing).
   */
  take(nowMs: number): number {
    this.#refill(nowMs);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.#tokens) / this.refillPerSecond) * 1000));
  }

  /** The tokens in the bucket at `nowMs`, fractions included. */
  available(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens;
  }

  #refill(nowMs: number): void {
    if (this.#lastMs !== null && nowMs > this.#lastMs) {
      const refilled = ((nowMs - this.#lastMs) / 1000) * this.refillPerSecond;
      this.#tokens = Math.min(this.capacity, this.#tokens + refilled);
    }
    if (this.#lastMs === null || nowMs > this.#lastMs) this.#lastMs = nowMs;
  }
}
