import { deepStrictEqual, equal, notDeepStrictEqual, ok } from "node:assert/strict";
import { instanceLimits, lookupInstanceType } from "../../ipamd/limits/limits.ts";
import { DEFAULT_POOL_SETTINGS } from "../../ipamd/pool/types.ts";
import { type ReplayPolicy, runReplay } from "./engine.ts";
import { buildReport, renderReport } from "./report.ts";
import { parseTrace, scenario, type ScenarioName } from "./scenarios.ts";

const LIMITS = instanceLimits(lookupInstanceType("m5.xlarge"), { prefixDelegation: false });

async function report(policy: ReplayPolicy, name: ScenarioName, seed: number, nodes?: number) {
  const workload = scenario(name, { seed, nodes, pods: name === "launch" ? 12 : undefined });
  const result = await runReplay({
    instanceType: "m5.xlarge",
    limits: LIMITS,
    settings: DEFAULT_POOL_SETTINGS,
    policy,
    workload,
    seed,
  });
  return buildReport(result);
}

for (const policy of ["aws-cni", "reference"] as const) {
  Deno.test(`runReplay() gives the same report for the same seed (${policy}, launch on 6 nodes)`, async () => {
    const first = await report(policy, "launch", 3, 6);
    const second = await report(policy, "launch", 3, 6);
    deepStrictEqual(second, first);
    equal(renderReport(second), renderReport(first));
    notDeepStrictEqual((await report(policy, "launch", 4, 6)).total, first.total);
  });
}

Deno.test("runReplay() serves a burst: ours waits in ipamd, the reference fails ADDs and is retried", async () => {
  const ours = await report("aws-cni", "burst", 1);
  const reference = await report("reference", "burst", 1);
  equal(ours.total.failedAdds, 0);
  equal(ours.total.unserved, 0);
  ok(reference.total.failedAdds > 0);
  equal(reference.total.unserved, 0);
  ok(ours.total.waitMs!.max < reference.total.waitMs!.max);
  ok(ours.total.ec2Total > 0 && reference.total.ec2Total > 0);
  equal(ours.nodes.length, 1);
  ok(reference.assumptions.some((a) => a.includes("one increase action")));
});

Deno.test("runReplay() plays a trace: deleted pods give their address back", async () => {
  const trace = [
    { t: 0, node: "a", op: "add", pod: "p1" },
    { t: 0, node: "b", op: "add", pod: "p1" },
    { t: 30, node: "a", op: "del", pod: "p1" },
  ].map((event) => JSON.stringify(event)).join("\n");
  const result = await runReplay({
    instanceType: "m5.xlarge",
    limits: LIMITS,
    settings: { ...DEFAULT_POOL_SETTINGS, warmIpTarget: 1, minimumIpTarget: 1 },
    policy: "aws-cni",
    workload: parseTrace(trace),
    seed: 1,
  });
  deepStrictEqual(result.nodes.map((node) => node.name), ["a", "b"]);
  equal(result.pods.length, 2);
  ok(result.pods.every((pod) => pod.servedMs !== null));
  equal(result.pods.find((pod) => pod.node === "a")!.deletedMs, 30_000);
  const last = result.samples.at(-1)!;
  equal(last.pods, 1);
  equal(last.assigned, 1);
  equal(result.windowMs, 90_000);
});

Deno.test("runReplay() serves an ADD waiting on a full node when a released address ends its cooldown", async () => {
  const events = [
    ...Array.from({ length: 9 }, (_, i) => ({ t: i, node: "a", op: "add", pod: `p${i + 1}` })),
    { t: 20, node: "a", op: "del", pod: "p1" },
    { t: 21, node: "a", op: "add", pod: "p10" },
  ];
  const result = await runReplay({
    instanceType: "m5.large",
    limits: instanceLimits(lookupInstanceType("m5.large"), { prefixDelegation: false }),
    settings: { ...DEFAULT_POOL_SETTINGS, maxEni: 1 },
    policy: "aws-cni",
    workload: parseTrace(events.map((event) => JSON.stringify(event)).join("\n")),
    seed: 1,
  });
  const late = result.pods.find((pod) => pod.pod === "p10")!;
  equal(late.failedAdds, 0);
  equal(late.servedMs, 50_000, "p1's address, when its 30 s cooldown ends");
});
