/**
 * Waiting as a dependency. The daemon waits on real timers; simulations (replay)
 * pass their own scheduler so many nodes share one simulated timeline.
 *
 * @module
 */

/** A wait that can be cut short. */
export interface Nap {
  /** Settles when the time is up or `wake()` was called. */
  readonly done: Promise<void>;
  /** Ends the wait now (no effect once it ended). */
  wake(): void;
}

/** How a component waits. */
export interface Timers {
  /** Waits up to `ms`. */
  nap(ms: number): Nap;
  /** Runs `fn` once after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/** Real timers. */
export const realTimers: Timers = {
  nap(ms) {
    let wake!: () => void;
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    return { done, wake };
  },
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
