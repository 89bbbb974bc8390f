/**
 * The simulation's state as plain JSON-able data (`Ec2SimState`), and taking it
 * from the live records. Everything a restart must keep is here: the VPC, subnets
 * and their taken addresses, instance types, instances, ENIs with their addresses,
 * attachments and tags, the id counters and the random streams' positions. Pending
 * attach/detach completions are absolute times (`readyAtMs`), so they stay valid
 * against a wall clock. Fault knobs and throttle settings are not part of it.
 *
 * @module
 */

import { formatCidr, formatIpv4 } from "../../shared/mod.ts";
import type { LatencyModel } from "./random.ts";
import type { SimState } from "./state.ts";
import type { AttachmentStatus, Ec2Tag } from "./types.ts";

/** The format this version writes and reads. */
export const EC2_SIM_STATE_VERSION = "aws-cni-ec2-sim/1";

/** A whole simulated account as plain data; `Ec2Simulation.exportState()` returns it. */
export interface Ec2SimState {
  readonly version: typeof EC2_SIM_STATE_VERSION;
  readonly seed: number;
  readonly vpc: {
    readonly vpcId: string;
    readonly cidrBlock: string;
    readonly ownerId: string;
    readonly defaultGroupId: string;
  };
  readonly attachLatency: LatencyModel;
  readonly detachLatency: LatencyModel;
  readonly maxUnattachedIpv4PerEni: number;
  /** Ids drawn so far per kind ("eni", "i", "mac", "request", ...). */
  readonly idCounters: Readonly<Record<string, number>>;
  /** The last ENI sequence number (describe order and page tokens). */
  readonly lastEniSeq: number;
  /** Positions of the seeded streams: attach/detach latencies and rate faults. */
  readonly random: { readonly latency: number; readonly faults: number };
  readonly instanceTypes: readonly InstanceTypeState[];
  readonly subnets: readonly SubnetState[];
  /** In launch order. */
  readonly instances: readonly InstanceState[];
  /** In creation order (ascending `seq`). */
  readonly networkInterfaces: readonly NetworkInterfaceState[];
}

/** A registered instance type. */
export interface InstanceTypeState {
  readonly instanceType: string;
  readonly maxEnis: number;
  readonly ipv4PerEni: number;
  readonly hypervisor: "nitro" | "xen";
  readonly bareMetal: boolean;
}

/** A subnet and which of its addresses are taken. */
export interface SubnetState {
  readonly subnetId: string;
  readonly cidrBlock: string;
  readonly availabilityZone: string;
  readonly tags: readonly Ec2Tag[];
  /** Taken addresses as inclusive offset ranges from the subnet base; reserved ones left out. */
  readonly takenRanges: readonly (readonly [number, number])[];
}

/** An instance; which ENIs it holds follows from their attachments. */
export interface InstanceState {
  readonly instanceId: string;
  readonly reservationId: string;
  readonly instanceType: string;
  readonly subnetId: string;
  readonly groups: readonly string[];
  readonly launchTimeMs: number;
  readonly privateIpAddress: string;
  readonly state: "running" | "terminated";
  readonly tags: readonly Ec2Tag[];
}

/** An ENI. */
export interface NetworkInterfaceState {
  readonly networkInterfaceId: string;
  readonly seq: number;
  readonly subnetId: string;
  readonly description: string;
  readonly groups: readonly string[];
  readonly tags: readonly Ec2Tag[];
  readonly macAddress: string;
  readonly privateIpAddress: string;
  /** In assignment order. */
  readonly secondaryPrivateIpAddresses: readonly string[];
  /** `a.b.c.d/28`, in assignment order. */
  readonly ipv4Prefixes: readonly string[];
  readonly sourceDestCheck: boolean;
  readonly attachment: AttachmentState | null;
}

/** An ENI's attachment; `readyAtMs` is when an `attaching` or `detaching` phase completes. */
export interface AttachmentState {
  readonly attachmentId: string;
  readonly instanceId: string;
  readonly deviceIndex: number;
  readonly attachTimeMs: number;
  readonly deleteOnTermination: boolean;
  readonly status: AttachmentStatus;
  readonly readyAtMs: number;
}

/** What the records do not hold: the seed and the fault stream's position. */
export interface SnapshotExtras {
  readonly seed: number;
  readonly faultsPosition: number;
}

/** Takes the state as fresh plain data, without settling due transitions first. */
export function snapshotSimState(state: SimState, extras: SnapshotExtras): Ec2SimState {
  const { settings } = state;
  return {
    version: EC2_SIM_STATE_VERSION,
    seed: extras.seed,
    vpc: {
      vpcId: settings.vpcId,
      cidrBlock: formatCidr(settings.vpcCidr),
      ownerId: settings.ownerId,
      defaultGroupId: settings.defaultGroupId,
    },
    attachLatency: { ...settings.attachLatency },
    detachLatency: { ...settings.detachLatency },
    maxUnattachedIpv4PerEni: settings.maxUnattachedIpv4PerEni,
    idCounters: state.ids.counters(),
    lastEniSeq: state.lastSeq,
    random: { latency: state.latencyRandom.position, faults: extras.faultsPosition },
    instanceTypes: [...state.instanceTypes.values()].map((type) => ({ ...type })),
    subnets: [...state.subnets.values()].map((subnet) => ({
      subnetId: subnet.subnetId,
      cidrBlock: subnet.cidrBlock,
      availabilityZone: subnet.availabilityZone,
      tags: tagList(subnet.tags),
      takenRanges: subnet.pool.takenRanges(),
    })),
    instances: [...state.instances.values()].map((instance) => ({
      instanceId: instance.instanceId,
      reservationId: instance.reservationId,
      instanceType: instance.type.instanceType,
      subnetId: instance.subnet.subnetId,
      groups: [...instance.groups],
      launchTimeMs: instance.launchTimeMs,
      privateIpAddress: formatIpv4(instance.privateIp),
      state: instance.state,
      tags: tagList(instance.tags),
    })),
    networkInterfaces: [...state.enis.values()].map((eni) => ({
      networkInterfaceId: eni.networkInterfaceId,
      seq: eni.seq,
      subnetId: eni.subnet.subnetId,
      description: eni.description,
      groups: [...eni.groups],
      tags: tagList(eni.tags),
      macAddress: eni.macAddress,
      privateIpAddress: formatIpv4(eni.primaryIp),
      secondaryPrivateIpAddresses: eni.secondaryIps.map(formatIpv4),
      ipv4Prefixes: eni.prefixes.map((base) => formatCidr({ base, bits: 28 })),
      sourceDestCheck: eni.sourceDestCheck,
      attachment: eni.attachment === null ? null : {
        attachmentId: eni.attachment.attachmentId,
        instanceId: eni.attachment.instance.instanceId,
        deviceIndex: eni.attachment.deviceIndex,
        attachTimeMs: eni.attachment.attachTimeMs,
        deleteOnTermination: eni.attachment.deleteOnTermination,
        status: eni.attachment.phase,
        readyAtMs: eni.attachment.readyAtMs,
      },
    })),
  };
}

/** Tags in insertion order, which restoring keeps. */
function tagList(tags: ReadonlyMap<string, string>): Ec2Tag[] {
  return [...tags].map(([key, value]) => ({ key, value }));
}
