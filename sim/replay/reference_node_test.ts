/**
 * The reference model against the reference's documented behaviour: the 16 rows
 * of the seed table (docs/eni-and-ip-target.md) as steady states, one increase action
 * per 5 s cycle, and what it does when EC2 fails it, each case citing the code of
 * aws/amazon-vpc-cni-k8s it follows.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { instanceLimits, lookupInstanceType } from "../../ipamd/limits/limits.ts";
import { DEFAULT_POOL_SETTINGS, type PoolSettings } from "../../ipamd/pool/types.ts";
import { createAccount, DEFAULT_TIMING } from "./account.ts";
import { Kubelet } from "./kubelet.ts";
import { ReferenceNode } from "./reference_node.ts";
import type { TraceEvent } from "./scenarios.ts";
import { podKey } from "./replay_node.ts";
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
  const { scheduler, node } = referenceNode(instanceType, settings);
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

/** A reference node on a fresh one-node account; `at` records what the test reads at given times. */
function referenceNode(instanceType: string, settings: Partial<PoolSettings>) {
  const limits = instanceLimits(lookupInstanceType(instanceType), { prefixDelegation: false });
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
  let readyAtMs: number | null = null;
  /** Starts the node, makes an ADD for each of `podIds` once it is ready, and runs until `untilMs`. */
  const play = async (podIds: readonly string[], untilMs: number) => {
    node.start(() => {
      readyAtMs = scheduler.now();
      for (const id of podIds) node.add({ key: podKey(id) }, () => {});
    });
    scheduler.at(untilMs, () => scheduler.stop());
    await scheduler.run();
  };
  return { scheduler, account, node, play, readyAtMs: () => readyAtMs };
}

const pods = (count: number): string[] => Array.from({ length: count }, (_, i) => `p${i}`);

const THROTTLED = { code: "RequestLimitExceeded", httpStatus: 503 };

Deno.test("reference model: a pre-scaling Assign that EC2 throttles fails nodeInit and kubelet restarts aws-node (ipamd.go handlePreScaling)", async () => {
  const ref = referenceNode("t3.small", { warmEniTarget: 1 });
  // The SDK's 3 attempts, then tryAssignIPs' 3 more asking for 1.
  ref.account.sim.knobs.failNext("AssignPrivateIpAddresses", THROTTLED, 6);
  await ref.play([], 60_000);
  equal(ref.node.startFailures, 1);
  ok((ref.readyAtMs() ?? Infinity) >= 10_000, "ready only after CrashLoopBackOff's first 10 s");
  deepStrictEqual(ref.node.actions.map((a) => `${a.kind} ${a.ok}`), ["assign false", "assign true"]);
});

Deno.test("reference model: a throttled Assign ends the increase, with no new ENI in its place (ipamd.go increaseDatastorePool, tryAssignIPs)", async () => {
  const ref = referenceNode("m5.large", { warmIpTarget: 5 });
  ref.scheduler.at(3_000, () => ref.account.sim.knobs.failAtRate("AssignPrivateIpAddresses", THROTTLED, 1));
  await ref.play(pods(3), 60_000);
  ok(ref.node.actions.filter((a) => a.kind === "assign" && !a.ok).length >= 3, "it kept trying the Assign");
  equal(ref.node.tally.calls.CreateNetworkInterface, undefined, "and never created an ENI instead");
});

Deno.test("reference model: a failed subnet discovery falls back to the primary ENI's subnet (awsutils.go createENI)", async () => {
  const ref = referenceNode("m5.large", { warmEniTarget: 1 });
  ref.scheduler.at(
    2_000,
    () => ref.account.sim.knobs.failAtRate("DescribeSubnets", { code: "UnauthorizedOperation" }, 1),
  );
  await ref.play(pods(1), 60_000);
  equal(ref.node.tally.calls.CreateNetworkInterface, 1);
  equal(ref.node.datastore.enis().length, 2, "the ENI was created, attached and kept");
});

Deno.test("reference model: an ENI whose subnet check fails stays in the datastore and gets its addresses later (ipamd.go setupENI: AddENI first; reconcile)", async () => {
  const ref = referenceNode("m5.large", { warmEniTarget: 1 });
  const seen: number[][] = [];
  ref.scheduler.at(2_000, () => ref.account.sim.knobs.failAtRate("DescribeSubnets", THROTTLED, 1));
  for (const atMs of [20_000, 120_000]) {
    ref.scheduler.at(atMs, () => seen.push(ref.node.datastore.enis().map((eni) => eni.cidrs.length)));
  }
  await ref.play(pods(1), 130_000);
  equal(seen[0]?.length, 2, "the new ENI is in the datastore though setupENI failed");
  deepStrictEqual(seen[1], [9, 9], "and its addresses joined");
});

Deno.test("reference model: nodeInit tags the primary ENI it manages (ipamd.go nodeInit, awsutils.go TagENI)", async () => {
  const ref = referenceNode("t3.small", { warmEniTarget: 1 });
  await ref.play([], 10_000);
  equal(ref.node.tally.calls.CreateTags, 1);
});
