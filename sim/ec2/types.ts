/**
 * Requests, results and views of the EC2 simulation, in EC2's own field names
 * (camelCased Query-protocol names), as plain data. No SDK types.
 *
 * @module
 */
import type { Ec2Action } from "../../ipamd/cloud/mod.ts";

import type { Clock } from "../../shared/mod.ts";
import type { LatencyModel } from "./random.ts";

/** The EC2 actions the simulation answers through its gate (faults, throttling, request ids): those ipamd calls. */
export type { Ec2Action };

/** A resource tag. */
export interface Ec2Tag {
  readonly key: string;
  readonly value: string;
}

/** Filters by name; values within one name are ORed, names are ANDed; `*` and `?` are wildcards. */
export type Ec2Filters = Readonly<Record<string, readonly string[]>>;

/** Every successful call answers with a request id. */
export interface Ec2Response {
  readonly requestId: string;
}

/** ENI status as DescribeNetworkInterfaces reports it. */
export type EniStatus = "available" | "attaching" | "in-use" | "detaching";

/** Attachment status as DescribeNetworkInterfaces reports it. */
export type AttachmentStatus = "attaching" | "attached" | "detaching";

/** An ENI's attachment to an instance. */
export interface AttachmentView {
  readonly attachmentId: string;
  readonly instanceId: string;
  readonly instanceOwnerId: string;
  readonly deviceIndex: number;
  readonly networkCardIndex: number;
  readonly status: AttachmentStatus;
  /** ISO 8601. */
  readonly attachTime: string;
  readonly deleteOnTermination: boolean;
}

/** One ENI, shaped like DescribeNetworkInterfaces' `networkInterfaceSet` items. */
export interface NetworkInterfaceView {
  readonly networkInterfaceId: string;
  readonly subnetId: string;
  readonly vpcId: string;
  readonly availabilityZone: string;
  readonly description: string;
  readonly ownerId: string;
  readonly requesterManaged: boolean;
  readonly status: EniStatus;
  readonly macAddress: string;
  readonly privateIpAddress: string;
  readonly sourceDestCheck: boolean;
  readonly interfaceType: "interface";
  readonly groups: readonly { readonly groupId: string }[];
  /** Absent while the ENI is not attached. */
  readonly attachment?: AttachmentView;
  readonly tagSet: readonly Ec2Tag[];
  /** The primary address first, then secondaries in assignment order. */
  readonly privateIpAddresses: readonly { readonly privateIpAddress: string; readonly primary: boolean }[];
  readonly ipv4Prefixes: readonly { readonly ipv4Prefix: string }[];
}

/** One instance, shaped like DescribeInstances' `instancesSet` items. */
export interface InstanceView {
  readonly instanceId: string;
  readonly instanceType: string;
  readonly placement: { readonly availabilityZone: string };
  readonly privateIpAddress: string;
  readonly subnetId: string;
  readonly vpcId: string;
  readonly state: { readonly code: number; readonly name: "running" | "terminated" };
  /** ISO 8601. */
  readonly launchTime: string;
  readonly securityGroups: readonly { readonly groupId: string }[];
  /** Attached ENIs (any attachment status), by device index. */
  readonly networkInterfaces: readonly NetworkInterfaceView[];
}

/** A reservation holding one launched instance. */
export interface ReservationView {
  readonly reservationId: string;
  readonly ownerId: string;
  readonly instances: readonly InstanceView[];
}

/** One subnet, shaped like DescribeSubnets' `subnetSet` items. */
export interface SubnetView {
  readonly subnetId: string;
  readonly vpcId: string;
  readonly cidrBlock: string;
  readonly availabilityZone: string;
  /** Addresses not yet taken, the 5 reserved ones excluded. */
  readonly availableIpAddressCount: number;
  readonly state: "available";
  readonly tagSet: readonly Ec2Tag[];
}

/** One instance type, shaped like DescribeInstanceTypes' `instanceTypeSet` items. */
export interface InstanceTypeView {
  readonly instanceType: string;
  readonly hypervisor: "nitro" | "xen";
  readonly bareMetal: boolean;
  readonly networkInfo: {
    readonly maximumNetworkInterfaces: number;
    readonly maximumNetworkCards: number;
    readonly defaultNetworkCardIndex: number;
    readonly ipv4AddressesPerInterface: number;
  };
}

/** An instance type the simulation knows, with its limits. */
export interface InstanceTypeSpec {
  readonly instanceType: string;
  /** ENIs per instance (default network card). */
  readonly maxEnis: number;
  /** IPv4 addresses per ENI, primary included; each /28 prefix takes one. */
  readonly ipv4PerEni: number;
  readonly hypervisor?: "nitro" | "xen";
  readonly bareMetal?: boolean;
}

/** A subnet of the simulated VPC. */
export interface SubnetSpec {
  readonly subnetId: string;
  /** `a.b.c.d/n`, inside the VPC CIDR, /16 to /28. */
  readonly cidr: string;
  readonly availabilityZone: string;
  readonly tags?: readonly Ec2Tag[];
}

/** Launches one instance; `maxEnis`/`ipv4PerEni` register its type unless it is known already. */
export interface LaunchInstanceRequest {
  readonly instanceType: string;
  readonly maxEnis?: number;
  readonly ipv4PerEni?: number;
  readonly subnetId: string;
  readonly securityGroups?: readonly string[];
}

/** The ids of a launched instance and its primary ENI. */
export interface LaunchInstanceResult {
  readonly instanceId: string;
  readonly reservationId: string;
  readonly networkInterfaceId: string;
  readonly privateIpAddress: string;
  readonly macAddress: string;
}

/** What terminating an instance did to its ENIs. */
export interface TerminateInstanceResult {
  readonly instanceId: string;
  /** Delete-on-termination ENIs, now gone. */
  readonly deletedNetworkInterfaceIds: readonly string[];
  /** The other ENIs, now `available` (leaked unless someone cleans them up). */
  readonly detachedNetworkInterfaceIds: readonly string[];
}

/** A successful change `onMutation` listeners hear of: a mutating action or a harness operation. */
export type Ec2Mutation =
  | Exclude<Ec2Action, `Describe${string}`>
  | "LaunchInstance"
  | "TerminateInstance"
  | "RegisterInstanceType"
  | "ReleaseAttaches";

/** How to build a simulated account. */
export interface Ec2SimulationOptions {
  readonly vpcCidr: string;
  readonly subnets: readonly SubnetSpec[];
  readonly seed: number;
  readonly clock: Clock;
  /** Default: derived from the seed. */
  readonly vpcId?: string;
  /** The 12-digit account id; default derived from the seed. */
  readonly ownerId?: string;
  readonly instanceTypes?: readonly InstanceTypeSpec[];
  readonly attachLatency?: LatencyModel;
  readonly detachLatency?: LatencyModel;
  /** The IPv4 limit of an ENI not attached to any instance (default 50). */
  readonly maxUnattachedIpv4PerEni?: number;
}
