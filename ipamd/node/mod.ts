/**
 * The node's lifecycle around the pool: the AWS node assembled from the config
 * (IMDS, SDK, request budget), startup discovery with retries, periodic
 * reconciliation with IMDS and EC2, and leaked-ENI cleanup.
 *
 * @module
 */
export { type AwsNode, type AwsNodeOptions, openAwsNode, subnetOf } from "./aws_node.ts";
export { discoverManagedEnis, retryStartup, unmanagedReason } from "./discovery.ts";
export { LeakedEniCleaner, type LeakedEniSweep } from "./leaked_enis.ts";
export {
  type LeakedEniSchedule,
  NodeLifecycle,
  type NodeLifecycleOptions,
  type PoolHooks,
} from "./lifecycle.ts";
export { type NodeReconcileOutcome, NodeReconciler } from "./node_reconciler.ts";
export { RecentChanges, TrackedEc2Port } from "./recent_changes.ts";
export { NodeNetwork } from "./node_network.ts";
export { CNI_ROLE_TAG, EniPlacement, type PlacementOptions } from "./eni_placement.ts";
