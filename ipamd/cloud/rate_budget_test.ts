import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { CloudError } from "./errors.ts";
import { backoffMs, parseRequestBudget, RateBudget, type RateBudgetOptions } from "./rate_budget.ts";

const QUERY = { unfilteredUnpaginated: false, idempotent: true } as const;
const CHANGE = { unfilteredUnpaginated: false, idempotent: false } as const;

function budget(
  options: Partial<RateBudgetOptions> = {},
): { budget: RateBudget; clock: ManualClock; slept: number[] } {
  const clock = new ManualClock(1_000_000);
  const slept: number[] = [];
  const sleep = (ms: number) => {
    slept.push(ms);
    clock.advance(ms);
    return Promise.resolve();
  };
  return { budget: new RateBudget({ clock, sleep, random: () => 0.5, ...options }), clock, slept };
}

function failing(times: number, kind: "throttled" | "unavailable" | "invalid"): () => Promise<string> {
  let left = times;
  return () => {
    if (left-- > 0) {
      return Promise.reject(new CloudError(kind, kind === "throttled" ? "RequestLimitExceeded" : "X", kind));
    }
    return Promise.resolve("ok");
  };
}

Deno.test("backoffMs() doubles from the initial delay up to the cap, minus up to the jitter share", () => {
  const policy = { initialMs: 100, factor: 2, maxMs: 1_000, jitter: 0.5 };
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => backoffMs(policy, n, () => 0)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
  assert.deepEqual([0, 3].map((n) => backoffMs(policy, n, () => 1)), [50, 400]);
});

Deno.test("RateBudget.run() waits for a token when the action's bucket is empty and counts the wait by category", async () => {
  const { budget: b, clock, slept } = budget({
    buckets: { CreateNetworkInterface: { capacity: 2, refillPerSecond: 4 } },
  });
  const startMs = clock.now();
  for (let i = 0; i < 4; i++) await b.run("CreateNetworkInterface", CHANGE, () => Promise.resolve(i));
  assert.deepEqual(slept, [250, 250]);
  assert.equal(clock.now() - startMs, 500);
  assert.equal(b.waitedMs("CreateNetworkInterface"), 500);
  assert.equal(b.waitedMs("mutating"), 0);
  assert.ok(b.categories.includes("unfiltered-non-mutating") && b.categories.includes("CreateTags"));
});

Deno.test("RateBudget keeps one bucket per action, sized by its category", async () => {
  const { budget: b, slept } = budget({ buckets: { mutating: { capacity: 1, refillPerSecond: 1 } } });
  await b.run("AttachNetworkInterface", CHANGE, () => Promise.resolve());
  await b.run("DetachNetworkInterface", CHANGE, () => Promise.resolve());
  assert.deepEqual(slept, [], "each action has its own bucket");
  await b.run("AttachNetworkInterface", CHANGE, () => Promise.resolve());
  assert.deepEqual(slept, [1000]);
  assert.equal(b.waitedMs("mutating"), 1000);
});

Deno.test("RateBudget with AWS's sizes lets a 100-request burst of describes through at once", async () => {
  const { budget: b, slept } = budget();
  for (let i = 0; i < 100; i++) await b.run("DescribeSubnets", QUERY, () => Promise.resolve());
  assert.deepEqual(slept, []);
  await b.run("DescribeSubnets", QUERY, () => Promise.resolve());
  assert.deepEqual(slept, [50], "then 20 per second");
  const unfiltered = { unfilteredUnpaginated: true, idempotent: true };
  for (let i = 0; i < 51; i++) await b.run("DescribeNetworkInterfaces", unfiltered, () => Promise.resolve());
  assert.equal(b.waitedMs("unfiltered-non-mutating"), 100, "the unfiltered bucket holds 50 and refills 10/s");
});

Deno.test("RateBudget.run() retries throttling with full-jitter back-off, for every request, and counts it", async () => {
  const { budget: b, slept, clock } = budget({ buckets: null, adaptive: false });
  assert.equal(b.lastThrottledAtMs, null);
  assert.equal(await b.run("AssignPrivateIpAddresses", CHANGE, failing(3, "throttled")), "ok");
  assert.deepEqual(slept, [125, 250, 500], "half of 250, 500 and 1000 ms with the draw at 0.5");
  assert.equal(b.throttled("AssignPrivateIpAddresses"), 3);
  assert.equal(b.waitedMs("AssignPrivateIpAddresses"), 125 + 250 + 500);
  assert.equal(b.lastThrottledAtMs, clock.now() - 500, "when EC2 last said RequestLimitExceeded");
});

Deno.test("RateBudget.run() gives up after maxRetries with the last error", async () => {
  const retries: number[] = [];
  const { budget: b } = budget({ buckets: null, maxRetries: 2, onRetry: (r) => retries.push(r.attempt) });
  const error = await b.run("CreateTags", QUERY, failing(5, "throttled")).catch((e: unknown) => e);
  assert.ok(error instanceof CloudError && error.kind === "throttled");
  assert.deepEqual(retries, [1, 2]);
});

Deno.test("RateBudget.run() retries timeouts and 5xx only for idempotent requests, and never other failures", async () => {
  const { budget: b, slept } = budget({ buckets: null });
  assert.equal(await b.run("DescribeSubnets", QUERY, failing(2, "unavailable")), "ok");
  assert.equal(slept.length, 2);
  assert.equal(b.waitedMs("non-mutating"), 0, "a 5xx back-off is no budget wait");
  await assert.rejects(b.run("AssignPrivateIpAddresses", CHANGE, failing(1, "unavailable")), CloudError);
  await assert.rejects(b.run("DescribeSubnets", QUERY, failing(1, "invalid")), CloudError);
  await assert.rejects(
    b.run("DescribeSubnets", QUERY, () => Promise.reject(new TypeError("bug"))),
    TypeError,
  );
  assert.equal(slept.length, 2);
});

Deno.test("RateBudget.run() waits at least a failure's retryAfterMs", async () => {
  const { budget: b, slept } = budget({ buckets: null });
  let first = true;
  await b.run("DescribeSubnets", QUERY, () => {
    if (!first) return Promise.resolve();
    first = false;
    return Promise.reject(
      new CloudError("throttled", "RequestLimitExceeded", "slow down", { retryAfterMs: 5_000 }),
    );
  });
  assert.deepEqual(slept, [5_000]);
});

Deno.test("parseRequestBudget() reads categories, off and empty, and rejects the rest", () => {
  assert.deepEqual(parseRequestBudget(""), {});
  assert.equal(parseRequestBudget(" Off "), null);
  assert.deepEqual(parseRequestBudget("mutating=10/1, CreateTags=200/2.5"), {
    mutating: { capacity: 10, refillPerSecond: 1 },
    CreateTags: { capacity: 200, refillPerSecond: 2.5 },
  });
  assert.throws(() => parseRequestBudget("mutating"), SyntaxError);
  assert.throws(() => parseRequestBudget("mutating=1/0"), RangeError);
  assert.throws(() => parseRequestBudget("Mutating=1/1"), RangeError);
});

Deno.test("RateBudget.run() paces an action after EC2 throttled it, and stops pacing a minute later", async () => {
  const { budget: b, slept, clock } = budget({ buckets: null, maxRetries: 0 });
  await assert.rejects(b.run("AttachNetworkInterface", CHANGE, failing(1, "throttled")), CloudError);
  slept.length = 0;
  for (let i = 0; i < 3; i++) await b.run("AttachNetworkInterface", CHANGE, () => Promise.resolve("ok"));
  // 3.5 per second after one throttle (5 refill × 0.7), then a quarter more after each answer.
  assert.deepEqual(slept, [286, 229]);
  await b.run("DetachNetworkInterface", CHANGE, () => Promise.resolve("ok"));
  assert.deepEqual(slept, [286, 229], "each action has its own pace");
  clock.advance(60_000);
  slept.length = 0;
  for (let i = 0; i < 3; i++) await b.run("AttachNetworkInterface", CHANGE, () => Promise.resolve("ok"));
  assert.deepEqual(slept, [], "a minute without throttling ends the pacing");
});
