import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { planPool } from "./policy.ts";
import { type SubnetRoom, subnetSpare } from "./subnet_room.ts";
import { DEFAULT_POOL_SETTINGS, type EniSnapshot, type InstanceLimits, type PoolSettings } from "./types.ts";

const M5_LARGE: InstanceLimits = { maxEnis: 3, ipv4PerEni: 10, maxPods: 29 };

/** An ENI with `assigned` pod addresses and `free` free ones. */
function eni(device: number, assigned: number, free: number): EniSnapshot {
  const addresses = [...Array(assigned).fill("a"), ...Array(free).fill("f")];
  return {
    eniId: `eni-${device}`,
    deviceNumber: device,
    primary: device === 0,
    createdAtMs: 0,
    cidrs: addresses.map((kind, i) => ({
      cidr: `10.${device}.0.${i + 10}/32`,
      prefix: false,
      addresses: [{ kind: kind === "a" ? "assigned" as const : "free" as const }],
    })),
  };
}

function room(total: number, byEni: Record<string, number> = {}): SubnetRoom {
  return { total: () => total, free: (eniId) => byEni[eniId ?? "new"] ?? total };
}

function plan(enis: EniSnapshot[], settings: Partial<PoolSettings>, subnets?: SubnetRoom, waitingAdds = 0) {
  return planPool({ enis, waitingAdds, lastDecreaseAtMs: null }, {
    limits: M5_LARGE,
    settings: { ...DEFAULT_POOL_SETTINGS, ...settings },
    nowMs: 10_000_000,
    room: subnets,
  });
}

Deno.test("subnetSpare() keeps the targets while the subnets have room, then 1/16 of what is free over 64, then none", () => {
  assertEquals([1000, 208, 164, 100, 70, 0].map((free) => subnetSpare(9, free)), [9, 9, 6, 2, 0, 0]);
});

Deno.test("planPool() with subnet-aware targets: a whole spare ENI becomes a few spare addresses, then none", async (t) => {
  await t.step("plenty of room: WARM_ENI_TARGET=1 fills the primary ENI", () => {
    const p = plan([eni(0, 0, 0)], {}, room(10_000));
    assertEquals(p.actions, [{ kind: "assign", eniId: "eni-0", count: 9 }]);
    assertEquals(p.subnetSpare, null);
  });
  await t.step("160 free: 6 spare addresses, asked for one call's worth", () => {
    const p = plan([eni(0, 0, 0)], {}, room(160));
    assertEquals(p.actions, [{ kind: "assign", eniId: "eni-0", count: 6 }]);
    assertEquals(p.subnetSpare, 6);
  });
  await t.step("10 free: nothing spare, but waiting ADDs are served", () => {
    assertEquals(plan([eni(0, 2, 0)], {}, room(10)).actions, []);
    assertEquals(plan([eni(0, 2, 0)], {}, room(10), 3).actions, [{
      kind: "assign",
      eniId: "eni-0",
      count: 3,
    }]);
  });
  await t.step("the subnets ran low: spare addresses beyond the cut go back", () => {
    const p = plan([eni(0, 3, 6)], {}, room(96));
    assertEquals(p.actions, [{
      kind: "release",
      eniId: "eni-0",
      cidrs: ["10.0.0.18/32", "10.0.0.17/32", "10.0.0.16/32", "10.0.0.15/32"],
    }]);
  });
  await t.step("POOL_SUBNET_AWARE=false keeps the targets whatever the subnets hold", () => {
    const p = plan([eni(0, 0, 0)], { subnetAware: false }, room(10));
    assertEquals(p.actions, [{ kind: "assign", eniId: "eni-0", count: 9 }]);
  });
});

Deno.test("planPool() grows past an ENI whose subnet is full with a new ENI where there is room", () => {
  const p = plan([eni(0, 2, 0)], { warmIpTarget: 1 }, room(300, { "eni-0": 0, new: 300 }), 2);
  assertEquals(p.actions, [{ kind: "create-eni", count: 3 }]);
  const full = plan([eni(0, 2, 0)], { warmIpTarget: 1 }, room(0, { "eni-0": 0, new: 0 }), 2);
  assertEquals([full.actions, full.blocked], [[], "subnet-full"]);
});
