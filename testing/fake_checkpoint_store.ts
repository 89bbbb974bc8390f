/**
 * `MemoryCheckpointStore`: the checkpoint port in memory for tests. It keeps the
 * formatted text, so data round-trips as through the file.
 *
 * @module
 */
import {
  type CheckpointData,
  type CheckpointStore,
  formatCheckpoint,
  parseCheckpoint,
} from "../ipamd/pool/checkpoint.ts";

/** An in-memory store for tests; it keeps the formatted text, so data round-trips like a file. */
export class MemoryCheckpointStore implements CheckpointStore {
  #text: string | null;
  #failure: Error | null = null;
  #saves = 0;

  /** Starts from checkpoint text, or from nothing (a fresh node). */
  constructor(text: string | null = null) {
    this.#text = text;
  }

  /** The saved text, or null. */
  get text(): string | null {
    return this.#text;
  }

  /** Successful saves so far. */
  get saves(): number {
    return this.#saves;
  }

  /** Makes the next `save()` reject with `error` and keep the old text. */
  failNextSave(error: Error = new Error("Cannot save checkpoint: injected failure")): void {
    this.#failure = error;
  }

  load(): Promise<CheckpointData | null> {
    try {
      return Promise.resolve(this.#text === null ? null : parseCheckpoint(this.#text, "memory"));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  save(data: CheckpointData): Promise<void> {
    const failure = this.#failure;
    this.#failure = null;
    if (failure) return Promise.reject(failure);
    this.#text = formatCheckpoint(data);
    this.#saves++;
    return Promise.resolve();
  }
}
