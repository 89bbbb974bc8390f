/**
 * The shared EC2 account of a replay: one simulation, one subnet, one instance per
 * node, EC2's documented token buckets on (account-wide), and the timing model
 * (attach, detach, per-call latency; IMDS lag is read by the reference model).
 * Each node sees the account through a counting view that tallies its own calls
 * by action and its throttled calls.
 *
 * @module
 */
import {
  type Ec2Action,
  Ec2SimError,
  type Ec2SimState,
  Ec2Simulation,
  type LatencyModel,
  type LaunchInstanceResult,
} from "../ec2/mod.ts";
import { EC2_ACTIONS } from "../../ipamd/cloud/mod.ts";
import type { InstanceLimits } from "../../ipamd/pool/mod.ts";
import type { Scheduler } from "./scheduler.ts";
import { ONE_BIG_SUBNET, REPLAY_ZONE, type ReplaySubnet, replaySubnetId } from "./subnets.ts";

/** How long things take in the simulated cloud. */
export interface TimingModel {
  /** From AttachNetworkInterface to the ENI being attached. */
  readonly attachLatency: LatencyModel;
  /** From DetachNetworkInterface to the ENI being `available` (deletable). */
  readonly detachLatency: LatencyModel;
  /** From attached in EC2 to visible in IMDS (the reference polls IMDS for a new ENI). */
  readonly imdsLag: LatencyModel;
  /** Transport latency of every EC2 call. */
  readonly callLatencyMs: number;
}

/** Median about 2 s with a tail to 10 s; detach 2 to 3 s; IMDS lag median 1 s, tail to 30 s. */
export const DEFAULT_TIMING: TimingModel = Object.freeze<TimingModel>({
  attachLatency: { kind: "lognormal", medianMs: 2_000, sigma: 0.6, maxMs: 10_000 },
  detachLatency: { kind: "uniform", minMs: 2_000, maxMs: 3_000 },
  imdsLag: { kind: "lognormal", medianMs: 1_000, sigma: 0.8, maxMs: 30_000 },
  callLatencyMs: 100,
});

/** EC2 calls one node made. */
export interface Ec2Tally {
  /** Calls by action, throttled attempts included. */
  readonly calls: Partial<Record<Ec2Action, number>>;
  /** Calls answered RequestLimitExceeded. */
  throttled: number;
  /** Call times (ms), for plots. */
  readonly times: number[];
}

/** The account, and each node's instance in it. */
export interface ReplayAccount {
  readonly sim: Ec2Simulation;
  readonly vpcCidr: string;
  readonly subnetId: string;
  readonly subnetCidr: string;
  /** The nodes' security groups (each new ENI gets them too). */
  readonly securityGroupIds: readonly string[];
  /** One launched instance per node, with its primary ENI. */
  readonly instances: readonly LaunchInstanceResult[];
  /** The VPC's subnets, the nodes' first (its id and CIDR are `subnetId` and `subnetCidr`). */
  readonly subnets: readonly ReplaySubnet[];
  /**
   * The account's records (not settled: an attach completes at its `readyAtMs`),
   * taken again only after a change; for views that cost no EC2 call (IMDS).
   */
  state(): Ec2SimState;
}

const ACTIONS: ReadonlyMap<string, Ec2Action> = new Map(
  EC2_ACTIONS.map((action) => [action[0]!.toLowerCase() + action.slice(1), action]),
);

const VPC_CIDR = "10.0.0.0/16";

/** Builds the account with `nodes` running instances of one type, throttling on. */
export function createAccount(
  scheduler: Scheduler,
  options: {
    readonly nodes: number;
    readonly instanceType: string;
    readonly limits: InstanceLimits;
    readonly seed: number;
    readonly timing: TimingModel;
    /** Default: one /16 for everything. */
    readonly subnets?: readonly ReplaySubnet[] | undefined;
  },
): ReplayAccount {
  const subnetId = replaySubnetId(0);
  const subnets = options.subnets ?? ONE_BIG_SUBNET;
  const sim = new Ec2Simulation({
    vpcCidr: VPC_CIDR,
    subnets: subnets.map((subnet, i) => ({
      subnetId: replaySubnetId(i),
      cidr: subnet.cidr,
      availabilityZone: REPLAY_ZONE,
      tags: Object.entries(subnet.tags ?? {}).map(([key, value]) => ({ key, value })),
    })),
    seed: options.seed,
    clock: scheduler.clock,
    attachLatency: options.timing.attachLatency,
    detachLatency: options.timing.detachLatency,
  });
  sim.throttle.enable();
  for (const action of ACTIONS.values()) sim.knobs.setLatencyMs(action, options.timing.callLatencyMs);
  const { maxEnis, ipv4PerEni } = options.limits;
  sim.registerInstanceType({ instanceType: options.instanceType, maxEnis, ipv4PerEni });
  const securityGroupIds = ["sg-0123456789abcdef0"];
  const instances = Array.from({ length: options.nodes }, () =>
    sim.launchInstance({
      instanceType: options.instanceType,
      subnetId,
      securityGroups: securityGroupIds,
    }));
  let changes = 0;
  let cached: { changes: number; state: Ec2SimState } | null = null;
  sim.onMutation(() => void changes++);
  const state = () => {
    if (cached?.changes !== changes) cached = { changes, state: sim.exportState() };
    return cached.state;
  };
  return {
    sim,
    vpcCidr: VPC_CIDR,
    subnetId,
    subnetCidr: subnets[0]!.cidr,
    securityGroupIds,
    instances,
    state,
    subnets,
  };
}

/** A fresh tally. */
export function newTally(): Ec2Tally {
  return { calls: {}, throttled: 0, times: [] };
}

/** The simulation as one node sees it: the same account, with that node's calls counted in `tally`. */
export function countingView(sim: Ec2Simulation, tally: Ec2Tally): Ec2Simulation {
  return new Proxy(sim, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      const action = typeof property === "string" ? ACTIONS.get(property) : undefined;
      // Other methods (exportState, onMutation) use private fields, so they run on the target itself.
      if (action === undefined) return typeof value === "function" ? value.bind(target) : value;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        tally.calls[action] = (tally.calls[action] ?? 0) + 1;
        tally.times.push(target.clock.now());
        try {
          return value.apply(target, args);
        } catch (error) {
          if (error instanceof Ec2SimError && error.code === "RequestLimitExceeded") tally.throttled++;
          throw error;
        }
      };
    },
  });
}

/**
 * Parses a latency model: `fixed:MS`, `uniform:MIN_MS:MAX_MS` or
 * `lognormal:MEDIAN_MS:SIGMA:MAX_MS`.
 *
 * @throws {RangeError} When the text is none of these.
 */
export function parseLatencyModel(text: string): LatencyModel {
  const [kind, ...rest] = text.split(":");
  const numbers = rest.map(Number);
  const ok = numbers.every((n) => Number.isFinite(n) && n >= 0);
  if (ok && kind === "fixed" && numbers.length === 1) return { kind, ms: numbers[0]! };
  if (ok && kind === "uniform" && numbers.length === 2 && numbers[0]! <= numbers[1]!) {
    return { kind, minMs: numbers[0]!, maxMs: numbers[1]! };
  }
  if (ok && kind === "lognormal" && numbers.length === 3) {
    return { kind, medianMs: numbers[0]!, sigma: numbers[1]!, maxMs: numbers[2]! };
  }
  throw new RangeError(
    `Invalid latency model "${text}": expected fixed:MS, uniform:MIN:MAX or lognormal:MEDIAN:SIGMA:MAX (ms)`,
  );
}
