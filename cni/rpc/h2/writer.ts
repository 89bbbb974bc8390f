/**
 * Serialized, coalescing writes to a socket: frames queued in one tick go out
 * in one write, and a failed write is reported once through `onError`.
 *
 * @module
 */
import { concatBytes } from "../../../shared/mod.ts";

/** The part of `Deno.Conn` the writer uses. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<number>;
}

/** Writes queued byte chunks to `socket` in order. */
export class SocketWriter {
  readonly #socket: ByteSink;
  readonly #onError: (error: unknown) => void;
  #queue: Uint8Array[] = [];
  #flushing: Promise<void> | undefined;
  #stopped = false;

  constructor(socket: ByteSink, onError: (error: unknown) => void) {
    this.#socket = socket;
    this.#onError = onError;
  }

  /** Queues bytes; ignored once stopped. */
  write(bytes: Uint8Array): void {
    if (this.#stopped) return;
    this.#queue.push(bytes);
    this.#flushing ??= this.#flush();
  }

  /** Drops anything queued and accepts no more writes. */
  stop(): void {
    this.#stopped = true;
    this.#queue = [];
  }

  /** Resolves when nothing is being written. */
  async idle(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
  }

  async #flush(): Promise<void> {
    try {
      await Promise.resolve(); // let the frames of one tick share a write
      while (this.#queue.length > 0) {
        const chunks = this.#queue;
        this.#queue = [];
        const bytes = concatBytes(chunks);
        for (let offset = 0; offset < bytes.length;) {
          offset += await this.#socket.write(bytes.subarray(offset));
        }
      }
    } catch (error) {
      this.stop();
      this.#onError(error);
    } finally {
      this.#flushing = undefined;
    }
  }
}
