/**
 * The warm pool: the pure policy, the datastore of ENIs, addresses and pods, the
 * reconciler that applies the policy's plans through the EC2 port, the queue of
 * waiting ADDs, and the checkpoint that makes assignments survive restarts.
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
export { CheckpointJournal } from "./journal.ts";
export { type GrowHold, type PassOutcome, Reconciler } from "./reconciler.ts";
export {
  type CidrSnapshot,
  DEFAULT_POOL_SETTINGS,
  type GrowBlock,
  type InstanceLimits,
  type PoolAction,
  type PoolSettings,
  type PoolSnapshot,
} from "./types.ts";
export { AddCancelledError, AddressQueue, NO_ADDRESS_TEXT, NoAddressError } from "./waiters.ts";
