/**
 * Durable acknowledgement of datastore changes. Every ADD or DEL changes memory,
 * then waits here until a checkpoint holding that change is on disk; concurrent
 * changes share one write (group commit). If a write fails, every change in it is
 * rolled back in memory and its request fails. `openJournal` restores the
 * datastore from the checkpoint first; disposing the journal writes it a last time.
 *
 * @module
 */
import type { Clock, Logger } from "../../shared/mod.ts";
import {
  type CheckpointData,
  checkpointFromDatastore,
  type CheckpointStore,
  restoreFromCheckpoint,
} from "./checkpoint.ts";
import type { Datastore } from "./datastore.ts";

interface Batch {
  readonly rollbacks: (() => void)[];
  readonly done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { rollbacks: [], done, resolve, reject };
}

/** Group-committed checkpoint writes; disposing writes the current state. */
export class CheckpointJournal implements AsyncDisposable {
  readonly #store: CheckpointStore;
  readonly #snapshot: () => CheckpointData;
  #pending: Batch | null = null;
  #current: Batch | null = null;
  #writing: Promise<void> | null = null;
  #writes = 0;

  constructor(store: CheckpointStore, snapshot: () => CheckpointData) {
    this.#store = store;
    this.#snapshot = snapshot;
  }

  /** Checkpoint writes so far. */
  get writes(): number {
    return this.#writes;
  }

  /**
   * Resolves once the memory state, with the change just made, is on disk. On a
   * failed write `rollback` runs (before any later write) and the promise rejects.
   */
  commit(rollback: () => void): Promise<void> {
    this.#pending ??= newBatch();
    this.#pending.rollbacks.push(rollback);
    const { done } = this.#pending;
    this.#writing ??= this.#drain();
    return done;
  }

  /**
   * Settles once every change made so far has been written or rolled back, so a
   * request that finds the result of another's change never acknowledges it early.
   */
  async durable(): Promise<void> {
    await Promise.allSettled([this.#current?.done, this.#pending?.done]);
  }

  /** Writes the current state and waits for every write under way. */
  async flush(): Promise<void> {
    await this.commit(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.flush();
  }

  async #drain(): Promise<void> {
    while (this.#pending !== null) {
      const batch = this.#pending;
      this.#pending = null;
      this.#current = batch;
      try {
        await this.#store.save(this.#snapshot());
        this.#writes++;
        batch.resolve();
      } catch (error) {
        for (const rollback of batch.rollbacks.reverse()) rollback();
        batch.reject(error);
      }
    }
    this.#current = null;
    this.#writing = null;
  }
}

/**
 * Puts the checkpointed allocations and cooldowns back into `datastore` (which holds
 * the node's ENIs already), logs what was dropped and why, writes the result, and
 * returns the journal that keeps the checkpoint in step from then on.
 */
export async function openJournal(
  datastore: Datastore,
  store: CheckpointStore,
  options: { clock: Clock; log: Logger },
): Promise<CheckpointJournal> {
  const { clock, log } = options;
  const saved = await store.load();
  if (saved !== null) {
    const { kept, dropped } = restoreFromCheckpoint(datastore, saved, clock.now());
    for (const { allocation, reason } of dropped) {
      log.warn("dropped a checkpointed allocation", {
        containerId: allocation.key.containerId,
        ifName: allocation.key.ifName,
        ip: allocation.ip,
        reason,
      });
    }
    log.info("restored allocations from the checkpoint", { kept: kept.length, dropped: dropped.length });
  }
  const journal = new CheckpointJournal(store, () => checkpointFromDatastore(datastore, clock.now()));
  await journal.flush();
  return journal;
}
