/**
 * `ManualTimers`: timers driven by hand over a `ManualClock`, for tests of
 * anything that waits on injected `Timers`.
 *
 * @module
 */
import type { ManualClock } from "../shared/clock.ts";
import type { Nap, Timers } from "../shared/timers.ts";

/**
 * Timers driven by hand over a `ManualClock`, for tests and simulations:
 * `advance()` moves the clock and runs what comes due, in time order.
 */
export class ManualTimers implements Timers {
  readonly #clock: ManualClock;
  #due: { atMs: number; seq: number; fn: () => void }[] = [];
  #seq = 0;

  constructor(clock: ManualClock) {
    this.#clock = clock;
  }

  /** Timers not yet run nor cancelled. */
  get pending(): number {
    return this.#due.length;
  }

  nap(ms: number): Nap {
    let wake!: () => void;
    const done = new Promise<void>((resolve) => {
      const cancel = this.after(ms, resolve);
      wake = () => {
        cancel();
        resolve();
      };
    });
    return { done, wake };
  }

  after(ms: number, fn: () => void): () => void {
    const entry = { atMs: this.#clock.now() + Math.max(ms, 0), seq: this.#seq++, fn };
    this.#due.push(entry);
    return () => void (this.#due = this.#due.filter((e) => e !== entry));
  }

  /** Moves the clock `ms` forward, running each timer that comes due at its time. */
  advance(ms: number): void {
    const endMs = this.#clock.now() + ms;
    for (;;) {
      const next = this.#due.filter((e) => e.atMs <= endMs)
        .sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.#due = this.#due.filter((e) => e !== next);
      this.#clock.advanceTo(next.atMs);
      next.fn();
    }
    this.#clock.advanceTo(endMs);
  }
}
