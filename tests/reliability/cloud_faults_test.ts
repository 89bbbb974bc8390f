/**
 * EC2 and IMDS faults through the simulated cloud's control channel, each on a
 * test node of its own (`dist/aws-cni --daemon` against the cloud process, the
 * plugin exec'd in the node as a runtime runs it): throttling,
 * 5xx errors, calls that time out, slow attaches, IMDS lagging behind EC2, a
 * subnet out of addresses and an ENI that never attaches. In each, ipamd stays
 * up and keeps serving the addresses it has, backs off within its budget,
 * answers the pods it cannot serve with CNI error 11 naming the reason (plugin
 * stdout) and shows it in `/v1/pool`, and serves every waiting pod once the
 * fault clears.
 */
import assert from "node:assert/strict";
import type { CloudControl, FaultSpec } from "../../sim/cloud/mod.ts";
import { type NodeOptions, nodesReady, startNode, type TestNode } from "../../testing/node.ts";
import { SIZES } from "./_config.ts";
import { recordResult } from "./_results.ts";
import { type OpOutcome, Runtime } from "./_runtime.ts";

const ready = await nodesReady();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** ipamd's growth pause after EC2 says the subnet is full (the product's; it is not a setting). */
const SUBNET_FULL_HOLD_MS = 120_000;

/** One fault: how to start the node, break it, soften it to the target level, and mend it. */
interface Scenario {
  readonly name: string;
  readonly node: Pick<NodeOptions, "cloud" | "env">;
  /** Pods beyond what the pool holds at start. */
  readonly extraPods: number;
  readonly arm: (cloud: CloudControl) => Promise<unknown>;
  /** The target level of the fault, run before it clears (optional). */
  readonly soften?: (cloud: CloudControl) => Promise<unknown>;
  readonly clear: (cloud: CloudControl) => Promise<unknown>;
  /** What the plugin's code-11 answers say. */
  readonly says: RegExp;
  /** What `/v1/pool` shows while it lasts (growth block, cloud errors, next actions, waiting ADDs). */
  readonly shows: RegExp;
  /** The fault shows in `/v1/pool` before any pod waits (a refill of the warm pool meets it). */
  readonly showsFirst: boolean;
  readonly describe: string;
}

const POOL = { WARM_ENI_TARGET: "0", WARM_IP_TARGET: "1", ADD_WAIT_TIMEOUT: "2", IP_COOLDOWN_PERIOD: "1" };

async function failEvery(cloud: CloudControl, fault: FaultSpec, rate: number): Promise<void> {
  await cloud.clearFaults();
  await cloud.failAtRate("*", fault, rate);
}

const nothing = () => Promise.resolve();

const SCENARIOS: readonly Scenario[] = [
  {
    name: "throttling",
    node: { cloud: { instanceType: "m5.large" }, env: POOL },
    extraPods: 4,
    arm: (cloud) => failEvery(cloud, { code: "RequestLimitExceeded" }, 1),
    soften: (cloud) => failEvery(cloud, { code: "RequestLimitExceeded" }, 0.5),
    clear: (cloud) => cloud.clearFaults(),
    says: /EC2 throttled/,
    shows: /"reason":"throttled"/,
    showsFirst: true,
    describe: "every EC2 call throttled, then 50%",
  },
  {
    name: "5xx",
    node: { cloud: { instanceType: "m5.large" }, env: POOL },
    extraPods: 4,
    arm: (cloud) => failEvery(cloud, { code: "InternalError", httpStatus: 500 }, 1),
    soften: (cloud) => failEvery(cloud, { code: "ServiceUnavailable", httpStatus: 503 }, 0.5),
    clear: (cloud) => cloud.clearFaults(),
    says: /EC2 error: .*InternalError/,
    shows: /InternalError/,
    showsFirst: true,
    describe: "every EC2 call 500, then 50% 503",
  },
  {
    name: "timeouts",
    node: { cloud: { instanceType: "m5.large" }, env: POOL },
    extraPods: 3,
    arm: (cloud) => cloud.hang("AssignPrivateIpAddresses", { times: "always" }),
    clear: (cloud) => cloud.clearHangs(),
    says: /EC2 error: .*(TimeoutError|no usable answer)/,
    shows: /TimeoutError|no usable answer/,
    showsFirst: true,
    describe: "AssignPrivateIpAddresses never answers (10 s client timeout)",
  },
  {
    name: "slow attach",
    node: { cloud: { instanceType: "t3.small", attachLatencyMs: 8_000 }, env: POOL },
    extraPods: 4,
    arm: nothing,
    clear: nothing,
    says: /still warming/,
    shows: /"waitingAdds":[1-9]/,
    showsFirst: false,
    describe: "attach takes 8 s",
  },
  {
    name: "IMDS lag",
    node: { cloud: { instanceType: "t3.small", imdsLagMs: SIZES.imdsLagMs }, env: POOL },
    extraPods: 4,
    arm: nothing,
    clear: nothing,
    says: /still warming/,
    shows: /"waitingAdds":[1-9]/,
    showsFirst: false,
    describe: `IMDS shows ENI changes ${SIZES.imdsLagMs / 1000} s late`,
  },
  {
    name: "subnet full",
    node: { cloud: { instanceType: "m5.large", subnetCidrs: ["10.0.0.0/27"] }, env: POOL },
    extraPods: 4,
    // Another node's ENI takes every free address of the subnet, then goes.
    arm: async (cloud) => neighbours.set(cloud, await cloud.createEni({ secondaryIps: "all" })),
    clear: (cloud) => cloud.deleteEni(neighbours.get(cloud)!),
    says: /subnet full/,
    shows: /"reason":"subnet-full"/,
    showsFirst: true,
    describe: "another ENI takes the subnet's addresses, then frees them",
  },
  {
    name: "ENI never attaches",
    node: { cloud: { instanceType: "t3.small" }, env: POOL },
    extraPods: 4,
    arm: (cloud) => cloud.holdAttaches(),
    clear: (cloud) => cloud.releaseAttaches(),
    says: /still warming/,
    shows: /"waitingAdds":[1-9]/,
    showsFirst: false,
    describe: "new attaches are held attaching until the cloud releases them",
  },
];

const neighbours = new Map<CloudControl, string>();

/** EC2 calls the cloud received so far. */
async function callsSoFar(cloud: CloudControl): Promise<number> {
  return Object.values((await cloud.state()).calls).reduce((sum, n) => sum + n, 0);
}

/** The addresses the pool has free once it settled after start. */
async function settled(node: TestNode): Promise<number> {
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
  await using node = await startNode({ label: s.name.replace(/\W/g, "").slice(0, 8), ...s.node });
  const cloud = node.cloud!.control;
  const problems: string[] = [];
  const free = await settled(node);
  const runtime = await Runtime.create(node, free + s.extraPods, "cf");
  const [served, waiting] = [runtime.slots.slice(0, free), runtime.slots.slice(free)];
  await s.arm(cloud);
  const faultStart = Date.now();
  const callsBefore = await callsSoFar(cloud);
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
  const rate = (await callsSoFar(cloud) - callsBefore) / faultSeconds;
  if (rate > 20) problems.push(`${rate.toFixed(1)} EC2 calls per second while failing: no back-off`);
  let failures: OpOutcome[] = [];
  if (s.soften !== undefined) {
    await s.soften(cloud);
    failures = await runtime.runAll(8_000);
  }
  await s.clear(cloud);
  // The longest wait after a clear: IMDS catching up, or ipamd's growth pause after a full subnet.
  failures.push(...await runtime.runAll(SIZES.imdsLagMs + SUBNET_FULL_HOLD_MS + 30_000));
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
