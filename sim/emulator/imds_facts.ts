/**
 * What IMDS knows about one instance, taken from the simulation's state, and the
 * visibility lag: every change to the account records what the instance looks
 * like (with the times pending attaches and detaches complete), and IMDS serves
 * the newest record at least `lagMs` old, evaluated `lagMs` in the past.
 *
 * @module
 */

import type { Clock } from "../../shared/mod.ts";
import type { Ec2SimState, Ec2Simulation } from "../ec2/mod.ts";

/** One ENI as the instance's metadata shows it. */
export interface ImdsInterface {
  readonly mac: string;
  readonly deviceNumber: number;
  readonly interfaceId: string;
  readonly ownerId: string;
  readonly subnetId: string;
  readonly subnetCidr: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly securityGroupIds: readonly string[];
  /** Primary first, then secondaries in assignment order. */
  readonly localIpv4s: readonly string[];
  readonly ipv4Prefixes: readonly string[];
}

/** The instance as its metadata shows it. */
export interface ImdsInstance {
  readonly instanceId: string;
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly region: string;
  readonly privateIp: string;
  readonly accountId: string;
  /** ISO 8601 launch time. */
  readonly pendingTime: string;
  /** The MAC of the ENI at device 0 ("" once it is gone). */
  readonly mac: string;
  /** By device number. */
  readonly interfaces: readonly ImdsInterface[];
}

interface TimedInterface extends ImdsInterface {
  /** When the attach completes (visible from then on). */
  readonly fromMs: number;
  /** When the detach completes (gone from then on). */
  readonly untilMs: number;
}

interface InstanceRecord {
  readonly atMs: number;
  readonly instance: Omit<ImdsInstance, "interfaces" | "mac">;
  readonly interfaces: readonly TimedInterface[];
}

/** The metadata of one instance of a simulation, `lagMs` behind EC2. */
export class ImdsView {
  readonly instanceId: string;
  #lagMs: number;
  readonly #sim: Ec2Simulation;
  readonly #clock: Clock;
  readonly #history: InstanceRecord[] = [];
  readonly #unsubscribe: () => void;

  /** Starts recording; the instance must exist. Call `close()` to stop. */
  constructor(sim: Ec2Simulation, instanceId: string, options: { readonly lagMs?: number } = {}) {
    const lagMs = options.lagMs ?? 0;
    checkLag(lagMs);
    this.instanceId = instanceId;
    this.#lagMs = lagMs;
    this.#sim = sim;
    this.#clock = sim.clock;
    const first = this.#take();
    if (first === null) {
      throw new RangeError(`Cannot serve IMDS for instance "${instanceId}": it does not exist`);
    }
    this.#history.push(first);
    this.#unsubscribe = sim.onMutation(() => this.#record());
  }

  /** How long a change takes to show. */
  get lagMs(): number {
    return this.#lagMs;
  }

  /**
   * Changes the lag. A longer lag shows older records only as far back as they
   * were kept: changes made before it was set may show sooner than the new lag.
   */
  set lagMs(lagMs: number) {
    checkLag(lagMs);
    this.#lagMs = lagMs;
  }

  /** What IMDS shows now: the newest record at least `lagMs` old, as of `lagMs` ago. */
  current(): ImdsInstance {
    const seenAtMs = this.#clock.now() - this.lagMs;
    this.#prune(seenAtMs);
    const record = this.#history[0]!;
    const interfaces: ImdsInterface[] = record.interfaces
      .filter((eni) => eni.fromMs <= seenAtMs && seenAtMs < eni.untilMs)
      .map(({ fromMs: _from, untilMs: _until, ...eni }) => eni);
    const mac = interfaces.find((eni) => eni.deviceNumber === 0)?.mac ?? "";
    return { ...record.instance, mac, interfaces };
  }

  /** Stops recording changes. */
  close(): void {
    this.#unsubscribe();
  }

  #record(): void {
    const record = this.#take();
    if (record === null) return;
    this.#history.push(record);
    this.#prune(record.atMs - this.lagMs);
  }

  /** Drops the records older than the newest one taken at or before `seenAtMs`. */
  #prune(seenAtMs: number): void {
    let newest = 0;
    for (let i = 1; i < this.#history.length && this.#history[i]!.atMs <= seenAtMs; i++) newest = i;
    this.#history.splice(0, newest);
  }

  #take(): InstanceRecord | null {
    return instanceRecord(this.#sim.exportState(), this.instanceId, this.#clock.now());
  }
}

function checkLag(lagMs: number): void {
  if (!(lagMs >= 0) || !Number.isFinite(lagMs)) throw new RangeError(`Cannot lag IMDS by ${lagMs} ms`);
}

function instanceRecord(state: Ec2SimState, instanceId: string, atMs: number): InstanceRecord | null {
  const instance = state.instances.find((candidate) => candidate.instanceId === instanceId);
  if (instance === undefined) return null;
  const subnets = new Map(state.subnets.map((subnet) => [subnet.subnetId, subnet]));
  const availabilityZone = subnets.get(instance.subnetId)?.availabilityZone ?? "";
  const interfaces: TimedInterface[] = [];
  for (const eni of state.networkInterfaces) {
    const attachment = eni.attachment;
    if (attachment === null || attachment.instanceId !== instanceId) continue;
    interfaces.push({
      mac: eni.macAddress,
      deviceNumber: attachment.deviceIndex,
      interfaceId: eni.networkInterfaceId,
      ownerId: state.vpc.ownerId,
      subnetId: eni.subnetId,
      subnetCidr: subnets.get(eni.subnetId)?.cidrBlock ?? "",
      vpcId: state.vpc.vpcId,
      vpcCidr: state.vpc.cidrBlock,
      securityGroupIds: [...eni.groups],
      localIpv4s: [eni.privateIpAddress, ...eni.secondaryPrivateIpAddresses],
      ipv4Prefixes: [...eni.ipv4Prefixes],
      fromMs: attachment.status === "attaching" ? attachment.readyAtMs : -Infinity,
      untilMs: attachment.status === "detaching" ? attachment.readyAtMs : Infinity,
    });
  }
  interfaces.sort((a, b) => a.deviceNumber - b.deviceNumber);
  return {
    atMs,
    instance: {
      instanceId,
      instanceType: instance.instanceType,
      availabilityZone,
      region: regionOf(availabilityZone),
      privateIp: instance.privateIpAddress,
      accountId: state.vpc.ownerId,
      pendingTime: new Date(instance.launchTimeMs).toISOString(),
    },
    interfaces,
  };
}

/** The region of an availability zone: `us-west-2a` and `us-west-2-lax-1a` are in `us-west-2`. */
export function regionOf(availabilityZone: string): string {
  const match = /^([a-z]+(?:-[a-z]+)+-\d+)/.exec(availabilityZone);
  return match?.[1] ?? availabilityZone.replace(/[a-z]$/, "");
}
