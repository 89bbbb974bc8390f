/**
 * EC2's account-wide request throttling: one token bucket per API action, sized by
 * the action's category, with the sizes and refill rates of AWS's "Request
 * throttling for the Amazon EC2 API" page. Off until enabled.
 *
 * @module
 */

import { type BucketSpec, TokenBucket } from "../../ipamd/cloud/token_bucket.ts";
import type { Ec2Action } from "./types.ts";

/** The bucket categories EC2 documents, plus the actions it sizes individually. */
export type ThrottleCategory =
  | "non-mutating"
  | "unfiltered-non-mutating"
  | "mutating"
  | "AssignPrivateIpAddresses"
  | "UnassignPrivateIpAddresses"
  | "CreateNetworkInterface"
  | "DeleteNetworkInterface"
  | "ModifyNetworkInterfaceAttribute"
  | "CreateTags";

/** EC2's documented bucket sizes and refill rates. */
export const EC2_THROTTLE_DEFAULTS: Readonly<Record<ThrottleCategory, BucketSpec>> = {
  "non-mutating": { capacity: 100, refillPerSecond: 20 },
  "unfiltered-non-mutating": { capacity: 50, refillPerSecond: 10 },
  "mutating": { capacity: 50, refillPerSecond: 5 },
  AssignPrivateIpAddresses: { capacity: 100, refillPerSecond: 5 },
  UnassignPrivateIpAddresses: { capacity: 100, refillPerSecond: 5 },
  CreateNetworkInterface: { capacity: 100, refillPerSecond: 5 },
  DeleteNetworkInterface: { capacity: 100, refillPerSecond: 5 },
  ModifyNetworkInterfaceAttribute: { capacity: 100, refillPerSecond: 5 },
  CreateTags: { capacity: 100, refillPerSecond: 10 },
};

/** Actions with the smaller bucket when called with neither a filter nor pagination. */
const UNFILTERED_ACTIONS: ReadonlySet<Ec2Action> = new Set([
  "DescribeInstances",
  "DescribeNetworkInterfaces",
]);

/** How a call was made, as far as its bucket depends on it. */
export interface ThrottleCall {
  /** True when the call has no filter and no MaxResults/NextToken. */
  readonly unfilteredUnpaginated: boolean;
}

/** The category whose bucket a call of `action` draws from. */
export function throttleCategory(action: Ec2Action, call: ThrottleCall): ThrottleCategory {
  if (action.startsWith("Describe")) {
    return call.unfilteredUnpaginated && UNFILTERED_ACTIONS.has(action)
      ? "unfiltered-non-mutating"
      : "non-mutating";
  }
  switch (action) {
    case "AssignPrivateIpAddresses":
    case "UnassignPrivateIpAddresses":
    case "CreateNetworkInterface":
    case "DeleteNetworkInterface":
    case "ModifyNetworkInterfaceAttribute":
    case "CreateTags":
      return action;
    default:
      return "mutating";
  }
}

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
