/**
 * The streams of one connection: those waiting for the peer's
 * SETTINGS_MAX_CONCURRENT_STREAMS and the open ones by id, and the next
 * client stream id (odd, increasing, at most 2^31 - 1).
 *
 * @module
 */
import { MAX_WINDOW } from "./frame.ts";
import type { H2Stream } from "./stream.ts";

/** Queued and open streams; see the module doc. */
export class StreamTable {
  readonly #open = new Map<number, H2Stream>();
  readonly #queued: H2Stream[] = [];
  #nextId = 1;

  /** Queued plus open streams. */
  get size(): number {
    return this.#open.size + this.#queued.length;
  }

  /** Whether every stream id has been used. */
  get exhausted(): boolean {
    return this.#nextId > MAX_WINDOW;
  }

  /** The open streams. */
  open(): IterableIterator<H2Stream> {
    return this.#open.values();
  }

  /** The open stream with this id. */
  get(id: number): H2Stream | undefined {
    return this.#open.get(id);
  }

  /** Whether a stream id is not one of ours that was opened (0, even, or not used yet). */
  isIdle(id: number): boolean {
    return id === 0 || id % 2 === 0 || id >= this.#nextId;
  }

  enqueue(stream: H2Stream): void {
    this.#queued.push(stream);
  }

  /** Opens the next queued stream with a new id, unless `limit` streams are open or ids ran out. */
  openNext(limit: number): H2Stream | undefined {
    if (this.#open.size >= limit || this.exhausted) return undefined;
    const stream = this.#queued.shift();
    if (stream === undefined) return undefined;
    stream.id = this.#nextId;
    this.#nextId += 2;
    this.#open.set(stream.id, stream);
    return stream;
  }

  /** Forgets a queued or open stream. */
  remove(stream: H2Stream): void {
    const at = this.#queued.indexOf(stream);
    if (at >= 0) this.#queued.splice(at, 1);
    else if (this.#open.get(stream.id) === stream) this.#open.delete(stream.id);
  }

  /** Removes and returns the queued streams and the open ones above `lastId`. */
  takeAbove(lastId: number): H2Stream[] {
    const taken = this.#queued.splice(0);
    for (const stream of this.#open.values()) if (stream.id > lastId) taken.push(stream);
    for (const stream of taken) this.#open.delete(stream.id);
    return taken;
  }
}
