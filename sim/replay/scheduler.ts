/**
 * A discrete-event scheduler over a `ManualClock`: many tasks (one per node and
 * role) share one simulated timeline. A task suspends only on `sleep()` or a
 * `nap()`; the scheduler then moves the clock to the earliest due event, resumes
 * that one task, and waits until every task is suspended again before taking the
 * next event. Plain callbacks (`at()`) run synchronously at their time. Ties run
 * in the order they were scheduled, so a run is deterministic.
 *
 * Rule for tasks: never await anything but this scheduler's sleeps (or promises
 * that settle without them); a task waiting on another task's promise would stall
 * the timeline.
 *
 * @module
 */
import { ManualClock } from "../../shared/mod.ts";

/** A sleep that can be cut short. */
export interface Nap {
  readonly done: Promise<void>;
  /** Ends the nap now (no effect once it ended). */
  wake(): void;
}

/** A scheduled callback that can be called off. */
export interface Timer {
  cancel(): void;
}

interface Entry {
  readonly atMs: number;
  readonly seq: number;
  /** A callback, or the resolver of a suspended task. */
  readonly run: () => void;
  readonly resumes: boolean;
  /** Called off, or already run. */
  cancelled: boolean;
}

/** One simulated timeline. */
export class Scheduler {
  readonly clock: ManualClock;
  readonly #heap: Entry[] = [];
  #seq = 0;
  #running = 0;
  #idle: (() => void) | null = null;
  #stopped = false;
  #events = 0;
  readonly #errors: unknown[] = [];

  constructor(startMs = 0) {
    this.clock = new ManualClock(startMs);
  }

  /** Simulated now, in ms. */
  now(): number {
    return this.clock.now();
  }

  /** Events run so far. */
  get events(): number {
    return this.#events;
  }

  /** Suspends the calling task for `ms` of simulated time. */
  sleep(ms: number): Promise<void> {
    return this.nap(ms).done;
  }

  /** Suspends the calling task for up to `ms`; `wake()` resumes it sooner. */
  nap(ms: number): Nap {
    let resolve!: () => void;
    const done = new Promise<void>((r) => resolve = r);
    let entry = this.#push(this.now() + Math.max(ms, 0), resolve, true);
    this.#release();
    return {
      done,
      wake: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        entry = this.#push(this.now(), resolve, true);
      },
    };
  }

  /** Runs `fn` (synchronously, not as a task) at `atMs`, or now if that has passed. */
  at(atMs: number, fn: () => void): Timer {
    const entry = this.#push(Math.max(atMs, this.now()), fn, false);
    return { cancel: () => void (entry.cancelled = true) };
  }

  /**
   * Runs `works` as tasks side by side from the calling task, which waits (without
   * counting as running) until every one settled, then goes on with their outcomes.
   */
  settleAll<T>(works: readonly (() => Promise<T>)[]): Promise<PromiseSettledResult<T>[]> {
    if (works.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const results: PromiseSettledResult<T>[] = new Array(works.length);
      let left = works.length;
      this.#running += works.length - 1; // the caller's turn goes to its works
      works.forEach((work, i) => {
        Promise.resolve()
          .then(work)
          .then(
            (value) => void (results[i] = { status: "fulfilled", value }),
            (reason) => void (results[i] = { status: "rejected", reason }),
          )
          .finally(() => {
            if (--left === 0) {
              this.#running++; // the caller runs again before the last work lets go
              resolve(results);
            }
            this.#release();
          });
      });
    });
  }

  /** Starts a task; it runs until its first sleep when the scheduler next lets tasks run. */
  spawn(task: () => Promise<void>): void {
    this.#running++;
    Promise.resolve()
      .then(task)
      .catch((error) => void this.#errors.push(error))
      .finally(() => this.#release());
  }

  /** Ends `run()` after the current event; suspended tasks stay suspended. */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Runs events in time order until none is left or `stop()` is called. Rejects
   * with the first error a task or callback threw.
   */
  async run(): Promise<void> {
    await this.#quiet();
    while (!this.#stopped) {
      const entry = this.#pop();
      if (entry === undefined) break;
      if (entry.cancelled) continue;
      entry.cancelled = true; // ran: a later wake() or cancel() has nothing to do
      this.clock.advanceTo(entry.atMs);
      this.#events++;
      if (entry.resumes) this.#running++;
      try {
        entry.run();
      } catch (error) {
        this.#errors.push(error);
      }
      await this.#quiet();
      if (this.#errors.length > 0) throw this.#errors[0];
    }
    if (this.#errors.length > 0) throw this.#errors[0];
  }

  #release(): void {
    this.#running--;
    if (this.#running === 0) this.#idle?.();
  }

  #quiet(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idle = () => {
        this.#idle = null;
        resolve();
      };
    });
  }

  #push(atMs: number, run: () => void, resumes: boolean): Entry {
    const entry: Entry = { atMs, seq: this.#seq++, run, resumes, cancelled: false };
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
    return entry;
  }

  #pop(): Entry | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}
