/**
 * EC2's account-wide request throttling: one token bucket per API action, sized as
 * AWS documents (ipamd/cloud's `EC2_THROTTLE_DEFAULTS`). Off until enabled.
 *
 * @module
 */

import {
  type BucketSpec,
  EC2_THROTTLE_DEFAULTS,
  type Ec2Action,
  type ThrottleCall,
  type ThrottleCategory,
  throttleCategory,
  TokenBucket,
} from "../../ipamd/cloud/mod.ts";

export type { ThrottleCall };

/** Account-wide throttling: a bucket per action (and per category for the unfiltered describes). */
export class Ec2Throttle {
  #specs: Record<ThrottleCategory, BucketSpec> | null = null;
  readonly #buckets = new Map<string, TokenBucket>();

  /** Whether calls are throttled at all. */
  get enabled(): boolean {
    return this.#specs !== null;
  }

  /** Turns throttling on with full buckets, optionally resizing some categories. */
  enable(overrides: Partial<Record<ThrottleCategory, BucketSpec>> = {}): void {
    this.#specs = { ...EC2_THROTTLE_DEFAULTS, ...overrides };
    this.#buckets.clear();
  }

  /** Turns throttling off and forgets the buckets. */
  disable(): void {
    this.#specs = null;
    this.#buckets.clear();
  }

  /** Takes a token for one call at `nowMs`: 0 when admitted, else the milliseconds to wait. */
  admit(action: Ec2Action, call: ThrottleCall, nowMs: number): number {
    if (this.#specs === null) return 0;
    const category = throttleCategory(action, call);
    const key = category === "unfiltered-non-mutating" ? `${action}#unfiltered` : action;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.#specs[category]);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(nowMs);
  }
}
