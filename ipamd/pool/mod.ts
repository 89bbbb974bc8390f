/**
 * The warm pool: the pure policy, the datastore of ENIs, addresses and pods, the
 * reconciler that applies the policy's plans through the EC2 port, the queue of
 * waiting ADDs, why the pool cannot grow, and the checkpoint that makes
 * assignments survive restarts. `Pool` assembles the running parts.
 *
 * @module
 */
export {
  CheckpointError,
  checkpointFromDatastore,
  type CheckpointStore,
  CheckpointWriteError,
  FileCheckpointStore,
  restoreFromCheckpoint,
} from "./checkpoint.ts";
export {
  type Allocation,
  type AllocationKey,
  type AllocationMeta,
  Datastore,
  type EniInfo,
} from "./datastore.ts";
export {
  GROWTH_BLOCK_REASONS,
  GROWTH_BLOCK_TEXT,
  type GrowthBlock,
  type GrowthBlockReason,
  GrowthState,
} from "./growth.ts";
export { CheckpointJournal, openJournal } from "./journal.ts";
export { type FoundEni, Pool, type PoolLoop, type PoolObserver, type PoolOptions } from "./pool.ts";
export { COOLING_WAIT_MS, planPool, scaleDownWindowMs } from "./policy.ts";
export { type EniHooks, type PassOutcome, Reconciler } from "./reconciler.ts";
export { SPARE_SHARE, SUBNET_RESERVE, type SubnetRoom, subnetSpare } from "./subnet_room.ts";
export {
  type CidrSnapshot,
  DEFAULT_POOL_SETTINGS,
  type InstanceLimits,
  type PoolAction,
  type PoolSettings,
  type PoolSnapshot,
} from "./types.ts";
export { AddCancelledError, type AddObserver, AddressQueue, NoAddressError } from "./waiters.ts";
