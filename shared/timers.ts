/**
 * Waiting as a dependency. The daemon waits on real timers (`realTimers`, the one
 * place that calls setTimeout for it); simulations (replay) pass their own
 * scheduler so many nodes share one simulated timeline, and tests pass timers
 * they move by hand. `PeriodicJob` runs a background job on any of them.
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
  /**
   * Runs `works` side by side and settles with each outcome. Optional: simulations
   * that run tasks one at a time must know when one task waits on several.
   */
  settleAll?<T>(works: readonly (() => Promise<T>)[]): Promise<PromiseSettledResult<T>[]>;
}

/** `works` side by side on `timers` (Promise.allSettled unless the timers say how). */
export function settleAll<T>(
  timers: Timers,
  works: readonly (() => Promise<T>)[],
): Promise<PromiseSettledResult<T>[]> {
  return timers.settleAll?.(works) ?? Promise.allSettled(works.map((work) => work()));
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

/** Waits `ms` on `timers` (default: real timers). */
export function sleep(ms: number, timers: Timers = realTimers): Promise<void> {
  return timers.nap(ms).done;
}

/** Options of `PeriodicJob`. */
export interface PeriodicJobOptions {
  /** Between the end of one run and the start of the next. */
  readonly intervalMs: number;
  /** Before the first run (default: `intervalMs`). */
  readonly firstMs?: number;
  /** Told of a run that failed; the schedule goes on. */
  readonly onError: (error: unknown) => void;
}

/**
 * A job run on `timers`: after `firstMs`, then `intervalMs` after each run ends,
 * never two at once, until disposed. Disposing cancels the next run and waits for
 * the one under way.
 */
export class PeriodicJob implements AsyncDisposable {
  readonly #timers: Timers;
  readonly #job: () => Promise<unknown>;
  readonly #options: PeriodicJobOptions;
  #cancel: (() => void) | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(timers: Timers, job: () => Promise<unknown>, options: PeriodicJobOptions) {
    this.#timers = timers;
    this.#job = job;
    this.#options = options;
    this.#schedule(options.firstMs ?? options.intervalMs);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#cancel = this.#timers.after(ms, () => {
      this.#cancel = null;
      this.#running = this.#job().then(() => {}, this.#options.onError).finally(() => {
        this.#running = null;
        this.#schedule(this.#options.intervalMs);
      });
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = null;
    await this.#running;
  }
}
