/**
 * The reference model against the reference's documented behaviour: the 16 rows
 * of the seed table (docs/eni-and-ip-target.md) as steady states, and one increase action
 * per 5 s cycle.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { instanceLimits, lookupInstanceType } from "../../ipamd/limits/limits.ts";
import { DEFAULT_POOL_SETTINGS, type PoolSettings } from "../../ipamd/pool/types.ts";
import { createAccount, DEFAULT_TIMING } from "./account.ts";
import { Kubelet } from "./kubelet.ts";
import { ReferenceNode } from "./reference_node.ts";
import type { TraceEvent } from "./scenarios.ts";
import { Scheduler } from "./scheduler.ts";

interface Settled {
  enis: number;
  secondaryIps: number;
  unusedIps: number;
  ipsPerEni: number[];
}

/** Adds pods one at a time, `spacingS` apart, and reads the pool once it settled at each count. */
async function settle(
  instanceType: string,
  settings: Partial<PoolSettings>,
  counts: readonly number[],
): Promise<{ rows: Settled[]; node: ReferenceNode }> {
  const info = lookupInstanceType(instanceType);
  const limits = instanceLimits(info, { prefixDelegation: false });
  const scheduler = new Scheduler(0);
  const account = createAccount(scheduler, {
    nodes: 1,
    instanceType,
    limits,
    seed: 7,
    timing: DEFAULT_TIMING,
  });
  const node = new ReferenceNode({
    name: "node-1",
    account,
    instance: account.instances[0]!,
    scheduler,
    limits,
    settings: { ...DEFAULT_POOL_SETTINGS, ...settings },
    timing: DEFAULT_TIMING,
    seed: 7,
  });
  const spacingS = 20;
  const events: TraceEvent[] = [];
  const rows: Settled[] = [];
  let pods = 0;
  let t = 0;
  for (const count of counts) {
    while (pods < count) events.push({ t: t += spacingS, node: "node-1", op: "add", pod: `p${++pods}` });
    t += 120;
    scheduler.at(t * 1000 + 5_000, () => {
      const enis = node.datastore.enis();
      const ipsPerEni = enis.map((eni) => eni.cidrs.length);
      const secondaryIps = ipsPerEni.reduce((a, b) => a + b, 0);
      rows.push({ enis: enis.length, secondaryIps, unusedIps: secondaryIps - count, ipsPerEni });
      if (rows.length === counts.length) scheduler.stop();
    });
  }
  new Kubelet(scheduler, [node], 7).play({ name: "t", nodes: ["node-1"], events, tailMs: 0, about: "" });
  await scheduler.run();
  return { rows, node };
}

/** The seed table: settings and rows (pods, ENIs, secondary IPs, unused, IPs per ENI). */
const SEED: {
  name: string;
  type: string;
  settings: Partial<PoolSettings>;
  rows: [number, number, number, number, number[]][];
}[] = [
  {
    name: "t3.small, WARM_ENI_TARGET 1",
    type: "t3.small",
    settings: { warmEniTarget: 1 },
    rows: [[0, 1, 3, 3, [3]], [5, 3, 9, 4, [3, 3, 3]], [9, 3, 9, 0, [3, 3, 3]]],
  },
  {
    name: "t3.small, WARM_IP_TARGET 1, MINIMUM_IP_TARGET 1",
    type: "t3.small",
    settings: { warmIpTarget: 1, minimumIpTarget: 1 },
    rows: [[0, 1, 1, 1, [1]], [5, 2, 6, 1, [3, 3]], [9, 3, 9, 0, [3, 3, 3]]],
  },
  {
    name: "t3.small, WARM_IP_TARGET 2, MINIMUM_IP_TARGET 5",
    type: "t3.small",
    settings: { warmIpTarget: 2, minimumIpTarget: 5 },
    // The documentation prints 2,3; the order is the reference's map order, so counts are compared.
    rows: [[0, 2, 5, 5, [2, 3]], [5, 3, 7, 2, [3, 3, 1]], [9, 3, 9, 0, [3, 3, 3]]],
  },
  {
    name: "p3dn.24xlarge, WARM_ENI_TARGET 1",
    type: "p3dn.24xlarge",
    settings: { warmEniTarget: 1 },
    rows: [[0, 1, 49, 49, [49]], [3, 2, 98, 95, [49, 49]], [95, 3, 147, 52, [49, 49, 49]]],
  },
  {
    name: "p3dn.24xlarge, WARM_IP_TARGET 5, MINIMUM_IP_TARGET 10",
    type: "p3dn.24xlarge",
    settings: { warmIpTarget: 5, minimumIpTarget: 10 },
    rows: [[0, 1, 10, 10, [10]], [7, 1, 12, 5, [12]], [15, 1, 20, 5, [20]], [45, 2, 50, 5, [49, 1]]],
  },
];

const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);

for (const group of SEED) {
  Deno.test(`reference model settles on the seed table for ${group.name}`, async () => {
    const { rows } = await settle(group.type, group.settings, group.rows.map(([pods]) => pods));
    deepStrictEqual(
      rows.map((row) => ({ ...row, ipsPerEni: sorted(row.ipsPerEni) })),
      group.rows.map(([, enis, secondaryIps, unusedIps, ipsPerEni]) => ({
        enis,
        secondaryIps,
        unusedIps,
        ipsPerEni: sorted(ipsPerEni),
      })),
    );
  });
}

Deno.test("reference model covers the 16 rows of the seed table", () => {
  equal(SEED.reduce((sum, group) => sum + group.rows.length, 0), 16);
});

Deno.test("reference model takes one increase action per 5 s cycle", async () => {
  const { node } = await settle("p3dn.24xlarge", { warmIpTarget: 120, minimumIpTarget: 0 }, [0]);
  const increases = node.actions.filter((a) => a.kind === "assign" || a.kind === "create-eni");
  // Pre-scaling fills the primary (49); then one new ENI per cycle: 49, then the remaining 22.
  deepStrictEqual(increases.map((a) => a.kind), ["assign", "create-eni", "create-eni"]);
  for (let i = 1; i < increases.length; i++) {
    ok(increases[i]!.atMs - increases[i - 1]!.atMs >= 2_500, "never two increases in one cycle");
  }
  const loop = increases.slice(1);
  for (let i = 1; i < loop.length; i++) ok(loop[i]!.atMs - loop[i - 1]!.atMs >= 5_000);
  deepStrictEqual(sorted(node.datastore.enis().map((eni) => eni.cidrs.length)), [22, 49, 49]);
});

Deno.test("reference model never grows past MINIMUM_IP_TARGET without WARM_IP_TARGET (#2650)", async () => {
  const { rows } = await settle("t3.small", { warmIpTarget: 0, minimumIpTarget: 2 }, [0, 4]);
  deepStrictEqual(rows.map((row) => row.secondaryIps), [2, 2]);
});
