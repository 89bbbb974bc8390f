import { deepStrictEqual, equal } from "node:assert/strict";
import { SimulatedNode } from "../../sim/node/simulated_node.ts";
import { instanceLimits, lookupInstanceType } from "../limits/limits.ts";
import { DEFAULT_POOL_SETTINGS } from "../pool/types.ts";
import { poolReport, type PoolReportSource } from "./pool_report.ts";

Deno.test("poolReport() shows spare growth waiting out EC2's throttling as the growth block while the pool is short", async () => {
  const limits = instanceLimits(lookupInstanceType("t3.small"), { prefixDelegation: false });
  const settings = { ...DEFAULT_POOL_SETTINGS, warmIpTarget: 2 };
  const n = await SimulatedNode.start({ instanceType: "t3.small", limits, settings });
  const { pool, clock } = n;
  const source: PoolReportSource = {
    datastore: pool.datastore,
    reconciler: pool.reconciler,
    growth: pool.growth,
    queue: pool.queue,
    limits,
    settings,
    subnetOf: () => "",
    failures: { list: () => [], total: 0 },
  };
  n.sim.knobs.failNext("AssignPrivateIpAddresses", { code: "RequestLimitExceeded", httpStatus: 503 });
  await pool.reconciler.pass();
  clock.advanceTo(pool.growth.hold?.untilMs ?? clock.now());
  equal(pool.growth.current, null, "the pause after the throttle ran out");
  const spareEndMs = pool.growth.spareHeldUntilMs;
  equal(typeof spareEndMs, "number", "drawn above 0 (seeded simulations draw the same way)");
  const report = poolReport(source, clock.now());
  equal(report.next.shortIps, 2);
  deepStrictEqual(
    [report.growthBlock?.reason, report.growthBlock?.untilMs],
    ["throttled", spareEndMs],
  );
  clock.advanceTo(spareEndMs!);
  equal(poolReport(source, clock.now()).growthBlock, null, "spare growth may go on");
});
