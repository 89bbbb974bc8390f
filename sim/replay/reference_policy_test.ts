import { equal } from "node:assert/strict";
import { DEFAULT_POOL_SETTINGS, type PoolSettings } from "../../ipamd/pool/types.ts";
import { ReferencePolicy, type RefStats } from "./reference_policy.ts";

const LIMITS = { maxEnis: 4, ipv4PerEni: 15, maxPods: 500 };

function stats(total: number, assigned: number): RefStats {
  return { total, assigned, available: total - assigned, totalPrefixes: 0, freePrefixes: 0 };
}

function policy(settings: Partial<PoolSettings>, maxPods = 500): ReferencePolicy {
  return new ReferencePolicy({ ...LIMITS, maxPods }, { ...DEFAULT_POOL_SETTINGS, ...settings });
}

// TestIPAMContext_nodeIPPoolTooLow (M 14) and the short/over cases of TestGetWarmIPTargetState.
const LOW_CASES: [string, Partial<PoolSettings>, RefStats, boolean, number?][] = [
  ["an empty pool with the defaults is low", {}, stats(0, 0), true],
  ["WARM_ENI_TARGET 0 with nothing available is low", { warmEniTarget: 0 }, stats(0, 0), true],
  ["WARM_IP_TARGET 3 on an empty pool is low", { warmIpTarget: 3 }, stats(0, 0), true],
  ["a full ENI of free IPs with WARM_ENI_TARGET 1 is not low", { warmEniTarget: 1 }, stats(14, 0), false],
  ["one used IP with WARM_ENI_TARGET 1 is low", { warmEniTarget: 1 }, stats(14, 1), true],
  ["one used IP with WARM_ENI_TARGET 0 is not low", { warmEniTarget: 0 }, stats(14, 1), false],
  ["all used with WARM_ENI_TARGET 0 is low", { warmEniTarget: 0 }, stats(14, 14), true],
  ["max pods reached is never low", { warmEniTarget: 1 }, stats(3, 3), false, 3],
];

for (const [name, settings, s, low, maxPods] of LOW_CASES) {
  Deno.test(`ReferencePolicy.isLow(): ${name}`, () => equal(policy(settings, maxPods).isLow(s), low));
}

Deno.test("ReferencePolicy.targetState() follows datastoreTargetState", () => {
  const p = policy({ warmIpTarget: 5 });
  equal(p.targetState(stats(0, 0)).short, 5);
  equal(p.targetState(stats(2, 0)).short, 3);
  equal(p.targetState(stats(5, 0)).short, 0);
  equal(p.targetState(stats(5, 0)).over, 0);
  equal(policy({ warmIpTarget: 1 }).targetState(stats(4, 2)).over, 1);
  equal(policy({ warmIpTarget: 5, minimumIpTarget: 10 }).targetState(stats(10, 0)).over, 0);
});

Deno.test("ReferencePolicy counts cooling addresses as available", () => {
  const p = policy({ warmIpTarget: 2 });
  const enis = [{
    eniId: "eni-1",
    deviceNumber: 0,
    primary: true,
    createdAtMs: 0,
    cidrs: [
      { cidr: "10.0.0.5/32", prefix: false, size: 1, assigned: 0, cooling: 1 },
      { cidr: "10.0.0.6/32", prefix: false, size: 1, assigned: 0, cooling: 1 },
    ],
  }];
  equal(p.isLow(p.stats(enis)), false);
  equal(p.deletableEni(enis, enis, 120_000), null);
});
