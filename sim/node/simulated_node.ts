/**
 * A node in simulated time: the daemon's own `Pool`, driving the EC2 simulation
 * through the same port the daemon uses, with a clock that moves only when the
 * pool waits for something (a cooldown, the ENI minimum age, the decrease spacing,
 * an attach). Pods wait in the pool's queue without a deadline. `plan` runs on
 * it; so do the property tests.
 *
 * @module
 */
import { ManualClock } from "../../shared/mod.ts";
import { Ec2Simulation, SimEc2Port, sleepOnManualClock } from "../ec2/mod.ts";
import type { Ec2Port } from "../../ipamd/cloud/mod.ts";
import {
  type AllocationKey,
  type Datastore,
  type InstanceLimits,
  type PassOutcome,
  Pool,
  type PoolSettings,
  type Reconciler,
} from "../../ipamd/pool/mod.ts";

/** What a simulated node is. */
export interface SimulatedNodeOptions {
  readonly instanceType: string;
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  readonly seed?: number;
  /** The node's subnet (default 10.0.0.0/18 in VPC 10.0.0.0/16). */
  readonly subnetCidr?: string;
  /** Other nodes leave this many addresses free in the subnet (default all); the pool reads it for subnet-aware targets. */
  readonly subnetFree?: number | undefined;
  /** Wraps the EC2 port the reconciler sees (tests put checks there). */
  readonly wrapPort?: (port: Ec2Port) => Ec2Port;
  /** Told of every reconciler pass, with the plan it ended on. */
  readonly onPass?: (outcome: PassOutcome) => void;
  /** Told of every address a deleted pod gives back, and when. */
  readonly onRelease?: (ip: string, atMs: number) => void;
}

/** The pool as EC2 holds it, ENIs in device order. */
export interface NodeView {
  readonly pods: number;
  readonly enis: number;
  /** Addresses held from the subnet for pods (16 per prefix). */
  readonly secondaryIps: number;
  readonly unusedIps: number;
  /** Pods that have no address. */
  readonly failedPods: number;
  readonly ipsPerEni: readonly number[];
  readonly prefixesPerEni: readonly number[];
}

/** Passes allowed before a settle counts as not converging. */
const MAX_SETTLE_PASSES = 10_000;
const START_MS = Date.UTC(2026, 0, 1);

/** One node's pool, run in simulated time. */
export class SimulatedNode {
  readonly clock: ManualClock;
  readonly sim: Ec2Simulation;
  readonly port: SimEc2Port;
  readonly pool: Pool;
  readonly #pods: AllocationKey[] = [];
  readonly #onRelease: ((ip: string, atMs: number) => void) | undefined;
  readonly #onPass: ((outcome: PassOutcome) => void) | undefined;
  #sequence = 0;

  private constructor(
    options: SimulatedNodeOptions,
    clock: ManualClock,
    sim: Ec2Simulation,
    instanceId: string,
  ) {
    this.clock = clock;
    this.sim = sim;
    this.port = new SimEc2Port(sim, instanceId, { sleep: sleepOnManualClock(clock) });
    this.#onRelease = options.onRelease;
    this.#onPass = options.onPass;
    this.pool = new Pool({
      ec2: options.wrapPort?.(this.port) ?? this.port,
      limits: options.limits,
      settings: options.settings,
      clock,
      room: {
        total: () => sim.describeSubnets({}).subnets[0]!.availableIpAddressCount,
        free: () => sim.describeSubnets({}).subnets[0]!.availableIpAddressCount,
      },
    });
  }

  get datastore(): Datastore {
    return this.pool.datastore;
  }

  get reconciler(): Reconciler {
    return this.pool.reconciler;
  }

  /** Launches the instance (primary ENI only, no secondary addresses) and loads it into the datastore. */
  static async start(options: SimulatedNodeOptions): Promise<SimulatedNode> {
    const clock = new ManualClock(START_MS);
    const subnetId = "subnet-0a1b2c3d4e5f60718";
    const sim = new Ec2Simulation({
      vpcCidr: "10.0.0.0/16",
      subnets: [{ subnetId, cidr: options.subnetCidr ?? "10.0.0.0/18", availabilityZone: "us-west-2a" }],
      seed: options.seed ?? 1,
      clock,
    });
    const { maxEnis, ipv4PerEni } = options.limits;
    sim.registerInstanceType({ instanceType: options.instanceType, maxEnis, ipv4PerEni });
    const { instanceId } = sim.launchInstance({
      instanceType: options.instanceType,
      subnetId,
      securityGroups: ["sg-0123456789abcdef0"],
    });
    // Other nodes' ENIs take all but `subnetFree` addresses of the subnet.
    const available = () => sim.describeSubnets({}).subnets[0]!.availableIpAddressCount;
    const left = options.subnetFree ?? Infinity;
    while (available() > left) {
      sim.createNetworkInterface({
        subnetId,
        secondaryPrivateIpAddressCount: Math.min(available() - left - 1, 49),
      });
    }
    const node = new SimulatedNode(options, clock, sim, instanceId);
    node.pool.adopt(await node.port.describeNode());
    return node;
  }

  /** Pods scheduled on the node, with or without an address. */
  get pods(): number {
    return this.#pods.length;
  }

  /** The addresses pods hold now. */
  podIps(): string[] {
    return this.#pods.flatMap((key) => this.datastore.get(key)?.ip ?? []);
  }

  /** Schedules one pod, as kubelet's ADD would (it waits in the queue until served), then lets the pool settle. */
  async addPod(): Promise<void> {
    const key = { networkName: "aws-cni", containerId: `pod-${++this.#sequence}`, ifName: "eth0" };
    this.#pods.push(key);
    // A pod deleted while it waits has its wait cancelled: nothing to do.
    this.pool.acquire(key, { podNamespace: "default", podName: key.containerId }, Infinity).catch(() => {});
    await this.settle();
  }

  /** Deletes a pod (the newest by default), as kubelet's DEL would, then lets the pool settle. */
  async removePod(index = this.#pods.length - 1): Promise<void> {
    const [key] = this.#pods.splice(index, 1);
    if (key === undefined) return;
    const released = this.pool.release(key);
    if (released !== null) this.#onRelease?.(released.ip, this.clock.now());
    await this.settle();
  }

  /** Moves the pod count to `count` one pod at a time. */
  async scaleTo(count: number): Promise<void> {
    while (this.pods < count) await this.addPod();
    while (this.pods > count) await this.removePod();
  }

  /**
   * Runs reconciler passes, moving the clock to each deferred decision, until
   * nothing is left to do; returns the passes it ran. Throws if the pool does not
   * settle (that would be flapping).
   */
  async settle(): Promise<number> {
    for (let passes = 1; passes <= MAX_SETTLE_PASSES; passes++) {
      const outcome = await this.reconciler.pass();
      this.#onPass?.(outcome);
      this.pool.queue.serve(); // an address whose cooldown ended serves a waiting pod too
      if (outcome.applied.length > 0) continue;
      const due = [outcome.plan.nextWakeMs, outcome.hold?.untilMs ?? null].filter((ms) => ms !== null);
      if (due.length === 0) return passes;
      this.clock.advanceTo(Math.min(...due));
    }
    throw new Error(`Pool did not settle within ${MAX_SETTLE_PASSES} passes`);
  }

  /** What EC2 holds for this node, and how many pods went without an address. */
  async view(): Promise<NodeView> {
    const enis = (await this.port.describeNode()).sort((a, b) => a.deviceNumber - b.deviceNumber);
    const size = (cidr: string) => cidr.endsWith("/28") ? 16 : 1;
    const ipsPerEni = enis.map((eni) => eni.cidrs.reduce((sum, cidr) => sum + size(cidr), 0));
    const prefixesPerEni = enis.map((eni) => eni.cidrs.filter((cidr) => cidr.endsWith("/28")).length);
    const secondaryIps = ipsPerEni.reduce((a, b) => a + b, 0);
    const served = this.podIps().length;
    return {
      pods: this.#pods.length,
      enis: enis.length,
      secondaryIps,
      unusedIps: secondaryIps - served,
      failedPods: this.#pods.length - served,
      ipsPerEni,
      prefixesPerEni,
    };
  }
}
