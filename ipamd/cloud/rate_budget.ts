/**
 * The client side of EC2's request throttling, and the adapter's one retry policy.
 * Before every EC2 request the caller takes a token from a bucket sized like the
 * account's bucket for that action (AWS's documented categories, each size
 * configurable), waiting when it is empty; once EC2 throttled a request, that
 * action's requests are also paced (`AdaptivePace`: the rate halves with each
 * throttle, since other nodes share the account's bucket). A request EC2 still
 * throttles is sent again after an exponential back-off with full jitter, and so
 * is an idempotent one that timed out or met a 5xx. The SDK's own retries are off
 * (`maxAttempts: 1`). Time spent waiting is kept per category for the metrics.
 *
 * @module
 */
import { type Clock, sleep } from "../../shared/mod.ts";
import type { Ec2Action } from "./ec2_actions.ts";
import {
  EC2_THROTTLE_DEFAULTS,
  type ThrottleCall,
  type ThrottleCategory,
  throttleCategory,
} from "./ec2_throttle_buckets.ts";
import { AdaptivePace } from "./adaptive_pace.ts";
import { CloudError } from "./errors.ts";
import { type BucketSpec, TokenBucket } from "./token_bucket.ts";

/** Time EC2 calls waited for the client-side budget, per category, for the metrics. */
export interface BudgetWaits {
  /** The categories the adapter budgets, e.g. "mutating", "non-mutating". */
  readonly categories: readonly string[];
  /** Milliseconds waited for `category` since the adapter started. */
  waitedMs(category: string): number;
}

/** Exponential back-off: `initialMs · factor^attempt`, capped, minus up to `jitter` of it at random. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
  /** 0 to 1: the share of each delay drawn at random (0.5 waits 50 % to 100 % of it; 1 is full jitter). */
  readonly jitter: number;
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffMs(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** attempt);
  return Math.max(1, Math.round(base * (1 - policy.jitter * random())));
}

/**
 * After a throttled or failed EC2 request: up to 250 ms, 500 ms, 1 s, … up to 20 s,
 * drawn anywhere from 0 (full jitter), so nodes throttled together do not retry together.
 */
export const EC2_RETRY_BACKOFF: BackoffPolicy = { initialMs: 250, factor: 2, maxMs: 20_000, jitter: 1 };

/** Bucket sizes by category that replace AWS's documented ones. */
export type BudgetSpecs = Readonly<Partial<Record<ThrottleCategory, BucketSpec>>>;

/** How a request may be budgeted and retried. */
export interface CallShape extends ThrottleCall {
  /** Safe to send again after a timeout or a 5xx (describes, deletes, tagging, creates with a ClientToken). */
  readonly idempotent: boolean;
}

/** How the budget behaves. */
export interface RateBudgetOptions {
  readonly clock: Clock;
  /** Category sizes over AWS's documented ones; null turns the buckets off (retries stay). */
  readonly buckets?: BudgetSpecs | null;
  /** Retries of one request after throttling (or, if idempotent, a timeout or 5xx); default 5. */
  readonly maxRetries?: number;
  /** Pace each category's requests after EC2 throttled one (`AdaptivePace`); default true. */
  readonly adaptive?: boolean;
  readonly backoff?: BackoffPolicy;
  /** Default: real timers. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Told of each retry, for the log. */
  readonly onRetry?: (
    retry: { action: Ec2Action; attempt: number; delayMs: number; error: CloudError },
  ) => void;
}

/** When EC2 last throttled one of this node's requests: the account is under pressure. */
export interface AccountPressure {
  /** Null when EC2 never throttled a request. */
  readonly lastThrottledAtMs: number | null;
}

/** Token buckets per EC2 action, sized by category, and the retry loop around each request. */
export class RateBudget implements BudgetWaits, AccountPressure {
  readonly categories: readonly string[] = Object.keys(EC2_THROTTLE_DEFAULTS);
  readonly #o: RateBudgetOptions;
  readonly #specs: Record<ThrottleCategory, BucketSpec> | null;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #paces = new Map<string, AdaptivePace>();
  readonly #waited = new Map<string, number>();
  readonly #throttled = new Map<string, number>();
  readonly #sleep: (ms: number) => Promise<void>;
  #lastThrottledAtMs: number | null = null;

  constructor(options: RateBudgetOptions) {
    this.#o = options;
    this.#specs = options.buckets === null ? null : { ...EC2_THROTTLE_DEFAULTS, ...options.buckets };
    this.#sleep = options.sleep ?? sleep;
  }

  /** Milliseconds requests of `category` waited for a token or backed off after throttling. */
  waitedMs(category: string): number {
    return this.#waited.get(category) ?? 0;
  }

  get lastThrottledAtMs(): number | null {
    return this.#lastThrottledAtMs;
  }

  /** Responses of `category` that EC2 throttled. */
  throttled(category: string): number {
    return this.#throttled.get(category) ?? 0;
  }

  /**
   * Sends one request of `action` within the budget: `send` must reject with a
   * `CloudError`. Throttling is retried for every request, timeouts and 5xx only
   * for idempotent ones; the last error leaves once the retries are spent.
   */
  async run<T>(action: Ec2Action, shape: CallShape, send: () => Promise<T>): Promise<T> {
    const category = throttleCategory(action, shape);
    const maxRetries = this.#o.maxRetries ?? 5;
    const pace = this.#pace(action, category);
    for (let attempt = 0;; attempt++) {
      await this.#admit(action, category);
      if (pace !== null) {
        const waitMs = pace.admit(this.#o.clock.now());
        if (waitMs > 0) await this.#wait(category, waitMs);
      }
      try {
        const answer = await send();
        pace?.answered(this.#o.clock.now());
        return answer;
      } catch (error) {
        if (!(error instanceof CloudError)) throw error;
        const throttled = error.kind === "throttled";
        if (throttled) {
          this.#add(this.#throttled, category, 1);
          this.#lastThrottledAtMs = this.#o.clock.now();
          pace?.throttled(this.#lastThrottledAtMs);
        } else pace?.answered(this.#o.clock.now());
        if (attempt >= maxRetries || !(throttled || (shape.idempotent && error.kind === "unavailable"))) {
          throw error;
        }
        const delayMs = Math.max(
          backoffMs(this.#o.backoff ?? EC2_RETRY_BACKOFF, attempt, this.#o.random),
          error.retryAfterMs ?? 0,
        );
        this.#o.onRetry?.({ action, attempt: attempt + 1, delayMs, error });
        if (throttled) await this.#wait(category, delayMs);
        else await this.#sleep(delayMs);
      }
    }
  }

  /** The pace of `action`'s requests (one per bucket), or null when pacing is off. */
  #pace(action: Ec2Action, category: ThrottleCategory): AdaptivePace | null {
    if (this.#o.adaptive === false) return null;
    const key = category === "unfiltered-non-mutating" ? `${action}#unfiltered` : action;
    let pace = this.#paces.get(key);
    if (pace === undefined) {
      const refill = (this.#specs ?? EC2_THROTTLE_DEFAULTS)[category].refillPerSecond;
      pace = new AdaptivePace(refill, this.#o.random);
      this.#paces.set(key, pace);
    }
    return pace;
  }

  /** Takes a token for `action`, waiting while its bucket is empty. */
  async #admit(action: Ec2Action, category: ThrottleCategory): Promise<void> {
    if (this.#specs === null) return;
    const key = category === "unfiltered-non-mutating" ? `${action}#unfiltered` : action;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.#specs[category]);
      this.#buckets.set(key, bucket);
    }
    for (
      let waitMs = bucket.take(this.#o.clock.now());
      waitMs > 0;
      waitMs = bucket.take(this.#o.clock.now())
    ) {
      await this.#wait(category, waitMs);
    }
  }

  async #wait(category: ThrottleCategory, ms: number): Promise<void> {
    const startMs = this.#o.clock.now();
    await this.#sleep(ms);
    this.#add(this.#waited, category, Math.max(this.#o.clock.now() - startMs, 0));
  }

  #add(counts: Map<string, number>, category: string, amount: number): void {
    counts.set(category, (counts.get(category) ?? 0) + amount);
  }
}

/** What `parseRequestBudget` accepts, for the settings table. */
export const REQUEST_BUDGET_ACCEPTS = "off, or comma-separated CATEGORY=CAPACITY/REFILL_PER_SECOND";

/**
 * Reads bucket sizes like `mutating=100/10,CreateNetworkInterface=200/10` ("" keeps
 * AWS's sizes, `off` turns the buckets off). Throws a SyntaxError or RangeError.
 */
export function parseRequestBudget(text: string): BudgetSpecs | null {
  if (text.trim().toLowerCase() === "off") return null;
  const specs: Partial<Record<ThrottleCategory, BucketSpec>> = {};
  for (const item of text.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
    const match = /^([A-Za-z-]+)=(\d+)\/(\d+(?:\.\d+)?)$/.exec(item);
    if (match === null) throw new SyntaxError(`"${item}" is not CATEGORY=CAPACITY/REFILL_PER_SECOND`);
    const [, name = "", capacity = "", refill = ""] = match;
    if (!Object.hasOwn(EC2_THROTTLE_DEFAULTS, name)) {
      throw new RangeError(
        `unknown category "${name}"; known: ${Object.keys(EC2_THROTTLE_DEFAULTS).join(", ")}`,
      );
    }
    const spec = { capacity: Number(capacity), refillPerSecond: Number(refill) };
    if (spec.capacity < 1 || !(spec.refillPerSecond > 0)) {
      throw new RangeError(`"${item}" needs a capacity of at least 1 and a refill above 0`);
    }
    specs[name as ThrottleCategory] = Object.freeze(spec);
  }
  return Object.freeze(specs);
}
