import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { ManualTimers } from "../../testing/manual_timers.ts";
import { Datastore } from "./datastore.ts";
import type { GrowthBlock, GrowthBlockReason } from "./growth.ts";
import { AddCancelledError, AddressQueue, NoAddressError } from "./waiters.ts";

function setup(block: GrowthBlock = { reason: "still-warming", detail: "", untilMs: null }) {
  const clock = new ManualClock(1_000_000);
  const timers = new ManualTimers(clock);
  const datastore = new Datastore({ cooldownMs: 30_000 });
  datastore.addEni({
    eniId: "eni-0",
    deviceNumber: 0,
    primary: true,
    createdAtMs: 0,
    mac: "02:00:00:00:00:01",
    primaryIp: "10.0.0.4",
    subnetCidr: "10.0.0.0/24",
  });
  const events: string[] = [];
  const queue = new AddressQueue({
    datastore,
    growth: { whyNoAddress: block },
    clock,
    timers,
    observer: {
      served: (waitedMs, queued) => void events.push(`served ${waitedMs} ${queued}`),
      timedOut: (reason, waitedMs) => void events.push(`timed out ${reason} ${waitedMs}`),
    },
  });
  return { clock, timers, datastore, queue, events };
}

const key = (containerId: string) => ({ networkName: "aws-cni", containerId, ifName: "eth0" });
const meta = { podNamespace: "default", podName: "p" };

Deno.test("AddressQueue.acquire() answers at once from the pool, else waits, and tells the observer how long", async () => {
  const { datastore, queue, timers, events } = setup();
  datastore.addCidrs("eni-0", ["10.0.0.10/32"]);
  equal((await queue.acquire(key("a"), meta, 1_000)).ip, "10.0.0.10");
  equal(queue.waiting, 0);
  const waiting = queue.acquire(key("b"), meta, 1_000);
  equal(queue.waiting, 1);
  timers.advance(400);
  datastore.addCidrs("eni-0", ["10.0.0.11/32"]);
  queue.serve();
  equal((await waiting).ip, "10.0.0.11");
  deepStrictEqual(events, ["served 0 false", "served 400 true"]);
  equal(timers.pending, 0, "the served wait's timer is gone");
});

Deno.test("AddressQueue.serve() hands out addresses in arrival order, and a newcomer does not jump the queue", async () => {
  const { datastore, queue } = setup();
  const order: string[] = [];
  const waits = ["first", "second", "third"].map((id) =>
    queue.acquire(key(id), meta, 5_000).then((allocation) => order.push(`${id}=${allocation.ip}`))
  );
  datastore.addCidrs("eni-0", ["10.0.0.10/32", "10.0.0.11/32"]);
  const late = queue.acquire(key("late"), meta, 5_000).then((allocation) =>
    order.push(`late=${allocation.ip}`)
  );
  queue.serve();
  datastore.addCidrs("eni-0", ["10.0.0.12/32", "10.0.0.13/32"]);
  queue.serve();
  await Promise.all([...waits, late]);
  deepStrictEqual(order, ["first=10.0.0.10", "second=10.0.0.11", "third=10.0.0.12", "late=10.0.0.13"]);
});

/** When the pause of each paused reason ends, from the time the wait runs out. */
const RETRY_AFTER_MS: Partial<Record<GrowthBlockReason, number>> = {
  "subnet-full": 90_000,
  throttled: 2_500,
  unauthorized: 60_000,
};

for (
  const [reason, text] of [
    ["max-enis", /^max ENIs reached: no address after 2000 ms$/],
    ["max-pods", /^max pods reached/],
    ["subnet-full", /^subnet full: .*retry after 90 s \(no free address\)$/],
    ["throttled", /^EC2 throttled: .*retry after 3 s/],
    ["unauthorized", /^not authorized: .*retry after 60 s/],
    ["cloud-error", /^EC2 error: /],
    ["still-warming", /^still warming/],
  ] as const
) {
  Deno.test(`AddressQueue.acquire() times out with the reason "${reason}"`, async () => {
    const retryAfterMs = RETRY_AFTER_MS[reason];
    const untilMs = retryAfterMs === undefined ? null : 1_002_000 + retryAfterMs;
    const detail = reason === "subnet-full" ? "no free address" : "";
    const { timers, queue, events } = setup({ reason, detail, untilMs });
    const waiting = queue.acquire(key("x"), meta, 2_000);
    timers.advance(1_999);
    equal(queue.waiting, 1);
    timers.advance(1);
    await rejects(waiting, (error: unknown) => {
      ok(error instanceof NoAddressError);
      equal(error.reason, reason);
      equal(error.retryAfterMs, retryAfterMs ?? null);
      ok(text.test(error.message), error.message);
      return true;
    });
    equal(queue.waiting, 0);
    deepStrictEqual(events, [`timed out ${reason} 2000`]);
  });
}

Deno.test("AddressQueue.cancel() ends the wait of a deleted pod's ADD and leaves the others", async () => {
  const { datastore, queue } = setup();
  const doomed = queue.acquire(key("doomed"), meta, 5_000);
  const other = queue.acquire(key("other"), meta, 5_000);
  equal(queue.cancel(key("doomed")), 1);
  await rejects(doomed, AddCancelledError);
  datastore.addCidrs("eni-0", ["10.0.0.10/32"]);
  queue.serve();
  equal((await other).ip, "10.0.0.10");
  equal(datastore.get(key("doomed")), null);
});

Deno.test("AddressQueue.cancelAll() ends every wait and its timer", async () => {
  const { queue, timers } = setup();
  const waits = ["a", "b"].map((id) => queue.acquire(key(id), meta, 5_000));
  equal(timers.pending, 2);
  queue.cancelAll("ipamd is stopping");
  for (const wait of waits) await rejects(wait, AddCancelledError);
  equal(queue.waiting, 0);
  equal(timers.pending, 0);
});

Deno.test("AddressQueue.acquire() without a deadline sets no timer", async () => {
  const { queue, timers } = setup();
  const wait = queue.acquire(key("a"), meta, Infinity);
  equal(queue.waiting, 1);
  equal(timers.pending, 0);
  queue.cancelAll("done");
  await rejects(wait, AddCancelledError);
});

Deno.test("AddressQueue serves a waiting ADD when a released address ends its cooldown, on the injected timers", async () => {
  const { clock, datastore, queue, timers, events } = setup();
  datastore.addCidrs("eni-0", ["10.0.0.10/32"]);
  equal((await queue.acquire(key("old"), meta, 60_000)).ip, "10.0.0.10");
  timers.advance(20_000);
  datastore.release(key("old"), clock.now()); // cools down until 1 050 000
  queue.serve();
  timers.advance(1_000);
  const waiting = queue.acquire(key("new"), meta, 60_000);
  equal(timers.pending, 2, "the ADD's deadline and the cooldown's end");
  timers.advance(28_999);
  equal(queue.waiting, 1);
  timers.advance(1);
  equal((await waiting).ip, "10.0.0.10");
  equal(clock.now(), 1_050_000);
  deepStrictEqual(events.slice(-1), ["served 29000 true"]);
  equal(timers.pending, 0, "no timer is left once nobody waits");
});

Deno.test("AddressQueue keeps no cooldown timer while nobody waits, and drops it with the last wait", async () => {
  const { clock, datastore, queue, timers } = setup();
  datastore.addCidrs("eni-0", ["10.0.0.10/32"]);
  await queue.acquire(key("old"), meta, 60_000);
  datastore.release(key("old"), clock.now());
  queue.serve();
  equal(timers.pending, 0);
  const waiting = queue.acquire(key("new"), meta, 5_000);
  equal(timers.pending, 2);
  queue.cancel(key("new"));
  await rejects(waiting, AddCancelledError);
  equal(timers.pending, 0);
});
