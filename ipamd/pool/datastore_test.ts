import assert from "node:assert/strict";
import { type AllocationKey, Datastore, type EniInput } from "./datastore.ts";
import { compareIpv4, formatIpv4, parseIpv4 } from "../../shared/ipv4.ts";

const META = { podNamespace: "default", podName: "web-0" };

function eni(eniId: string, deviceNumber: number, primary = deviceNumber === 0): EniInput {
  return {
    eniId,
    deviceNumber,
    primary,
    createdAtMs: 0,
    mac: `02:00:00:00:00:0${deviceNumber}`,
    primaryIp: `10.0.${deviceNumber}.250`,
    subnetCidr: "10.0.0.0/16",
  };
}

function key(containerId: string, ifName = "eth0"): AllocationKey {
  return { networkName: "aws-cni", containerId, ifName };
}

function store(cooldownMs = 30_000): Datastore {
  return new Datastore({ cooldownMs });
}

Deno.test("Datastore.assign() hands out the lowest free address on the lowest device number", () => {
  const ds = store();
  ds.addEni(eni("eni-b", 1));
  ds.addCidrs("eni-b", ["10.0.1.4/32", "10.0.1.3/32"]);
  ds.addEni(eni("eni-a", 0));
  ds.addCidrs("eni-a", ["10.0.0.10/32", "10.0.0.9/32"]);
  const ips = ["a", "b", "c", "d"].map((id) => ds.assign(key(id), META, 5)?.ip);
  assert.deepEqual(ips, ["10.0.0.9", "10.0.0.10", "10.0.1.3", "10.0.1.4"]);
  const first = ds.get(key("a"));
  assert.deepEqual(first, {
    key: key("a"),
    meta: META,
    ip: "10.0.0.9",
    eniId: "eni-a",
    deviceNumber: 0,
    assignedAtMs: 5,
  });
  assert.deepEqual(ds.enis().map((e) => e.eniId), ["eni-a", "eni-b"]);
});

Deno.test("Datastore.getEni() returns the ENI's own fields and CIDRs, or null", () => {
  const ds = store();
  ds.addEni({ ...eni("eni-a", 0), cidrs: ["10.9.9.9/32"], tags: { x: "y" } } as EniInput);
  ds.addCidrs("eni-a", ["10.0.0.16/28", "10.0.0.3/32"]);
  assert.deepEqual(ds.getEni("eni-a"), { ...eni("eni-a", 0), cidrs: ["10.0.0.3/32", "10.0.0.16/28"] });
  assert.equal(ds.getEni("eni-b"), null);
});

Deno.test("Datastore.assign() returns the same IP for a repeated key", () => {
  const ds = store();
  ds.addEni(eni("eni-a", 0));
  ds.addCidrs("eni-a", ["10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32"]);
  const first = ds.assign(key("c1"), META, 1);
  const again = ds.assign(key("c1"), { podNamespace: "x", podName: "y" }, 2);
  const otherIf = ds.assign(key("c1", "eth1"), META, 3);
  assert.equal(again, first);
  assert.equal(first?.ip, "10.0.0.1");
  assert.equal(otherIf?.ip, "10.0.0.2");
  assert.equal(ds.stats(3).assigned, 2);
});

Deno.test("Datastore.assign() returns null when nothing is assignable", () => {
  const ds = store();
  assert.equal(ds.assign(key("c0"), META, 0), null);
  ds.addEni(eni("eni-a", 0));
  ds.addCidrs("eni-a", ["10.0.0.1/32"]);
  assert.equal(ds.assign(key("c1"), META, 0)?.ip, "10.0.0.1");
  assert.equal(ds.assign(key("c2"), META, 0), null);
});

Deno.test("Datastore.assign() hands out all 16 addresses of a prefix", () => {
  const ds = store();
  ds.addEni(eni("eni-a", 0));
  ds.addCidrs("eni-a", ["10.0.3.16/28"]);
  const ips = Array.from({ length: 16 }, (_, i) => ds.assign(key(`c${i}`), META, 0)?.ip);
  assert.deepEqual(ips, Array.from({ length: 16 }, (_, i) => `10.0.3.${16 + i}`));
  assert.equal(ds.assign(key("c16"), META, 0), null);
  assert.deepEqual(ds.stats(0), { enis: 1, cidrs: 1, total: 16, assigned: 16, cooling: 0, free: 0 });
});

Deno.test("Datastore.release() returns null for an unknown key and changes nothing", () => {
  const ds = store();
  ds.addEni(eni("eni-a", 0));
  ds.addCidrs("eni-a", ["10.0.0.1/32"]);
  ds.assign(key("c1"), META, 0);
  assert.equal(ds.release(key("nope"), 1), null);
  assert.equal(ds.release(key("c1", "eth1"), 1), null);
  assert.deepEqual(ds.stats(1), { enis: 1, cidrs: 1, total: 1, assigned: 1, cooling: 0, free: 0 });
});

Deno.test("Datastore.release() blocks reuse of the address until its cooldown ends", () => {
  const ds = store(30_000);
  ds.addEni(eni("eni-a", 0));
  ds.addCidrs("eni-a", ["10.0.0.1/32"]);
  ds.assign(key("c1"), META, 0);
  assert.equal(ds.release(key("c1"), 1_000)?.ip, "10.0.0.1");
  assert.equal(ds.get(key("c1")), null);
  assert.equal(ds.assign(key("c2"), META, 30_999), null);
  assert.deepEqual(ds.coolingEntries(30_999), [{ ip: "10.0.0.1", sinceMs: 1_000 }]);
  assert.deepEqual(ds.stats(30_999), { enis: 1, cidrs: 1, total: 1, assigned: 0, cooling: 1, free: 0 });
  assert.equal(ds.assign(key("c2"), META, 31_000)?.ip, "10.0.0.1");
  assert.deepEqual(ds.coolingEntries(31_000), []);
});

Deno.test("Datastore.assign() prefers a free address over waiting for a cooling lower one", () => {
  const ds = store(30_000);
  ds.addEni(eni("eni-a", 0));
  ds.addCidrs("eni-a", ["10.0.0.1/32", "10.0.0.2/32"]);
  ds.assign(key("c1"), META, 0);
  ds.release(key("c1"), 0);
  assert.equal(ds.assign(key("c2"), META, 10)?.ip, "10.0.0.2");
});

Deno.test("Datastore.rollback() frees the address without a cooldown", () => {
  const ds = store(30_000);
  ds.addEni(eni("eni-a", 0));
  ds.addCidrs("eni-a", ["10.0.0.1/32"]);
  const allocation = ds.assign(key("c1"), META, 0);
  assert.equal(ds.rollback(key("c1")), allocation);
  assert.equal(ds.rollback(key("c1")), null);
  assert.deepEqual(ds.coolingEntries(1), []);
  assert.equal(ds.assign(key("c2"), META, 1)?.ip, "10.0.0.1");
});

Deno.test("Datastore.takeForRelease() takes only CIDRs with no assigned or cooling address", () => {
  const ds = store(30_000);
  ds.addEni(eni("eni-a", 0));
  ds.addEni(eni("eni-b", 1));
  ds.addCidrs("eni-b", ["10.0.1.1/32", "10.0.1.2/32", "10.0.1.3/32", "10.0.1.16/28", "10.0.1.32/28"]);
  ds.addCidrs("eni-a", ["10.0.0.1/32"]);
  ds.assign(key("a"), META, 0); // 10.0.0.1 on eni-a
  ds.assign(key("b"), META, 0); // 10.0.1.1
  ds.assign(key("c"), META, 0); // 10.0.1.2
  ds.release(key("c"), 100);
  ds.assign(key("d"), META, 100); // 10.0.1.3
  ds.assign(key("e"), META, 100); // 10.0.1.16, inside the first prefix
  const asked = ["10.0.1.1/32", "10.0.1.2/32", "10.0.1.3/32", "10.0.1.16/28", "10.0.1.32/28", "10.0.0.1/32"];
  ds.release(key("d"), 200);
  ds.rollback(key("e"));
  assert.deepEqual(ds.takeForRelease("eni-b", asked, 200), ["10.0.1.16/28", "10.0.1.32/28"]);
  assert.deepEqual(ds.getEni("eni-b")?.cidrs, ["10.0.1.1/32", "10.0.1.2/32", "10.0.1.3/32"]);
  assert.deepEqual(ds.takeForRelease("eni-b", asked, 30_100), ["10.0.1.2/32"]);
  assert.deepEqual(ds.takeForRelease("eni-b", asked, 30_200), ["10.0.1.3/32"]);
  assert.deepEqual(ds.getEni("eni-b")?.cidrs, ["10.0.1.1/32"]);
  assert.deepEqual(ds.stats(30_200), { enis: 2, cidrs: 2, total: 2, assigned: 2, cooling: 0, free: 0 });
  assert.equal(ds.assign(key("f"), META, 30_200), null);
});

Deno.test("Datastore.takeEniForFree() refuses the primary ENI and ENIs with assigned or cooling addresses", () => {
  const ds = store(30_000);
  ds.addEni(eni("eni-a", 0));
  ds.addEni(eni("eni-c", 1));
  ds.addEni(eni("eni-b", 2));
  ds.addCidrs("eni-c", ["10.0.1.1/32"]);
  ds.addCidrs("eni-b", ["10.0.2.16/28"]);
  assert.equal(ds.assign(key("c"), META, 0)?.eniId, "eni-c");
  assert.equal(ds.assign(key("b"), META, 0)?.eniId, "eni-b");
  assert.equal(ds.takeEniForFree("eni-a", 0), false);
  assert.equal(ds.takeEniForFree("eni-b", 0), false);
  assert.equal(ds.takeEniForFree("eni-unknown", 0), false);
  ds.release(key("b"), 10);
  assert.equal(ds.takeEniForFree("eni-b", 30_009), false);
  assert.equal(ds.takeEniForFree("eni-b", 30_010), true);
  assert.equal(ds.getEni("eni-b"), null);
  assert.equal(ds.takeEniForFree("eni-c", 30_010), false);
  assert.deepEqual(ds.stats(30_010), { enis: 2, cidrs: 1, total: 1, assigned: 1, cooling: 0, free: 0 });
});

Deno.test("Datastore.snapshot() reports every address in address order, with when each cooldown ends", () => {
  const ds = store(30_000);
  ds.addEni({ ...eni("eni-b", 1), createdAtMs: 7 });
  ds.addEni(eni("eni-a", 0));
  ds.addCidrs("eni-b", ["10.0.1.16/28", "10.0.1.2/32"]);
  ds.addCidrs("eni-a", ["10.0.0.1/32"]);
  ds.assign(key("a"), META, 0); // 10.0.0.1
  ds.assign(key("b"), META, 0); // 10.0.1.2
  ds.assign(key("c"), META, 0); // 10.0.1.16
  ds.assign(key("d"), META, 0); // 10.0.1.17
  ds.release(key("b"), 5);
  ds.release(key("c"), 40_000);
  const free = { kind: "free" };
  const snapshot = ds.snapshot(40_001, { waitingAdds: 2, lastDecreaseAtMs: null });
  assert.deepEqual(snapshot, {
    enis: [
      {
        eniId: "eni-a",
        deviceNumber: 0,
        primary: true,
        createdAtMs: 0,
        cidrs: [{ cidr: "10.0.0.1/32", prefix: false, addresses: [{ kind: "assigned" }] }],
      },
      {
        eniId: "eni-b",
        deviceNumber: 1,
        primary: false,
        createdAtMs: 7,
        cidrs: [
          { cidr: "10.0.1.2/32", prefix: false, addresses: [free] },
          {
            cidr: "10.0.1.16/28",
            prefix: true,
            addresses: [{ kind: "cooling", untilMs: 70_000 }, { kind: "assigned" }, ...Array(14).fill(free)],
          },
        ],
      },
    ],
    waitingAdds: 2,
    lastDecreaseAtMs: null,
  });
});

Deno.test("Datastore.addCidrs() skips CIDRs it holds and rejects clashes without adding anything", () => {
  const ds = store();
  ds.addEni(eni("eni-a", 0));
  ds.addEni(eni("eni-b", 1));
  assert.deepEqual(ds.addCidrs("eni-a", ["10.0.0.1/32", "10.0.0.16/28"]), ["10.0.0.1/32", "10.0.0.16/28"]);
  assert.deepEqual(ds.addCidrs("eni-a", ["10.0.0.1/32", "10.0.0.16/28", "10.0.0.2/32"]), ["10.0.0.2/32"]);
  const before = ds.stats(0);
  assert.throws(() => ds.addCidrs("eni-b", ["10.0.1.1/32", "10.0.0.20/32"]), /overlaps "10.0.0.16\/28"/);
  assert.throws(() => ds.addCidrs("eni-b", ["10.0.0.0/28"]), /overlaps "10.0.0.1\/32" on ENI "eni-a"/);
  assert.throws(() => ds.addCidrs("eni-b", ["10.0.1.32/28", "10.0.1.33/32"]), /overlaps "10.0.1.32\/28"/);
  assert.throws(() => ds.addCidrs("eni-b", ["10.0.1.0/30"]), RangeError);
  assert.throws(() => ds.addCidrs("eni-b", ["10.0.1.250/32"]), /primary address/);
  assert.throws(() => ds.addCidrs("eni-b", ["10.0.1.1"]), SyntaxError);
  assert.throws(() => ds.addCidrs("eni-x", ["10.0.1.1/32"]), /ENI "eni-x": it is not in the datastore/);
  assert.deepEqual(ds.stats(0), before);
  assert.deepEqual(ds.getEni("eni-b")?.cidrs, []);
});

Deno.test("Datastore.adoptEni() adds an ENI with its addresses, and keeps the ENI when they clash", () => {
  const ds = store();
  assert.deepEqual(ds.adoptEni({ ...eni("eni-a", 0), cidrs: ["10.0.0.2/32", "10.0.0.1/32"] }), [
    "10.0.0.2/32",
    "10.0.0.1/32",
  ]);
  assert.deepEqual(ds.getEni("eni-a")?.cidrs, ["10.0.0.1/32", "10.0.0.2/32"]);
  assert.throws(() => ds.adoptEni({ ...eni("eni-b", 1), cidrs: ["10.0.0.1/32"] }), /overlaps/);
  assert.deepEqual(ds.getEni("eni-b")?.cidrs, [], "the ENI stays, without the clashing addresses");
  assert.throws(() => ds.adoptEni({ ...eni("eni-a", 2), cidrs: [] }), /already exists/);
});

Deno.test("Datastore.addEni() rejects a known ENI id or device number", () => {
  const ds = store();
  ds.addEni(eni("eni-a", 0));
  assert.throws(() => ds.addEni(eni("eni-a", 3)), /already exists/);
  assert.throws(() => ds.addEni(eni("eni-b", 0)), /device 0 is held by "eni-a"/);
  assert.throws(() => ds.addEni(eni("eni-c", -1)), RangeError);
  assert.deepEqual(ds.enis().map((e) => e.eniId), ["eni-a"]);
});

Deno.test("Datastore.removeEni() drops the ENI with its addresses and returns the lost allocations", () => {
  const ds = store(30_000);
  ds.addEni(eni("eni-a", 0));
  ds.addEni(eni("eni-b", 1));
  ds.addCidrs("eni-b", ["10.0.1.1/32", "10.0.1.2/32"]);
  ds.assign(key("a"), META, 0);
  ds.assign(key("b"), META, 0);
  ds.release(key("b"), 0);
  assert.deepEqual(ds.removeEni("eni-b").map((a) => a.ip), ["10.0.1.1"]);
  assert.deepEqual(ds.removeEni("eni-b"), []);
  assert.equal(ds.get(key("a")), null);
  assert.deepEqual(ds.stats(0), { enis: 1, cidrs: 0, total: 0, assigned: 0, cooling: 0, free: 0 });
  assert.deepEqual(ds.coolingEntries(0), []);
});

Deno.test("Datastore.restore() keeps allocations on known CIDRs and drops the others with a reason", () => {
  const ds = store(30_000);
  ds.addEni(eni("eni-a", 0));
  ds.addEni(eni("eni-b", 1));
  ds.addCidrs("eni-a", ["10.0.0.1/32"]);
  ds.addCidrs("eni-b", ["10.0.1.16/28"]);
  ds.restoreCooling([{ ip: "10.0.1.20", sinceMs: 0 }]);
  const entry = (containerId: string, ip: string, assignedAtMs: number) => ({
    key: key(containerId),
    meta: META,
    ip,
    assignedAtMs,
  });
  const result = ds.restore([
    entry("late", "10.0.1.20", 300),
    entry("gone", "10.9.9.9", 100),
    entry("early", "10.0.1.20", 200),
    entry("v6", "fd00::1", 100),
    entry("early", "10.0.0.1", 250),
    entry("ok", "10.0.0.1", 400),
  ], 1_000);
  assert.deepEqual(
    result.kept.map((a) => [a.key.containerId, a.ip, a.eniId, a.deviceNumber, a.assignedAtMs]),
    [
      ["early", "10.0.1.20", "eni-b", 1, 200],
      ["ok", "10.0.0.1", "eni-a", 0, 400],
    ],
  );
  const reasons = result.dropped.map((d) => [d.allocation.key.containerId, d.reason]);
  assert.equal(reasons.length, 4);
  assert.match(
    String(reasons.find(([id]) => id === "gone")?.[1]),
    /10\.9\.9\.9 lies in no CIDR of a known ENI/,
  );
  assert.match(String(reasons.find(([id]) => id === "v6")?.[1]), /"fd00::1" is not an IPv4 address/);
  assert.match(
    String(reasons.find(([id]) => id === "late")?.[1]),
    /10\.0\.1\.20 is already held by container "early"/,
  );
  assert.match(
    String(reasons.find(([id, why]) => id === "early" && /holds/.test(String(why)))?.[1]),
    /container "early" .* already holds address 10\.0\.1\.20/,
  );
  assert.deepEqual(ds.coolingEntries(1_000), [], "a restored address no longer cools");
  assert.deepEqual(ds.stats(1_000), { enis: 2, cidrs: 2, total: 17, assigned: 2, cooling: 0, free: 15 });
  assert.equal(ds.assign(key("new"), META, 1_000)?.ip, "10.0.1.16");
  assert.equal(ds.assign(key("early"), META, 1_000)?.ip, "10.0.1.20");
});

Deno.test("Datastore.restoreCooling() restarts cooldowns of known free addresses only", () => {
  const ds = store(30_000);
  ds.addEni(eni("eni-a", 0));
  ds.addCidrs("eni-a", ["10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32"]);
  ds.assign(key("a"), META, 0); // 10.0.0.1
  const restored = ds.restoreCooling([
    { ip: "10.0.0.3", sinceMs: 5_000 },
    { ip: "10.0.0.2", sinceMs: 1_000 },
    { ip: "10.0.0.1", sinceMs: 1_000 },
    { ip: "10.7.7.7", sinceMs: 1_000 },
    { ip: "junk", sinceMs: 1_000 },
  ]);
  assert.equal(restored, 2);
  assert.deepEqual(ds.coolingEntries(2_000), [{ ip: "10.0.0.2", sinceMs: 1_000 }, {
    ip: "10.0.0.3",
    sinceMs: 5_000,
  }]);
  assert.equal(ds.assign(key("b"), META, 30_999), null);
  assert.equal(ds.assign(key("b"), META, 31_000)?.ip, "10.0.0.2");
  assert.equal(ds.assign(key("c"), META, 34_999), null);
  assert.equal(ds.assign(key("c"), META, 35_000)?.ip, "10.0.0.3");
});

/** The obvious implementation: scan every address of every ENI on every call. */
class NaiveModel {
  readonly held = new Map<string, string>();
  readonly since = new Map<string, number>();
  constructor(readonly enis: { cidrs: string[] }[], readonly cooldownMs: number) {}

  assign(id: string, nowMs: number): string | null {
    const held = this.held.get(id);
    if (held) return held;
    const taken = new Set(this.held.values());
    for (const e of this.enis) {
      const ips = e.cidrs.flatMap((c) => {
        const [base = "", bits] = c.split("/");
        return Array.from({ length: bits === "28" ? 16 : 1 }, (_, i) => formatIpv4(parseIpv4(base) + i));
      }).sort(compareIpv4);
      for (const ip of ips) {
        const since = this.since.get(ip);
        if (taken.has(ip) || (since !== undefined && nowMs < since + this.cooldownMs)) continue;
        this.held.set(id, ip);
        return ip;
      }
    }
    return null;
  }

  release(id: string, nowMs: number): void {
    const ip = this.held.get(id);
    if (ip === undefined) return;
    this.held.delete(id);
    this.since.set(ip, nowMs);
  }
}

Deno.test("Datastore.assign() matches a full-scan model over random ADD and DEL", () => {
  const layout = [
    { cidrs: ["10.0.0.1/32", "10.0.0.2/32", "10.0.0.9/32"] },
    { cidrs: ["10.0.1.32/28", "10.0.1.5/32"] },
    { cidrs: ["10.0.2.16/28"] },
  ];
  const ds = store(500);
  const model = new NaiveModel(layout, 500);
  layout.forEach((e, i) => {
    ds.addEni(eni(`eni-${i}`, i));
    ds.addCidrs(`eni-${i}`, e.cidrs);
  });
  let seed = 42;
  const random = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
  for (let nowMs = 0; nowMs < 40_000; nowMs += random(40)) {
    const id = `c${random(45)}`;
    if (random(3) === 0) {
      ds.release(key(id), nowMs);
      model.release(id, nowMs);
    } else {
      assert.equal(ds.assign(key(id), META, nowMs)?.ip ?? null, model.assign(id, nowMs), `at ${nowMs} ms`);
    }
    const stats = ds.stats(nowMs);
    assert.equal(stats.assigned, model.held.size);
    assert.equal(stats.total, stats.assigned + stats.cooling + stats.free);
  }
});

Deno.test("Datastore handles 250 pods and 20,000 ADD/DEL calls quickly", () => {
  const ds = store(500);
  for (let device = 0; device < 4; device++) {
    ds.addEni(eni(`eni-${device}`, device));
    ds.addCidrs(`eni-${device}`, Array.from({ length: 5 }, (_, i) => `10.0.${device}.${16 * (i + 1)}/28`));
  }
  for (let i = 0; i < 250; i++) assert.ok(ds.assign(key(`pod-${i}`), META, 0));
  const started = performance.now();
  for (let i = 0; i < 10_000; i++) {
    const nowMs = 10 * i;
    ds.release(key(`pod-${i % 250}`), nowMs);
    assert.ok(ds.assign(key(`pod-${i % 250}`), META, nowMs), `ADD ${i} found an address`);
  }
  const elapsedMs = performance.now() - started;
  assert.equal(ds.stats(100_000).assigned, 250);
  assert.equal(new Set(ds.allocations().map((a) => a.ip)).size, 250);
  assert.ok(elapsedMs < 1_000, `20,000 calls took ${elapsedMs.toFixed(0)} ms`);
});
