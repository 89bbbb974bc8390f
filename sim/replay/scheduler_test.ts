import { deepStrictEqual, equal, rejects } from "node:assert/strict";
import { Scheduler } from "./scheduler.ts";

Deno.test("Scheduler interleaves tasks' sleeps on one simulated timeline", async () => {
  const scheduler = new Scheduler(0);
  const log: string[] = [];
  const task = (name: string, stepMs: number) => async () => {
    for (let i = 0; i < 3; i++) {
      await scheduler.sleep(stepMs);
      log.push(`${name}@${scheduler.now()}`);
    }
  };
  scheduler.spawn(task("a", 300));
  scheduler.spawn(task("b", 200));
  scheduler.at(500, () => log.push(`timer@${scheduler.now()}`));
  await scheduler.run();
  deepStrictEqual(log, ["b@200", "a@300", "b@400", "timer@500", "a@600", "b@600", "a@900"]);
});

Deno.test("Scheduler nap() wakes early and a cancelled timer never runs", async () => {
  const scheduler = new Scheduler(1_000);
  const log: string[] = [];
  scheduler.spawn(async () => {
    const nap = scheduler.nap(10_000);
    scheduler.at(1_250, () => nap.wake());
    await nap.done;
    log.push(`woke@${scheduler.now()}`);
  });
  scheduler.at(2_000, () => log.push("never")).cancel();
  await scheduler.run();
  deepStrictEqual(log, ["woke@1250"]);
  equal(scheduler.now(), 1_250);
});

Deno.test("Scheduler stop() ends the run and a task's error rejects it", async () => {
  const scheduler = new Scheduler(0);
  let ticks = 0;
  const tick = () => {
    if (++ticks === 5) scheduler.stop();
    scheduler.at(scheduler.now() + 1_000, tick);
  };
  scheduler.at(0, tick);
  await scheduler.run();
  equal(ticks, 5);
  const failing = new Scheduler(0);
  failing.spawn(async () => {
    await failing.sleep(10);
    throw new Error("boom");
  });
  await rejects(failing.run(), /boom/);
});

Deno.test("Scheduler settleAll() runs a task's works side by side and resumes it after the slowest", async () => {
  const scheduler = new Scheduler(0);
  const log: string[] = [];
  scheduler.spawn(async () => {
    const results = await scheduler.settleAll([
      async () => (await scheduler.sleep(300), log.push(`a@${scheduler.now()}`), "a"),
      async () => (await scheduler.sleep(100),
        await scheduler.sleep(100),
        log.push(`b@${scheduler.now()}`),
        "b"),
      () => Promise.reject(new Error("c")),
    ]);
    log.push(`joined@${scheduler.now()}`, results.map((r) => r.status).join(","));
    await scheduler.sleep(50);
    log.push(`after@${scheduler.now()}`);
  });
  scheduler.spawn(async () => {
    await scheduler.sleep(250);
    log.push(`other@${scheduler.now()}`);
  });
  await scheduler.run();
  deepStrictEqual(log, [
    "b@200",
    "other@250",
    "a@300",
    "joined@300",
    "fulfilled,fulfilled,rejected",
    "after@350",
  ]);
});
