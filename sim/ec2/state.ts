/**
 * The simulation's records (subnets, instance types, instances, ENIs, attachments)
 * and the bookkeeping every action shares: lookups that fail with EC2's NotFound
 * codes, address accounting, and attach/detach transitions completed lazily
 * against the clock. Internal to the ec2_sim files.
 *
 * @module
 */

import { cidrContains, cidrSize, type Clock, type Ipv4Cidr, parseCidr } from "../../shared/mod.ts";
import { Ec2SimError, notFoundError } from "./error.ts";
import { type Ec2IdFactory, type LatencyModel, sampleLatencyMs, type SeededRandom } from "./random.ts";
import { SubnetAddressPool } from "./subnet.ts";
import type { AttachmentStatus, EniStatus, SubnetSpec } from "./types.ts";

/** A subnet and its address space. */
export interface SubnetRecord {
  readonly subnetId: string;
  readonly cidrBlock: string;
  readonly availabilityZone: string;
  readonly tags: Map<string, string>;
  readonly pool: SubnetAddressPool;
}

/** A registered instance type. */
export interface InstanceTypeRecord {
  readonly instanceType: string;
  readonly maxEnis: number;
  readonly ipv4PerEni: number;
  readonly hypervisor: "nitro" | "xen";
  readonly bareMetal: boolean;
}

/** An instance; `devices` maps device index to the ENI attached there (in any phase). */
export interface InstanceRecord {
  readonly instanceId: string;
  readonly reservationId: string;
  readonly type: InstanceTypeRecord;
  readonly subnet: SubnetRecord;
  readonly groups: readonly string[];
  readonly launchTimeMs: number;
  readonly privateIp: number;
  readonly tags: Map<string, string>;
  state: "running" | "terminated";
  readonly devices: Map<number, EniRecord>;
}

/** An ENI's attachment; `readyAtMs` is when the current phase completes. */
export interface AttachmentRecord {
  readonly attachmentId: string;
  readonly instance: InstanceRecord;
  readonly deviceIndex: number;
  readonly attachTimeMs: number;
  deleteOnTermination: boolean;
  phase: AttachmentStatus;
  readyAtMs: number;
}

/** An ENI; `seq` orders describes and pagination. */
export interface EniRecord {
  readonly seq: number;
  readonly networkInterfaceId: string;
  readonly subnet: SubnetRecord;
  description: string;
  groups: readonly string[];
  readonly tags: Map<string, string>;
  readonly macAddress: string;
  readonly primaryIp: number;
  readonly secondaryIps: number[];
  readonly prefixes: number[];
  sourceDestCheck: boolean;
  attachment: AttachmentRecord | null;
}

/** Account-wide settings fixed at construction. */
export interface SimSettings {
  readonly vpcId: string;
  readonly vpcCidr: Ipv4Cidr;
  readonly ownerId: string;
  readonly defaultGroupId: string;
  readonly attachLatency: LatencyModel;
  readonly detachLatency: LatencyModel;
  /** The IPv4 limit of an ENI no instance type constrains yet. */
  readonly maxUnattachedIpv4PerEni: number;
}

/** Attach timing a harness may turn while the account runs (a fault knob, not part of the state). */
export interface AttachTiming {
  /** Replaces the account's attach latency model while set. */
  readonly attachLatency: LatencyModel | null;
  /** Attaches begun while set stay `attaching` until released. */
  readonly holdAttaches: boolean;
}

/** When a held attach completes: not before it is released. */
const HELD_MS = Number.MAX_SAFE_INTEGER;

/** Everything the account holds, plus the shared bookkeeping. */
export class SimState {
  readonly subnets = new Map<string, SubnetRecord>();
  readonly instanceTypes = new Map<string, InstanceTypeRecord>();
  readonly instances = new Map<string, InstanceRecord>();
  /** In creation order, which is describe order. */
  readonly enis = new Map<string, EniRecord>();
  readonly attachments = new Map<string, EniRecord>();
  readonly #pending = new Set<EniRecord>();
  readonly #held = new Set<EniRecord>();
  #seq = 0;
  /** Set by the simulation to its knobs. */
  attachTiming: AttachTiming = { attachLatency: null, holdAttaches: false };

  constructor(
    readonly settings: SimSettings,
    readonly clock: Clock,
    readonly ids: Ec2IdFactory,
    readonly latencyRandom: SeededRandom,
  ) {}

  /** The next ENI sequence number. */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** The last ENI sequence number issued; restoring may only move it forward. */
  get lastSeq(): number {
    return this.#seq;
  }

  set lastSeq(seq: number) {
    if (!Number.isSafeInteger(seq) || seq < this.#seq) {
      throw new RangeError(`Cannot set the ENI sequence to ${seq}`);
    }
    this.#seq = seq;
  }

  subnet(subnetId: string): SubnetRecord {
    const subnet = this.subnets.get(subnetId);
    if (subnet === undefined) throw notFoundError("InvalidSubnetID.NotFound", "subnet", subnetId);
    return subnet;
  }

  eni(networkInterfaceId: string): EniRecord {
    const eni = this.enis.get(networkInterfaceId);
    if (eni === undefined) {
      throw notFoundError("InvalidNetworkInterfaceID.NotFound", "networkInterface", networkInterfaceId);
    }
    return eni;
  }

  /** The ENI holding attachment `attachmentId`. */
  attached(attachmentId: string): EniRecord & { attachment: AttachmentRecord } {
    const eni = this.attachments.get(attachmentId);
    if (eni === undefined || eni.attachment === null) {
      throw new Ec2SimError(
        "InvalidAttachmentID.NotFound",
        `The network interface attachment ID '${attachmentId}' does not exist`,
      );
    }
    return eni as EniRecord & { attachment: AttachmentRecord };
  }

  instance(instanceId: string): InstanceRecord {
    const instance = this.instances.get(instanceId);
    if (instance === undefined) throw notFoundError("InvalidInstanceID.NotFound", "instance", instanceId);
    return instance;
  }

  /** Addresses the ENI counts against its limit: primary, secondaries, and one per /28. */
  addressCount(eni: EniRecord): number {
    return 1 + eni.secondaryIps.length + eni.prefixes.length;
  }

  /** The ENI's IPv4 limit: its instance type's once attached, else the unattached limit. */
  ipv4Limit(eni: EniRecord): number {
    return eni.attachment?.instance.type.ipv4PerEni ?? this.settings.maxUnattachedIpv4PerEni;
  }

  status(eni: EniRecord): EniStatus {
    switch (eni.attachment?.phase) {
      case undefined:
        return "available";
      case "attaching":
        return "attaching";
      case "attached":
        return "in-use";
      case "detaching":
        return "detaching";
    }
  }

  /** Starts an attach or detach that completes after a latency drawn from its model, or at once. */
  begin(
    eni: EniRecord & { attachment: AttachmentRecord },
    phase: "attaching" | "detaching",
    options: { immediate?: boolean } = {},
  ): void {
    const attaching = phase === "attaching";
    const model = attaching
      ? this.attachTiming.attachLatency ?? this.settings.attachLatency
      : this.settings.detachLatency;
    const held = attaching && this.attachTiming.holdAttaches && options.immediate !== true;
    const latencyMs = options.immediate === true || held ? 0 : sampleLatencyMs(model, this.latencyRandom);
    eni.attachment.phase = phase;
    eni.attachment.readyAtMs = held ? HELD_MS : this.clock.now() + latencyMs;
    this.#pending.add(eni);
    if (held) this.#held.add(eni);
    this.settle();
  }

  /** Completes every held attach now; returns how many there were. */
  releaseHeld(): number {
    let released = 0;
    const nowMs = this.clock.now();
    for (const eni of this.#held) {
      if (eni.attachment?.phase === "attaching" && eni.attachment.readyAtMs === HELD_MS) {
        eni.attachment.readyAtMs = nowMs;
        released++;
      }
    }
    this.#held.clear();
    this.settle();
    return released;
  }

  /** Tracks a restored ENI whose attach or detach has yet to complete. */
  resume(eni: EniRecord): void {
    const phase = eni.attachment?.phase;
    if (phase === "attaching" || phase === "detaching") this.#pending.add(eni);
  }

  /** Completes every transition whose time has come. Every action calls this first. */
  settle(): void {
    const nowMs = this.clock.now();
    for (const eni of this.#pending) {
      const attachment = eni.attachment;
      if (attachment === null) {
        this.#pending.delete(eni);
      } else if (attachment.readyAtMs <= nowMs) {
        if (attachment.phase === "detaching") this.detachNow(eni);
        else attachment.phase = "attached";
        this.#pending.delete(eni);
      }
    }
  }

  /** Removes an ENI's attachment at once. */
  detachNow(eni: EniRecord): void {
    const attachment = eni.attachment;
    if (attachment === null) return;
    attachment.instance.devices.delete(attachment.deviceIndex);
    this.attachments.delete(attachment.attachmentId);
    eni.attachment = null;
    this.#pending.delete(eni);
    this.#held.delete(eni);
  }

  /** Deletes an unattached ENI and returns its addresses to the subnet. */
  deleteNow(eni: EniRecord): void {
    this.detachNow(eni);
    const pool = eni.subnet.pool;
    pool.releaseAddress(eni.primaryIp);
    for (const ip of eni.secondaryIps) pool.releaseAddress(ip);
    for (const prefix of eni.prefixes) pool.releasePrefix(prefix);
    this.enis.delete(eni.networkInterfaceId);
  }
}

/** Adds a subnet with all its addresses free; it must lie in the VPC and overlap no other. */
export function addSubnet(state: SimState, spec: SubnetSpec): SubnetRecord {
  const cidr = parseCidr(spec.cidr);
  const { vpcCidr } = state.settings;
  if (!cidrContains(vpcCidr, cidr.base) || !cidrContains(vpcCidr, cidr.base + cidrSize(cidr) - 1)) {
    throw new RangeError(`Cannot add subnet "${spec.subnetId}": ${spec.cidr} lies outside the VPC`);
  }
  for (const other of state.subnets.values()) {
    if (
      other.subnetId === spec.subnetId || cidrContains(other.pool.cidr, cidr.base) ||
      cidrContains(cidr, other.pool.cidr.base)
    ) {
      throw new RangeError(`Cannot add subnet "${spec.subnetId}": it clashes with "${other.subnetId}"`);
    }
  }
  const subnet: SubnetRecord = {
    subnetId: spec.subnetId,
    cidrBlock: spec.cidr,
    availabilityZone: spec.availabilityZone,
    tags: new Map((spec.tags ?? []).map((tag) => [tag.key, tag.value])),
    pool: new SubnetAddressPool(cidr),
  };
  state.subnets.set(spec.subnetId, subnet);
  return subnet;
}
