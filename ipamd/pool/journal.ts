/**
 * Durable acknowledgement of datastore changes. Every ADD or DEL changes memory,
 * then waits here until a checkpoint holding that change is on disk; concurrent
 * changes share one write (group commit). If a write fails, every change in it is
 * rolled back in memory and its request fails.
 *
 * @module
 */
import type { CheckpointData, CheckpointStore } from "./checkpoint.ts";

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

/** Group-committed checkpoint writes. */
export class CheckpointJournal {
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
