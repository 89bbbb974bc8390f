/**
 * EC2's request throttling buckets as AWS documents them ("Request throttling for
 * the Amazon EC2 API"): one bucket per API action, sized by the action's category.
 * ipamd's client-side budget and the simulated account both size theirs from here.
 *
 * @module
 */
import type { Ec2Action } from "./ec2_actions.ts";
import type { BucketSpec } from "./token_bucket.ts";

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
