import { deepStrictEqual, equal } from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { CloudError } from "../cloud/mod.ts";
import { GrowthState, SPARE_QUIET_MS } from "./growth.ts";

const THROTTLED = new CloudError("throttled", "RequestLimitExceeded", "Request limit exceeded.");

/** The pauses after `n` throttled failures in a row, with every draw at `draw`. */
function throttlePauses(draw: number, n: number): number[] {
  const clock = new ManualClock(1_000_000);
  const growth = new GrowthState(clock, { random: () => draw });
  return Array.from({ length: n }, () => {
    growth.failed(THROTTLED);
    return (growth.hold?.untilMs ?? clock.now()) - clock.now();
  });
}

Deno.test("GrowthState.failed() draws each throttle pause from 0 to 1, 2, 4 … 30 s (full jitter)", () => {
  deepStrictEqual(throttlePauses(0, 7), [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  deepStrictEqual(throttlePauses(0.75, 3), [250, 500, 1_000]);
  equal(throttlePauses(1, 1)[0], 0, "a draw of 1 waits nothing");
});

Deno.test("GrowthState.failed() spreads the long pauses over half to all of them", () => {
  const clock = new ManualClock(0);
  for (const [draw, expected] of [[0, 120_000], [1, 60_000]] as const) {
    const growth = new GrowthState(clock, { random: () => draw });
    growth.failed(new CloudError("subnet-full", "InsufficientFreeAddressesInSubnet", "full"));
    equal(growth.hold?.untilMs, expected);
  }
});

Deno.test("GrowthState.spareHeldUntilMs waits a random while after the account's last throttle, drawn anew for each", () => {
  const clock = new ManualClock(1_000_000);
  const pressure = { lastThrottledAtMs: null as number | null };
  const draws = [0.5, 0.25];
  const growth = new GrowthState(clock, { pressure, random: () => draws.shift() ?? 0 });
  equal(growth.spareHeldUntilMs, null, "never throttled");
  pressure.lastThrottledAtMs = clock.now();
  equal(growth.spareHeldUntilMs, 1_000_000 + SPARE_QUIET_MS / 2);
  clock.advance(4_000);
  equal(growth.spareHeldUntilMs, 1_000_000 + SPARE_QUIET_MS / 2, "the same throttle keeps its draw");
  pressure.lastThrottledAtMs = clock.now();
  equal(growth.spareHeldUntilMs, 1_004_000 + SPARE_QUIET_MS / 4, "a new throttle, a new draw");
  clock.advance(SPARE_QUIET_MS / 4);
  equal(growth.spareHeldUntilMs, null);
});

Deno.test("GrowthState counts its own throttled failures as pressure too", () => {
  const clock = new ManualClock(0);
  const growth = new GrowthState(clock, { random: () => 0.5 });
  growth.failed(THROTTLED);
  equal(growth.spareHeldUntilMs, SPARE_QUIET_MS / 2);
});

Deno.test("GrowthState.whyNoAddress says throttled while EC2 throttled requests the pool has not grown since", () => {
  const clock = new ManualClock(1_000_000);
  const pressure = { lastThrottledAtMs: null as number | null };
  const growth = new GrowthState(clock, { pressure });
  equal(growth.whyNoAddress.reason, "still-warming", "never throttled");
  pressure.lastThrottledAtMs = clock.now();
  clock.advance(3_000);
  equal(growth.whyNoAddress.reason, "throttled", "a throttled call still being retried");
  growth.grew();
  equal(growth.whyNoAddress.reason, "still-warming", "the pool grew since");
});
