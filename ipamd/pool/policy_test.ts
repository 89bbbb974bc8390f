import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { COOLING_WAIT_MS, planPool, scaleDownWindowMs } from "./policy.ts";
import {
  type AddressState,
  type CidrSnapshot,
  DEFAULT_POOL_SETTINGS,
  type EniSnapshot,
  type InstanceLimits,
  type PoolPlan,
  type PoolSettings,
} from "./types.ts";

const T3_SMALL: InstanceLimits = { maxEnis: 3, ipv4PerEni: 4, maxPods: 11 };
/** t3.small with the max pods of prefix delegation (the file's 11 would bind at one prefix). */
const T3_SMALL_PD: InstanceLimits = { ...T3_SMALL, maxPods: 110 };
const P3DN: InstanceLimits = { maxEnis: 15, ipv4PerEni: 50, maxPods: 737 };
const HOUR = 3_600_000;
const NOW = 10 * HOUR;

/**
 * An ENI from a compact picture of its CIDRs: one character per address,
 * `a` assigned, `f` free, `c` cooling since NOW−1 s (for the default cooldown), `o` cooled off long ago.
 * With `prefix`, each group of 16 characters separated by spaces is one /28.
 */
function eni(
  device: number,
  picture: string,
  options: { prefix?: boolean; createdAtMs?: number } = {},
): EniSnapshot {
  const state = (ch: string): AddressState => {
    if (ch === "a") return { kind: "assigned" };
    if (ch === "c") return { kind: "cooling", untilMs: NOW - 1_000 + DEFAULT_POOL_SETTINGS.ipCooldownMs };
    if (ch === "o") return { kind: "cooling", untilMs: DEFAULT_POOL_SETTINGS.ipCooldownMs };
    return { kind: "free" };
  };
  const groups = options.prefix ? picture.split(" ").filter(Boolean) : [...picture];
  const cidrs: CidrSnapshot[] = groups.map((group, i) => ({
    cidr: options.prefix ? `10.${device}.${i}.0/28` : `10.${device}.0.${i + 10}/32`,
    prefix: options.prefix ?? false,
    addresses: [...group].map(state),
  }));
  return {
    eniId: `eni-${device}`,
    deviceNumber: device,
    primary: device === 0,
    createdAtMs: options.createdAtMs ?? 0,
    cidrs,
  };
}

function plan(
  enis: EniSnapshot[],
  settings: Partial<PoolSettings>,
  options: { limits?: InstanceLimits; waitingAdds?: number; lastDecreaseAtMs?: number } = {},
): PoolPlan {
  return planPool(
    { enis, waitingAdds: options.waitingAdds ?? 0, lastDecreaseAtMs: options.lastDecreaseAtMs ?? null },
    { limits: options.limits ?? T3_SMALL, settings: { ...DEFAULT_POOL_SETTINGS, ...settings }, nowMs: NOW },
  );
}

const P16 = (assigned: number) => "a".repeat(assigned) + "f".repeat(16 - assigned);

Deno.test("planPool() fills the primary ENI on a fresh node with WARM_ENI_TARGET=1", () => {
  const result = plan([eni(0, "")], {});
  assertEquals(result.actions, [{ kind: "assign", eniId: "eni-0", count: 3 }]);
  assertEquals(result.shortIps, 3);
});

Deno.test("planPool() creates a whole ENI once free IPs drop below one ENI's worth", () => {
  assertEquals(plan([eni(0, "aff")], {}).actions, [{ kind: "create-eni", count: 3 }]);
  assertEquals(plan([eni(0, "fff")], {}).actions, []);
});

Deno.test("planPool() grows the lowest device with room before creating an ENI", () => {
  const result = plan([eni(0, "aaa"), eni(1, "a"), eni(2, "")], { warmIpTarget: 3 });
  assertEquals(result.actions, [
    { kind: "assign", eniId: "eni-1", count: 2 },
    { kind: "assign", eniId: "eni-2", count: 1 },
  ]);
});

Deno.test("planPool() caps MAX_ENI above the instance limit at the instance limit", () => {
  const result = plan([eni(0, "aaa"), eni(1, "aaa"), eni(2, "aaf")], { maxEni: 10 });
  assertEquals(result.actions, []);
  assertEquals(result.blocked, "max-enis");
});

Deno.test("planPool() stops at MAX_ENI below the instance limit", () => {
  const result = plan([eni(0, "aaa"), eni(1, "aaf")], { maxEni: 2 });
  assertEquals(result.actions, []);
  assertEquals(result.blocked, "max-enis");
  const fresh = plan([eni(0, "")], { maxEni: 1, warmIpTarget: 5 });
  assertEquals(fresh.actions, [{ kind: "assign", eniId: "eni-0", count: 3 }]);
  assertEquals(fresh.blocked, "max-enis");
});

Deno.test("planPool() spreads a MINIMUM_IP_TARGET above one ENI's capacity over a new ENI", () => {
  const result = plan([eni(0, "")], { warmIpTarget: 2, minimumIpTarget: 5 });
  assertEquals(result.actions, [
    { kind: "assign", eniId: "eni-0", count: 3 },
    { kind: "create-eni", count: 2 },
  ]);
});

Deno.test("planPool() never holds more addresses than max pods", () => {
  const limits = { ...T3_SMALL, maxPods: 5 };
  const result = plan([eni(0, "aff")], {}, { limits });
  assertEquals(result.actions, [{ kind: "create-eni", count: 2 }]);
  assertEquals(result.blocked, null);
  assertEquals(plan([eni(0, "aaa"), eni(1, "aa")], { warmIpTarget: 1 }, { limits }).blocked, "max-pods");
});

Deno.test("planPool() rounds max pods up to whole /28 prefixes with prefix delegation", () => {
  const limits = { ...T3_SMALL, maxPods: 20 };
  const result = plan([eni(0, "")], { prefixDelegation: true, minimumIpTarget: 100 }, { limits });
  assertEquals(result.actions, [{ kind: "assign", eniId: "eni-0", count: 2 }]);
  assertEquals(result.blocked, "max-pods");
});

Deno.test("planPool() keeps one usable address with WARM_ENI_TARGET=0 and never frees it back into a shortage", () => {
  assertEquals(plan([eni(0, "")], { warmEniTarget: 0 }).actions, [{
    kind: "assign",
    eniId: "eni-0",
    count: 3,
  }]);
  assertEquals(plan([eni(0, "aaa")], { warmEniTarget: 0 }).actions, [{ kind: "create-eni", count: 3 }]);
  // The reference frees this ENI after a minute and then creates it again (its quirk 1).
  assertEquals(plan([eni(0, "aaa"), eni(1, "fff")], { warmEniTarget: 0 }).actions, []);
});

Deno.test("planPool() frees an ENI in WARM_ENI_TARGET mode only when a full ENI's worth stays free", () => {
  const keep = plan([eni(0, "aaf"), eni(1, "fff")], {});
  assertEquals(keep.actions, []);
  const free = plan([eni(0, "aff"), eni(1, "fff"), eni(2, "fff")], {});
  assertEquals(free.actions, [{ kind: "free-eni", eniId: "eni-2" }]);
});

Deno.test("planPool() scales back to one ENI when the pods are gone", () => {
  const result = plan([eni(0, "fff"), eni(1, "fff"), eni(2, "fff")], {});
  assertEquals(result.actions, [{ kind: "free-eni", eniId: "eni-2" }, { kind: "free-eni", eniId: "eni-1" }]);
  const warmIp = plan([eni(0, "fff"), eni(1, "fff"), eni(2, "fff")], { warmIpTarget: 2, minimumIpTarget: 5 });
  assertEquals(warmIp.actions, [
    { kind: "free-eni", eniId: "eni-2" },
    { kind: "release", eniId: "eni-1", cidrs: ["10.1.0.12/32"] },
  ]);
});

Deno.test("planPool() never frees the primary ENI", () => {
  const result = plan([eni(0, "fff")], { warmIpTarget: 0, minimumIpTarget: 0, warmEniTarget: 0 });
  assertEquals(result.actions.filter((a) => a.kind === "free-eni"), []);
});

Deno.test("planPool() does not count cooling addresses as usable in WARM_ENI_TARGET mode", () => {
  const result = plan([eni(0, "acc")], { warmEniTarget: 1 });
  assertEquals(result.stats.usable, 0);
  assertEquals(result.stats.cooling, 2);
  assertEquals(result.actions, [{ kind: "create-eni", count: 3 }]);
  // Cooled off long ago, the same addresses are usable again.
  assertEquals(plan([eni(0, "aoo"), eni(1, "fff")], {}).actions, []);
});

Deno.test("planPool() counts cooling addresses toward the warm target with IP targets and prefixes, never for a waiting ADD", () => {
  const warm = plan([eni(0, "acc")], { warmIpTarget: 2, minimumIpTarget: 0 });
  assertEquals(warm.stats.usable, 0);
  assertEquals(warm.actions, [], "two cooling addresses stand in for the two warm ones");
  const waiting = plan([eni(0, "acc")], { warmIpTarget: 2 }, { waitingAdds: 1 });
  assertEquals(
    waiting.actions,
    [{ kind: "create-eni", count: 1 }],
    "the ADD gets growth: its cooldowns end in 29 s",
  );
  const prefixes = plan([eni(0, P16(10) + " " + "c".repeat(16), { prefix: true })], {
    prefixDelegation: true,
  }, {
    limits: T3_SMALL_PD,
  });
  assertEquals(prefixes.actions, [], "a cooling /28 stands in for the warm prefix");
});

Deno.test("planPool() lets a waiting ADD wait for a cooldown that ends within COOLING_WAIT_MS", () => {
  const soon: EniSnapshot = {
    ...eni(0, "aa"),
    cidrs: [
      ...eni(0, "aa").cidrs,
      {
        cidr: "10.0.0.20/32",
        prefix: false,
        addresses: [{ kind: "cooling", untilMs: NOW + COOLING_WAIT_MS }],
      },
    ],
  };
  const limits = { ...T3_SMALL, ipv4PerEni: 7 };
  assertEquals(plan([soon], { warmIpTarget: 1 }, { waitingAdds: 1, limits }).actions, [
    { kind: "assign", eniId: "eni-0", count: 1 },
  ], "one for the warm target: the ADD waits for the cooling address");
  assertEquals(plan([soon], { warmIpTarget: 0, minimumIpTarget: 3 }, { waitingAdds: 1, limits }).actions, []);
  const later: EniSnapshot = {
    ...soon,
    cidrs: [...eni(0, "aa").cidrs, {
      ...soon.cidrs[2]!,
      addresses: [{ kind: "cooling", untilMs: NOW + 6_000 }],
    }],
  };
  assertEquals(plan([later], { warmIpTarget: 0, minimumIpTarget: 3 }, { waitingAdds: 1, limits }).actions, [
    { kind: "assign", eniId: "eni-0", count: 1 },
  ], "a cooldown ending later: the ADD gets growth");
});

Deno.test("planPool() never releases a cooling or assigned address, and wakes when the cooldown ends", () => {
  const result = plan([eni(0, "acacff")], { warmIpTarget: 1 }, { limits: { ...T3_SMALL, ipv4PerEni: 7 } });
  assertEquals(result.actions, [{
    kind: "release",
    eniId: "eni-0",
    cidrs: ["10.0.0.15/32", "10.0.0.14/32"],
  }]);
  assertEquals(result.nextWakeMs, NOW - 1_000 + DEFAULT_POOL_SETTINGS.ipCooldownMs);
});

Deno.test("planPool() keeps an ENI holding a cooling address", () => {
  const result = plan([eni(0, "fff"), eni(1, "ffc")], { warmIpTarget: 1 });
  assertEquals(result.actions.some((a) => a.kind === "free-eni"), false);
});

Deno.test("planPool() spaces releases by the decrease interval", () => {
  const settings = { warmIpTarget: 1 };
  const early = plan([eni(0, "fff")], settings, { lastDecreaseAtMs: NOW - 10_000 });
  assertEquals(early.actions, []);
  assertEquals(early.nextWakeMs, NOW + 20_000);
  const due = plan([eni(0, "fff")], settings, { lastDecreaseAtMs: NOW - 30_000 });
  assertEquals(due.actions, [{ kind: "release", eniId: "eni-0", cidrs: ["10.0.0.12/32", "10.0.0.11/32"] }]);
});

Deno.test("planPool() does not free an ENI younger than the minimum age", () => {
  const young = eni(2, "fff", { createdAtMs: NOW - 5_000 });
  const result = plan([eni(0, "fff"), eni(1, "fff"), young], {});
  assertEquals(result.actions, [{ kind: "free-eni", eniId: "eni-1" }]);
  assertEquals(result.nextWakeMs, NOW + 55_000);
});

Deno.test("planPool() releases from the highest device and address first", () => {
  const result = plan([eni(0, "aff"), eni(1, "aff")], { warmIpTarget: 1 });
  assertEquals(result.actions, [
    { kind: "release", eniId: "eni-1", cidrs: ["10.1.0.12/32", "10.1.0.11/32"] },
    { kind: "release", eniId: "eni-0", cidrs: ["10.0.0.12/32"] },
  ]);
});

Deno.test("planPool() grows for waiting pods even when MINIMUM_IP_TARGET alone is met", () => {
  const settings = { warmIpTarget: 0, minimumIpTarget: 3 };
  assertEquals(plan([eni(0, "aaa")], settings).actions, []);
  assertEquals(plan([eni(0, "aaa")], settings, { waitingAdds: 2 }).actions, [{
    kind: "create-eni",
    count: 2,
  }]);
});

Deno.test("planPool() counts waiting pods on top of the warm target", () => {
  const result = plan([eni(0, "aaa"), eni(1, "")], { warmIpTarget: 1 }, { waitingAdds: 2 });
  assertEquals(result.actions, [{ kind: "assign", eniId: "eni-1", count: 3 }]);
});

Deno.test("planPool() sizes prefix delegation with warm IP targets in whole prefixes", () => {
  const pd = { prefixDelegation: true, warmIpTarget: 7, minimumIpTarget: 20 };
  const fresh = plan([eni(0, "", { prefix: true })], pd, { limits: T3_SMALL_PD });
  assertEquals(fresh.actions, [{ kind: "assign", eniId: "eni-0", count: 2 }]);
  const settled = plan([eni(0, `${P16(0)} ${P16(0)}`, { prefix: true })], pd, { limits: T3_SMALL_PD });
  assertEquals(settled.actions, []);
  const grown = plan([eni(0, `${P16(14)} ${P16(0)} ${P16(0)}`, { prefix: true })], {
    prefixDelegation: true,
    warmIpTarget: 7,
  }, { limits: T3_SMALL_PD });
  assertEquals(grown.actions, [{ kind: "release", eniId: "eni-0", cidrs: ["10.0.2.0/28"] }]);
});

Deno.test("planPool() keeps WARM_PREFIX_TARGET free addresses with prefix delegation", () => {
  const settings = { prefixDelegation: true, warmPrefixTarget: 1 };
  assertEquals(plan([eni(0, "", { prefix: true })], settings, { limits: T3_SMALL_PD }).actions, [{
    kind: "assign",
    eniId: "eni-0",
    count: 1,
  }]);
  assertEquals(plan([eni(0, P16(1), { prefix: true })], settings, { limits: T3_SMALL_PD }).actions, [
    { kind: "assign", eniId: "eni-0", count: 1 },
  ]);
  const over = plan([eni(0, `${P16(3)} ${P16(0)} ${P16(0)}`, { prefix: true })], settings, {
    limits: T3_SMALL_PD,
  });
  assertEquals(over.actions, [{ kind: "release", eniId: "eni-0", cidrs: ["10.0.2.0/28"] }]);
});

Deno.test("planPool() gives back free addresses left from the other mode", () => {
  const mixed: EniSnapshot = {
    ...eni(0, P16(0), { prefix: true }),
    cidrs: [...eni(0, P16(0), { prefix: true }).cidrs, ...eni(0, "fa").cidrs],
  };
  const result = plan([mixed], { prefixDelegation: true }, { limits: T3_SMALL_PD });
  assertEquals(result.actions, [{ kind: "release", eniId: "eni-0", cidrs: ["10.0.0.10/32"] }]);
});

Deno.test("planPool() grows large instances in one plan", () => {
  assertEquals(plan([eni(0, "")], { warmIpTarget: 5, minimumIpTarget: 10 }, { limits: P3DN }).actions, [
    { kind: "assign", eniId: "eni-0", count: 10 },
  ]);
  const burst = plan([eni(0, "")], { warmIpTarget: 60 }, { limits: P3DN });
  assertEquals(burst.actions, [{ kind: "assign", eniId: "eni-0", count: 49 }, {
    kind: "create-eni",
    count: 11,
  }]);
});

Deno.test("planPool() keeps what the scale-down window's demand peak needs, and wakes when the peak leaves", () => {
  const enis = [eni(0, "aff"), eni(1, "fff"), eni(2, "fff")];
  const peakDemand = { addresses: 7, untilMs: NOW + 120_000 };
  const held = planPool(
    { enis, waitingAdds: 0, lastDecreaseAtMs: null, peakDemand },
    { limits: T3_SMALL, settings: DEFAULT_POOL_SETTINGS, nowMs: NOW },
  );
  assertEquals(held.actions, []);
  assertEquals(held.nextWakeMs, NOW + 120_000);
  const gone = planPool(
    { enis, waitingAdds: 0, lastDecreaseAtMs: null, peakDemand: { addresses: 1, untilMs: NOW + 1 } },
    { limits: T3_SMALL, settings: DEFAULT_POOL_SETTINGS, nowMs: NOW },
  );
  assertEquals(gone.actions, [{ kind: "free-eni", eniId: "eni-2" }]);
});

Deno.test("scaleDownWindowMs() is the setting when set, else 300 s with WARM_ENI_TARGET and 180 s where addresses go back one by one", () => {
  const base = DEFAULT_POOL_SETTINGS;
  assertEquals(scaleDownWindowMs(base), 300_000);
  assertEquals(scaleDownWindowMs({ ...base, warmIpTarget: 2 }), 180_000);
  assertEquals(scaleDownWindowMs({ ...base, minimumIpTarget: 10 }), 180_000);
  assertEquals(scaleDownWindowMs({ ...base, prefixDelegation: true }), 180_000);
  assertEquals(scaleDownWindowMs({ ...base, warmIpTarget: 2, scaleDownWindowMs: 0 }), 0);
});
