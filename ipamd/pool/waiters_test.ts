import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import type { Nap, Timers } from "../../shared/timers.ts";
import { Datastore } from "./datastore.ts";
import {
  AddCancelledError,
  AddressQueue,
  NoAddressError,
  type NoAddressReason,
  type PoolBlock,
} from "./waiters.ts";

/** Timers driven by a manual clock: `fire()` runs what is due. */
class ManualTimers implements Timers {
  readonly #clock: ManualClock;
  #due: { atMs: number; fn: () => void; cancelled: boolean }[] = [];

  constructor(clock: ManualClock) {
    this.#clock = clock;
  }

  nap(ms: number): Nap {
    let wake!: () => void;
    const done = new Promise<void>((resolve) => {
      wake = resolve;
      this.after(ms, resolve);
    });
    return { done, wake };
  }

  after(ms: number, fn: () => void): () => void {
    const entry = { atMs: this.#clock.now() + ms, fn, cancelled: false };
    this.#due.push(entry);
    return () => void (entry.cancelled = true);
  }

  advance(ms: number): void {
    this.#clock.advance(ms);
    const now = this.#clock.now();
    const due = this.#due.filter((entry) => entry.atMs <= now && !entry.cancelled);
    this.#due = this.#due.filter((entry) => entry.atMs > now);
    for (const entry of due) entry.fn();
  }
}

function setup(block: PoolBlock = { reason: "still-warming" }) {
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
  let wakes = 0;
  const queue = new AddressQueue({ datastore, clock, timers, wake: () => wakes++, block: () => block });
  return { clock, timers, datastore, queue, wakes: () => wakes };
}

const key = (containerId: string) => ({ networkName: "aws-cni", containerId, ifName: "eth0" });
const meta = { podNamespace: "default", podName: "p" };

Deno.test("AddressQueue.acquire() answers at once from the pool and wakes the reconciler only when it waits", async () => {
  const { datastore, queue, wakes } = setup();
  datastore.addCidrs("eni-0", ["10.0.0.10/32"]);
  equal((await queue.acquire(key("a"), meta, 1_000)).ip, "10.0.0.10");
  equal(wakes(), 0);
  const waiting = queue.acquire(key("b"), meta, 1_000);
  equal(queue.waiting, 1);
  equal(wakes(), 1);
  datastore.addCidrs("eni-0", ["10.0.0.11/32"]);
  queue.serve();
  equal((await waiting).ip, "10.0.0.11");
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

for (
  const [reason, text] of [
    ["max-enis", /^max ENIs reached: no address after 2000 ms$/],
    ["max-pods", /^max pods reached/],
    ["subnet-full", /^subnet full: .*retry after 90 s/],
    ["throttled", /^EC2 throttled: .*retry after 3 s/],
    ["still-warming", /^still warming/],
  ] as const
) {
  Deno.test(`AddressQueue.acquire() times out with the reason "${reason}"`, async () => {
    const retryAfterMs = reason === "subnet-full" ? 90_000 : reason === "throttled" ? 2_500 : null;
    const { timers, queue } = setup({ reason: reason as NoAddressReason, retryAfterMs });
    const waiting = queue.acquire(key("x"), meta, 2_000);
    timers.advance(1_999);
    equal(queue.waiting, 1);
    timers.advance(1);
    await rejects(waiting, (error: unknown) => {
      ok(error instanceof NoAddressError);
      equal(error.reason, reason);
      equal(error.retryAfterMs, retryAfterMs);
      ok(text.test(error.message), error.message);
      return true;
    });
    equal(queue.waiting, 0);
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
