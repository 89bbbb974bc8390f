import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { instanceLimits, lookupInstanceType } from "../../ipamd/limits/limits.ts";
import { DEFAULT_POOL_SETTINGS, type PoolSettings } from "../../ipamd/pool/types.ts";
import { Ec2Simulation } from "../ec2/mod.ts";
import { ManualClock } from "../../shared/mod.ts";
import { type ReplayPolicy, runReplay } from "./engine.ts";
import { buildReport } from "./report.ts";
import { scenario } from "./scenarios.ts";
import { referenceSubnet, replaySubnetId } from "./subnets.ts";

const LIMITS = instanceLimits(lookupInstanceType("m5.large"), { prefixDelegation: false });

async function run(policy: ReplayPolicy, settings: Partial<PoolSettings> = {}) {
  const workload = scenario("subnets", { seed: 1 });
  const result = await runReplay({
    instanceType: "m5.large",
    limits: LIMITS,
    settings: { ...DEFAULT_POOL_SETTINGS, ...settings },
    policy,
    workload,
    seed: 1,
  });
  return buildReport(result).total;
}

Deno.test("replay subnets: subnet-aware targets address every pod while the /24 and the tagged /26 have room; the reference and our pool without them strand pods", async () => {
  const aware = await run("aws-cni");
  const unaware = await run("aws-cni", { subnetAware: false });
  const reference = await run("reference");
  equal(aware.unserved, 0);
  ok(unaware.unserved > 0, `without subnet-aware targets ${unaware.unserved} pods went without`);
  ok(reference.unserved > 0, `the reference left ${reference.unserved} pods without`);
  ok(aware.idleIpSeconds < reference.idleIpSeconds / 2);
});

Deno.test("referenceSubnet() takes the primary or a tagged subnet with the most free addresses, never one tagged 0", () => {
  const sim = new Ec2Simulation({
    vpcCidr: "10.0.0.0/16",
    seed: 1,
    clock: new ManualClock(0),
    subnets: [
      { subnetId: replaySubnetId(0), cidr: "10.0.0.0/26", availabilityZone: "us-west-2a" },
      { subnetId: replaySubnetId(1), cidr: "10.0.1.0/25", availabilityZone: "us-west-2a", tags: [tag("1")] },
      { subnetId: replaySubnetId(2), cidr: "10.0.4.0/22", availabilityZone: "us-west-2a", tags: [tag("0")] },
      { subnetId: replaySubnetId(3), cidr: "10.0.8.0/22", availabilityZone: "us-west-2a" },
    ],
  });
  const subnets = sim.describeSubnets({}).subnets;
  equal(referenceSubnet(subnets, replaySubnetId(0)), replaySubnetId(1));
  deepStrictEqual(referenceSubnet(subnets.slice(2), replaySubnetId(0)), replaySubnetId(0));
});

function tag(value: string) {
  return { key: "kubernetes.io/role/cni", value };
}
