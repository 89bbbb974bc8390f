import { deepStrictEqual, equal } from "node:assert/strict";
import { ManualClock } from "./clock.ts";
import { ManualTimers } from "../testing/manual_timers.ts";
import { waitFor } from "../testing/rpc_sockets.ts";
import { PeriodicJob, sleep } from "./timers.ts";

Deno.test("PeriodicJob runs after firstMs, then intervalMs after each run ends, and reports failures", async () => {
  const clock = new ManualClock(0);
  const timers = new ManualTimers(clock);
  const runs: number[] = [];
  const errors: unknown[] = [];
  let finish: (() => void) | null = null;
  const job = new PeriodicJob(timers, () => {
    runs.push(clock.now());
    if (runs.length === 2) return Promise.reject(new Error("boom"));
    return new Promise<void>((resolve) => finish = resolve);
  }, { firstMs: 5, intervalMs: 100, onError: (error) => errors.push(error) });
  timers.advance(4);
  deepStrictEqual(runs, []);
  timers.advance(1);
  deepStrictEqual(runs, [5]);
  timers.advance(500);
  equal(timers.pending, 0, "no next run while one is under way");
  finish!();
  await waitFor(() => timers.pending === 1); // the next run is set once the run ended
  timers.advance(100);
  await waitFor(() => errors.length === 1);
  deepStrictEqual(runs, [5, 605]);
  await waitFor(() => timers.pending === 1); // the schedule goes on after a failure
  await job[Symbol.asyncDispose]();
  equal(timers.pending, 0);
});

Deno.test("PeriodicJob disposal waits for the run under way and sets no further run", async () => {
  const clock = new ManualClock(0);
  const timers = new ManualTimers(clock);
  let finish!: () => void;
  let ended = false;
  const job = new PeriodicJob(timers, () => new Promise<void>((resolve) => finish = resolve), {
    intervalMs: 10,
    onError: () => {},
  });
  timers.advance(10);
  const disposed = job[Symbol.asyncDispose]().then(() => ended = true);
  await Promise.resolve();
  equal(ended, false, "disposal waits for the run");
  finish();
  await disposed;
  equal(timers.pending, 0);
});

Deno.test("sleep() waits on the timers it is given", async () => {
  const clock = new ManualClock(0);
  const timers = new ManualTimers(clock);
  let woke = false;
  const slept = sleep(50, timers).then(() => woke = true);
  timers.advance(49);
  await Promise.resolve();
  equal(woke, false);
  timers.advance(1);
  await slept;
  equal(clock.now(), 50);
});
