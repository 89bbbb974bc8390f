/**
 * Property test of the warm pool over random settings and pod sequences, run on the
 * daemon's reconciler and datastore against the EC2 simulation. A checking EC2 port
 * sits between the reconciler and EC2 and holds every call to the invariants.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { cidrContains, parseCidr, parseIpv4 } from "../../shared/ipv4.ts";
import type { AddressRequest, AttachedEni, Ec2Port } from "../../ipamd/cloud/ec2_port.ts";
import { mulberry32 } from "../ec2/random.ts";
import { instanceLimits, lookupInstanceType, supportsPrefixDelegation } from "../../ipamd/limits/mod.ts";
import {
  DEFAULT_POOL_SETTINGS,
  type InstanceLimits,
  type PoolAction,
  type PoolSettings,
} from "../../ipamd/pool/types.ts";
import { SimulatedNode } from "./simulated_node.ts";

const CASES = 150;
const TYPES = ["t3.small", "t3.medium", "m5.large", "c5.xlarge", "c4.large", "m5.2xlarge"];

/** mulberry32 scaled to [0, n), so a failing case can be replayed by its seed. */
function random(seed: number): (n: number) => number {
  const next = mulberry32(seed);
  return (n) => Math.floor(next() * n);
}

interface Case {
  instanceType: string;
  limits: InstanceLimits;
  settings: PoolSettings;
  steps: number[];
}

function makeCase(seed: number): Case {
  const pick = random(seed);
  const instanceType = TYPES[pick(TYPES.length)]!;
  const info = lookupInstanceType(instanceType);
  const prefixDelegation = supportsPrefixDelegation(info) && pick(3) === 0;
  const warmIp = pick(2) === 0;
  const settings: PoolSettings = {
    ...DEFAULT_POOL_SETTINGS,
    warmEniTarget: pick(3),
    warmIpTarget: warmIp ? pick(6) : 0,
    minimumIpTarget: warmIp ? pick(3) * pick(10) : 0,
    maxEni: pick(3) === 0 ? 1 + pick(info.maxEnis + 2) : 0,
    prefixDelegation,
    warmPrefixTarget: pick(3),
    ipCooldownMs: pick(4) * 15_000,
  };
  const maxPods = pick(3) === 0 ? 1 + pick(40) : undefined;
  const limits = instanceLimits(info, { prefixDelegation, maxPods });
  const top = Math.min(limits.maxPods + 4, 70);
  const steps = Array.from({ length: 2 + pick(5) }, () => pick(top + 1));
  return { instanceType, limits, settings, steps };
}

/** The EC2 port with every call checked against the invariants, and a log of the calls. */
function checkingPort(port: Ec2Port, c: Case, node: () => SimulatedNode, released: Map<string, number>) {
  const log: string[] = [];
  const unitSize = c.settings.prefixDelegation ? 16 : 1;
  const maxEnis = c.settings.maxEni > 0 ? Math.min(c.settings.maxEni, c.limits.maxEnis) : c.limits.maxEnis;
  const capIps = Math.ceil(c.limits.maxPods / unitSize) * unitSize;
  const sizeOf = (cidr: string) => cidr.endsWith("/28") ? 16 : 1;
  const holds = (cidr: string, ip: string) => cidrContains(parseCidr(cidr), parseIpv4(ip));
  const inUse = (cidr: string, at: number) => {
    for (const ip of node().podIps()) if (holds(cidr, ip)) return `assigned ${ip}`;
    for (const [ip, since] of released) {
      if (holds(cidr, ip) && at < since + c.settings.ipCooldownMs) return `cooling ${ip}`;
    }
    return null;
  };
  const checkTotals = async (): Promise<AttachedEni[]> => {
    const enis = await port.describeNode();
    ok(enis.length <= maxEnis, `${enis.length} ENIs > ${maxEnis}`);
    const total = enis.flatMap((e) => e.cidrs).reduce((sum, cidr) => sum + sizeOf(cidr), 0);
    ok(total <= capIps, `${total} addresses > max pods cap ${capIps}`);
    for (const eni of enis) ok(eni.cidrs.length <= c.limits.ipv4PerEni - 1, `${eni.eniId} over its limit`);
    return enis;
  };
  const checked: Ec2Port = {
    describeNode: () => port.describeNode(),
    async createEni(request: AddressRequest) {
      const eni = await port.createEni(request);
      log.push(`create ${request.count}`);
      await checkTotals();
      return eni;
    },
    async assignAddresses(eniId: string, request: AddressRequest) {
      const cidrs = await port.assignAddresses(eniId, request);
      log.push(`assign ${eniId} ${request.count}`);
      await checkTotals();
      return cidrs;
    },
    releaseAddresses(eniId: string, cidrs: readonly string[]) {
      for (const cidr of cidrs) {
        const why = inUse(cidr, node().clock.now());
        equal(why, null, `released ${cidr} while ${why}`);
      }
      log.push(`release ${eniId} ${cidrs.join(" ")}`);
      return port.releaseAddresses(eniId, cidrs);
    },
    async freeEni(eniId: string) {
      const eni = (await port.describeNode()).find((e) => e.eniId === eniId);
      ok(eni !== undefined && !eni.primary, `freed ${eniId}, which is primary or unknown`);
      for (const cidr of eni.cidrs) {
        equal(inUse(cidr, node().clock.now()), null, `freed ${eniId} holding ${cidr}`);
      }
      log.push(`free ${eniId}`);
      return port.freeEni(eniId);
    },
  };
  /** Every plan names only addresses that no pod holds and none that cool. */
  const checkPlan = (actions: readonly PoolAction[]) => {
    const now = node().clock.now();
    const enis = new Map(node().datastore.enis().map((eni) => [eni.eniId, eni]));
    for (const action of actions) {
      if (action.kind === "release") {
        for (const cidr of action.cidrs) equal(inUse(cidr, now), null, `plan releases ${cidr}`);
      } else if (action.kind === "free-eni") {
        const eni = enis.get(action.eniId);
        ok(eni !== undefined && !eni.primary, `plan frees ${action.eniId}, which is primary or unknown`);
        for (const cidr of eni.cidrs) {
          equal(inUse(cidr, now), null, `plan frees ${action.eniId} holding ${cidr}`);
        }
      }
    }
  };
  return { checked, log, checkTotals, checkPlan };
}

async function runCase(c: Case): Promise<{ views: unknown[]; log: string[] }> {
  const released = new Map<string, number>();
  const ref: { node?: SimulatedNode } = {};
  let port: ReturnType<typeof checkingPort> | undefined;
  const node = ref.node = await SimulatedNode.start({
    ...c,
    wrapPort: (inner) => (port = checkingPort(inner, c, () => ref.node!, released)).checked,
    onRelease: (ip, atMs) => released.set(ip, atMs),
    onPass: (outcome) => port!.checkPlan(outcome.plan.actions),
  });
  await node.settle();
  const views: unknown[] = [];
  const pick = random(c.steps.length * 7919 + c.limits.maxPods);
  for (const count of c.steps) {
    while (node.pods < count) await node.addPod();
    while (node.pods > count) await node.removePod(pick(node.pods));
    const view = await node.view();
    views.push(view);
    const ips = node.podIps();
    equal(new Set(ips).size, ips.length, "an address is held by two pods");
    equal(node.reconciler.preview().actions.length, 0, "the pool did not converge");
    if (view.failedPods > 0) {
      ok(node.reconciler.last?.blocked !== null, "pods wait while the pool could grow");
    }
    await port!.checkTotals();
  }
  return { views, log: port!.log };
}

Deno.test("the pool keeps its invariants over random settings and pod sequences", async () => {
  for (let seed = 1; seed <= CASES; seed++) {
    const c = makeCase(seed);
    try {
      await runCase(c);
    } catch (error) {
      throw new Error(`case seed ${seed} failed: ${JSON.stringify(c)}`, { cause: error });
    }
  }
});

Deno.test("the same settings and pod sequence always give the same pool and EC2 calls", async () => {
  for (const seed of [3, 17, 42]) {
    const c = makeCase(seed);
    deepStrictEqual(await runCase(c), await runCase(c));
  }
});
