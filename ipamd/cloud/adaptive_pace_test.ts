import assert from "node:assert/strict";
import { AdaptivePace, PACE_RECOVERY_MS } from "./adaptive_pace.ts";

Deno.test("AdaptivePace does not pace until EC2 throttles, then slows by 0.7 with each throttle, down to a fifth", () => {
  const pace = new AdaptivePace(10, () => 0.5);
  assert.equal(pace.admit(0), 0);
  assert.equal(pace.perSecond(0), null);
  const rates = Array.from({ length: 8 }, () => (pace.throttled(0), Number(pace.perSecond(0)?.toFixed(3))));
  assert.deepEqual(rates, [7, 4.9, 3.43, 2.401, 2, 2, 2, 2]);
});

Deno.test("AdaptivePace spaces requests by the pace, jittered, and grows back with answers", () => {
  const draws = [0, 1, 0.5];
  const pace = new AdaptivePace(20 / 7, () => draws.shift() ?? 0.5);
  pace.throttled(1_000); // 2 per second: 500 ms apart on average
  assert.deepEqual([pace.admit(1_000), pace.admit(1_000), pace.admit(1_000)], [0, 250, 1_000]);
  pace.answered(1_000);
  assert.equal(pace.perSecond(1_000), 2.5);
  for (let i = 0; i < 10; i++) pace.answered(1_000);
  assert.equal(pace.perSecond(1_000), 20 / 7, "never above the refill");
  assert.equal(pace.perSecond(1_000 + PACE_RECOVERY_MS), null, "a minute after the last throttle");
});
