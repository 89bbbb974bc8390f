/**
 * EC2 and IMDS faults through the emulator's knobs, each on its own node with
 * ipamd in this process and the plugin exec'd in a node namespace: throttling,
 * 5xx errors, calls that time out, slow attaches, IMDS lagging behind EC2, a
 * subnet out of addresses and an ENI that never attaches. In each, ipamd stays
 * up and keeps serving the addresses it has, backs off within its budget,
 * answers the pods it cannot serve with CNI error 11 naming the reason (plugin
 * stdout) and shows it in `/v1/pool`, and serves every waiting pod once the
 * fault clears.
 */
import assert from "node:assert/strict";
import type { Ec2Action } from "../../sim/ec2/types.ts";
import { EC2_ACTIONS } from "../../sim/emulator/ec2_actions.ts";
import { SIZES } from "./_config.ts";
import { CloudNode, type CloudNodeOptions, SUBNET_ID } from "./_cloud_node.ts";
import { nodesReady } from "./_ipamd_node.ts";
import { recordResult } from "./_results.ts";
import { type OpOutcome, Runtime } from "./_runtime.ts";

const ready = await nodesReady();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ACTIONS = Object.keys(EC2_ACTIONS) as Ec2Action[];

/** One fault: how to start the node, break it, soften it to the target level, and mend it. */
interface Scenario {
  readonly name: string;
  readonly node: CloudNodeOptions;
  /** Pods beyond what the pool holds at start. */
  readonly extraPods: number;
  readonly arm: (node: CloudNode) => void | Promise<void>;
  /** The target level of the fault, run before it clears (optional). */
  readonly soften?: (node: CloudNode) => void;
  readonly clear: (node: CloudNode) => void | Promise<void>;
  /** What the plugin's code-11 answers say. */
  readonly says: RegExp;
  /** What `/v1/pool` shows while it lasts (growth block, cloud errors, next actions, waiting ADDs). */
  readonly shows: RegExp;
  /** The fault shows in `/v1/pool` before any pod waits (a refill of the warm pool meets it). */
  readonly showsFirst: boolean;
  readonly describe: string;
}

const POOL = { WARM_ENI_TARGET: "0", WARM_IP_TARGET: "1", ADD_WAIT_TIMEOUT: "2", IP_COOLDOWN_PERIOD: "1" };

function failEvery(node: CloudNode, fault: { code: string; httpStatus?: number }, rate: number): void {
  node.sim.knobs.clearFaults();
  for (const action of ACTIONS) node.sim.knobs.failAtRate(action, fault, rate);
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: "throttling",
    node: { instanceType: "m5.large", env: POOL },
    extraPods: 4,
    arm: (node) => failEvery(node, { code: "RequestLimitExceeded" }, 1),
    soften: (node) => failEvery(node, { code: "RequestLimitExceeded" }, 0.5),
    clear: (node) => node.sim.knobs.clearFaults(),
    says: /EC2 throttled/,
    shows: /"reason":"throttled"/,
    showsFirst: true,
    describe: "every EC2 call throttled, then 50%",
  },
  {
    name: "5xx",
    node: { instanceType: "m5.large", env: POOL },
    extraPods: 4,
    arm: (node) => failEvery(node, { code: "InternalError", httpStatus: 500 }, 1),
    soften: (node) => failEvery(node, { code: "ServiceUnavailable", httpStatus: 503 }, 0.5),
    clear: (node) => node.sim.knobs.clearFaults(),
    says: /EC2 error: .*InternalError/,
    shows: /InternalError/,
    showsFirst: true,
    describe: "every EC2 call 500, then 50% 503",
  },
  {
    name: "timeouts",
    node: { instanceType: "m5.large", env: POOL },
    extraPods: 3,
    arm: (node) => node.emulator.ec2Transport.hangNext("AssignPrivateIpAddresses", { times: Infinity }),
    clear: (node) => node.emulator.ec2Transport.clearHangs(),
    says: /EC2 error: .*(TimeoutError|no usable answer)/,
    shows: /TimeoutError|no usable answer/,
    showsFirst: true,
    describe: "AssignPrivateIpAddresses never answers (10 s client timeout)",
  },
  {
    name: "slow attach",
    node: { instanceType: "t3.small", attachLatencyMs: 8_000, env: POOL },
    extraPods: 4,
    arm: () => {},
    clear: () => {},
    says: /still warming/,
    shows: /"waitingAdds":[1-9]/,
    showsFirst: false,
    describe: "attach takes 8 s",
  },
  {
    name: "IMDS lag",
    node: { instanceType: "t3.small", imdsLagMs: SIZES.imdsLagMs, env: POOL },
    extraPods: 4,
    arm: () => {},
    clear: () => {},
    says: /still warming/,
    shows: /"waitingAdds":[1-9]/,
    showsFirst: false,
    describe: `IMDS shows ENI changes ${SIZES.imdsLagMs / 1000} s late`,
  },
  {
    name: "subnet full",
    node: {
      instanceType: "m5.large",
      subnetCidr: "10.0.0.0/27",
      env: POOL,
      ...(SIZES.subnetFullHoldMs > 0 ? { subnetFullHoldMs: SIZES.subnetFullHoldMs } : {}),
    },
    extraPods: 4,
    arm: (node) => {
      // Another node's ENI takes every free address of the subnet.
      const free = node.sim.describeSubnets({}).subnets[0]!.availableIpAddressCount;
      const eni = node.sim.createNetworkInterface({
        subnetId: SUBNET_ID,
        secondaryPrivateIpAddressCount: free - 1,
      });
      neighbours.set(node, eni.networkInterface.networkInterfaceId);
    },
    clear: (node) => void node.sim.deleteNetworkInterface({ networkInterfaceId: neighbours.get(node)! }),
    says: /subnet full/,
    shows: /"reason":"subnet-full"/,
    showsFirst: true,
    describe: "another ENI takes the subnet's addresses, then frees them",
  },
  {
    name: "ENI never attaches",
    node: { instanceType: "t3.small", attachLatencyMs: 1e12, env: POOL },
    extraPods: 4,
    arm: () => {},
    clear: (node) => void (node.simClock.offsetMs += 1e12),
    says: /still warming/,
    shows: /"waitingAdds":[1-9]/,
    showsFirst: false,
    describe: "a new ENI stays attaching until EC2 is moved on",
  },
];

const neighbours = new Map<CloudNode, string>();

/** The addresses the pool has free once it settled after start. */
async function settled(node: CloudNode): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const report = await node.pool();
    if (report.next.actions.length === 0 && report.pool.free > 0) return report.pool.free;
    await sleep(100);
  }
  throw new Error("the pool did not settle after start");
}

interface Outcome {
  readonly name: string;
  readonly operations: number;
  readonly faults: number;
  readonly problems: string[];
  readonly duplicates: number;
}

async function runScenario(s: Scenario): Promise<Outcome> {
  await using node = await CloudNode.create(s.name.replace(/\W/g, "").slice(0, 8), s.node);
  const problems: string[] = [];
  let calls = 0;
  const draw = node.sim.knobs.draw.bind(node.sim.knobs);
  node.sim.knobs.draw = (action) => (calls++, draw(action));
  const free = await settled(node);
  const runtime = await Runtime.create(node.host, free + s.extraPods, "cf");
  const [served, waiting] = [runtime.slots.slice(0, free), runtime.slots.slice(free)];
  await s.arm(node);
  const faultStart = Date.now();
  const callsBefore = calls;
  // What the pool has is served while the fault lasts.
  const firstServed = await Promise.all(served.map((slot) => runtime.add(slot)));
  const ok = firstServed.filter((o) => o.ok).length;
  if (ok < free) problems.push(`only ${ok} of the ${free} free addresses were served during the fault`);
  const shown = async () => {
    const r = await node.pool();
    return JSON.stringify({ block: r.growthBlock, errors: r.cloudErrors.recent, pool: r.pool, next: r.next });
  };
  if (s.showsFirst) {
    // The warm pool's refill meets the fault; /v1/pool must say so (the adapter's retries come first).
    for (let i = 0; i < 200 && !s.shows.test(await shown()); i++) await sleep(250);
  }
  // The rest wait, and get code 11 naming the reason; /v1/pool is read while they wait.
  let pending = true;
  const adds = Promise.all(waiting.map((slot) => runtime.add(slot))).finally(() => pending = false);
  let report = await shown();
  while (pending && !s.shows.test(report)) report = await sleep(100).then(shown);
  const refused = (await adds).filter((o) => !o.ok);
  if (refused.length === 0) problems.push("no pod had to wait: the fault was not met");
  for (const o of refused) {
    const doc = JSON.parse(o.result.stdout) as { code: number; msg: string; details?: string };
    if (doc.code !== 11) problems.push(`code ${doc.code} instead of 11: ${o.result.stdout}`);
    if (!s.says.test(`${doc.msg} ${doc.details ?? ""}`)) problems.push(`no reason in: ${o.result.stdout}`);
  }
  if (!s.shows.test(report)) problems.push(`/v1/pool does not show the fault: ${report}`);
  const faultSeconds = Math.max(1, (Date.now() - faultStart) / 1000);
  const rate = (calls - callsBefore) / faultSeconds;
  if (rate > 20) problems.push(`${rate.toFixed(1)} EC2 calls per second while failing: no back-off`);
  let failures: OpOutcome[] = [];
  if (s.soften !== undefined) {
    s.soften(node);
    failures = await runtime.runAll(8_000);
  }
  await s.clear(node);
  // The longest wait after a clear: IMDS catching up, or the growth pause after a full subnet (120 s in ipamd).
  failures.push(...await runtime.runAll(SIZES.imdsLagMs + (SIZES.subnetFullHoldMs || 120_000) + 30_000));
  const notRunning = runtime.slots.filter((slot) => slot.state !== "running");
  if (notRunning.length > 0) {
    problems.push(`${notRunning.length} pods never got an address after the fault cleared`);
  }
  const ips = runtime.live().map((p) => p.ip);
  const duplicates = ips.length - new Set(ips).size;
  const pool = (await node.pool()).pool;
  if (pool.assigned !== runtime.live().length) {
    problems.push(`ipamd holds ${pool.assigned} addresses for ${runtime.live().length} running pods`);
  }
  for (const o of failures) {
    const doc = JSON.parse(o.result.stdout || "{}") as { code?: number };
    if (o.verb === "ADD" && doc.code !== 11) problems.push(`a retried ADD failed with ${o.result.stdout}`);
  }
  problems.push(...runtime.malformed);
  for (const slot of runtime.slots) if (slot.state !== "absent") await runtime.del(slot);
  return {
    name: s.name,
    operations: firstServed.length + refused.length + failures.length + runtime.slots.length * 2,
    faults: (await node.pool()).cloudErrors.total + refused.length,
    problems,
    duplicates,
  };
}

Deno.test({
  name: "EC2 and IMDS faults: ipamd stays up, answers code 11 with the reason, and serves every pod after",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const results = await Promise.allSettled(SCENARIOS.map(runScenario));
    const problems: string[] = [];
    for (const [i, result] of results.entries()) {
      const s = SCENARIOS[i]!;
      if (result.status === "rejected") {
        problems.push(`${s.name}: ${result.reason?.stack ?? result.reason}`);
        continue;
      }
      const o = result.value;
      problems.push(...o.problems.map((p) => `${s.name}: ${p}`));
      await recordResult({
        area: `Cloud fault: ${s.name}`,
        operations: o.operations,
        faults: o.faults,
        duplicates: o.duplicates,
        lost: o.problems.filter((p) => p.includes("never got")).length,
        leaks: o.problems.filter((p) => p.includes("holds")).length,
        notes: s.describe,
      });
    }
    assert.deepEqual(problems, []);
  },
});
