/**
 * The replay engine: one simulated account, one node per workload node running our
 * daemon or the reference model, the simulated kubelet, and a 1 s sampler that
 * integrates idle addresses and records the timeline, all on one discrete-event
 * scheduler. Deterministic: the same options give the same result.
 *
 * @module
 */
import type { InstanceLimits, PoolSettings } from "../../ipamd/pool/mod.ts";
import { createAccount, DEFAULT_TIMING, type Ec2Tally, type TimingModel } from "./account.ts";
import { Kubelet, type NodeFailures, type PodRecord } from "./kubelet.ts";
import { type AttachWait, OurNode } from "./our_node.ts";
import { ReferenceNode } from "./reference_node.ts";
import type { ReplayNode } from "./replay_node.ts";
import type { Workload } from "./scenarios.ts";
import { Scheduler } from "./scheduler.ts";

/** Which pool logic runs on the nodes. */
export type ReplayPolicy = "aws-cni" | "reference";

/** What to replay. */
export interface ReplayOptions {
  readonly instanceType: string;
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  readonly policy: ReplayPolicy;
  readonly workload: Workload;
  readonly seed: number;
  readonly timing?: TimingModel;
  /** Our ADD deadline in ipamd (ADD_WAIT_TIMEOUT, default 60 s). */
  readonly addWaitMs?: number;
  /** How our adapter awaits a new ENI (default "imds", as the daemon does). */
  readonly attachWait?: AttachWait;
  /** How long past the window the run may go on for pods still waiting (default 30 min). */
  readonly overrunMs?: number;
  /** Told of progress through the window, 0 to 1, once per simulated second. */
  readonly onProgress?: (fraction: number) => void;
}

/** The pool across all nodes at one instant (one sample per simulated second). */
export interface ReplaySample {
  readonly tMs: number;
  readonly pods: number;
  readonly assigned: number;
  /** Assignable now. */
  readonly free: number;
  readonly cooling: number;
  /** EC2 calls since the previous sample. */
  readonly calls: number;
}

/** One node's raw results. */
export interface NodeResult {
  readonly name: string;
  readonly tally: Ec2Tally;
  /** Σ (held − assigned) × seconds over the window. */
  readonly idleIpSeconds: number;
  readonly peakIps: number;
  readonly failures: NodeFailures;
  readonly startFailures: number;
}

/** Everything a replay measured. */
export interface ReplayResult {
  readonly options: Omit<ReplayOptions, "onProgress">;
  readonly nodes: readonly NodeResult[];
  readonly pods: readonly PodRecord[];
  readonly samples: readonly ReplaySample[];
  /** The measurement window: last event plus the workload's tail. */
  readonly windowMs: number;
  /** When the run ended (later than the window when pods were still waiting). */
  readonly endMs: number;
  /** Most addresses held by all nodes at once. */
  readonly accountPeakIps: number;
  readonly events: number;
}

const START_MS = Date.UTC(2026, 0, 1);
const SAMPLE_MS = 1_000;

/** Runs one replay to its end. */
export async function runReplay(options: ReplayOptions): Promise<ReplayResult> {
  const { workload, seed, limits, settings } = options;
  const timing = options.timing ?? DEFAULT_TIMING;
  const scheduler = new Scheduler(START_MS);
  const account = createAccount(scheduler, {
    nodes: workload.nodes.length,
    instanceType: options.instanceType,
    limits,
    seed,
    timing,
    subnets: workload.subnets,
  });
  const nodes: ReplayNode[] = workload.nodes.map((name, index) => {
    const instance = account.instances[index]!;
    return options.policy === "aws-cni"
      ? new OurNode({
        name,
        account,
        instanceId: instance.instanceId,
        instanceType: options.instanceType,
        scheduler,
        limits,
        settings,
        timing,
        seed,
        ...(options.addWaitMs === undefined ? {} : { addWaitMs: options.addWaitMs }),
        ...(options.attachWait === undefined ? {} : { attachWait: options.attachWait }),
      })
      : new ReferenceNode({ name, account, instance, scheduler, limits, settings, timing, seed });
  });
  const kubelet = new Kubelet(scheduler, nodes, seed, addressCapacity(limits, settings));
  kubelet.play(workload);

  const lastEventMs = (workload.events.at(-1)?.t ?? 0) * 1000;
  const windowMs = lastEventMs + workload.tailMs;
  const hardEndMs = windowMs + (options.overrunMs ?? 30 * 60_000);
  const idle = nodes.map(() => 0);
  const peak = nodes.map(() => 0);
  const samples: ReplaySample[] = [];
  let accountPeakIps = 0;
  let callsSeen = 0;
  const sample = () => {
    const tMs = scheduler.now() - START_MS;
    let assigned = 0, free = 0, cooling = 0, held = 0, calls = 0;
    nodes.forEach((node, i) => {
      const counts = node.counts(scheduler.now());
      if (tMs > 0 && tMs <= windowMs) idle[i]! += ((counts.total - counts.assigned) * SAMPLE_MS) / 1000;
      peak[i] = Math.max(peak[i]!, counts.total);
      held += counts.total;
      assigned += counts.assigned;
      cooling += counts.cooling;
      free += counts.total - counts.assigned - counts.cooling;
      calls += node.tally.times.length;
    });
    accountPeakIps = Math.max(accountPeakIps, held);
    samples.push({ tMs, pods: kubelet.alive, assigned, free, cooling, calls: calls - callsSeen });
    callsSeen = calls;
    options.onProgress?.(Math.min(tMs / windowMs, 1));
    if ((tMs >= windowMs && kubelet.pending === 0) || tMs >= hardEndMs) {
      scheduler.stop();
      return;
    }
    scheduler.at(scheduler.now() + SAMPLE_MS, sample);
  };
  scheduler.at(START_MS, sample);
  await scheduler.run();

  const { onProgress: _, ...kept } = options;
  return {
    options: kept,
    nodes: nodes.map((node, i) => ({
      name: node.name,
      tally: node.tally,
      idleIpSeconds: idle[i]!,
      peakIps: peak[i]!,
      failures: kubelet.failures.get(node.name) ?? { byReason: {}, withCapacity: 0 },
      startFailures: node.startFailures,
    })),
    pods: kubelet.pods,
    samples,
    windowMs,
    endMs: scheduler.now() - START_MS,
    accountPeakIps,
    events: scheduler.events,
  };
}

/** The addresses a node can hold for pods: its ENIs' room, capped by max pods. */
export function addressCapacity(limits: InstanceLimits, settings: PoolSettings): number {
  const maxEnis = settings.maxEni > 0 ? Math.min(settings.maxEni, limits.maxEnis) : limits.maxEnis;
  const unit = settings.prefixDelegation ? 16 : 1;
  return Math.min(limits.maxPods, maxEnis * Math.max(limits.ipv4PerEni - 1, 0) * unit);
}
