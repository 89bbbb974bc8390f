/**
 * Request and result shapes of the simulation's gated EC2 actions.
 *
 * @module
 */

import type {
  Ec2Filters,
  Ec2Response,
  Ec2Tag,
  InstanceTypeView,
  NetworkInterfaceView,
  ReservationView,
  SubnetView,
} from "./types.ts";

/** CreateNetworkInterface. */
export interface CreateNetworkInterfaceRequest {
  readonly subnetId: string;
  readonly description?: string;
  /** Security group ids; the VPC's default group when empty or absent. */
  readonly groups?: readonly string[];
  readonly tags?: readonly Ec2Tag[];
  readonly secondaryPrivateIpAddressCount?: number;
  readonly ipv4PrefixCount?: number;
}

/** CreateNetworkInterface's answer. */
export interface CreateNetworkInterfaceResult extends Ec2Response {
  readonly networkInterface: NetworkInterfaceView;
}

/** AttachNetworkInterface. */
export interface AttachNetworkInterfaceRequest {
  readonly networkInterfaceId: string;
  readonly instanceId: string;
  readonly deviceIndex: number;
  /** Only card 0 exists. */
  readonly networkCardIndex?: number;
}

/** AttachNetworkInterface's answer. */
export interface AttachNetworkInterfaceResult extends Ec2Response {
  readonly attachmentId: string;
  readonly networkCardIndex: number;
}

/** DetachNetworkInterface. `force` completes the detach at once. */
export interface DetachNetworkInterfaceRequest {
  readonly attachmentId: string;
  readonly force?: boolean;
}

/** ModifyNetworkInterfaceAttribute: exactly one attribute per call, as in EC2. */
export interface ModifyNetworkInterfaceAttributeRequest {
  readonly networkInterfaceId: string;
  readonly attachment?: { readonly attachmentId: string; readonly deleteOnTermination: boolean };
  readonly groups?: readonly string[];
  readonly description?: string;
  readonly sourceDestCheck?: boolean;
}

/** AssignPrivateIpAddresses: exactly one of the four forms. */
export interface AssignPrivateIpAddressesRequest {
  readonly networkInterfaceId: string;
  readonly secondaryPrivateIpAddressCount?: number;
  readonly privateIpAddresses?: readonly string[];
  readonly ipv4PrefixCount?: number;
  readonly ipv4Prefixes?: readonly string[];
}

/** AssignPrivateIpAddresses' answer. */
export interface AssignPrivateIpAddressesResult extends Ec2Response {
  readonly networkInterfaceId: string;
  readonly assignedPrivateIpAddresses: readonly string[];
  readonly assignedIpv4Prefixes: readonly string[];
}

/** UnassignPrivateIpAddresses. */
export interface UnassignPrivateIpAddressesRequest {
  readonly networkInterfaceId: string;
  readonly privateIpAddresses?: readonly string[];
  readonly ipv4Prefixes?: readonly string[];
}

/** DescribeNetworkInterfaces. `maxResults` (5 to 1000) cannot be combined with ids. */
export interface DescribeNetworkInterfacesRequest {
  readonly networkInterfaceIds?: readonly string[];
  readonly filters?: Ec2Filters;
  readonly maxResults?: number;
  readonly nextToken?: string;
}

/** DescribeNetworkInterfaces' answer; `nextToken` is absent on the last page. */
export interface DescribeNetworkInterfacesResult extends Ec2Response {
  readonly networkInterfaces: readonly NetworkInterfaceView[];
  readonly nextToken?: string;
}

/** DescribeInstances. */
export interface DescribeInstancesRequest {
  readonly instanceIds?: readonly string[];
  readonly filters?: Ec2Filters;
}

/** DescribeInstances' answer. */
export interface DescribeInstancesResult extends Ec2Response {
  readonly reservations: readonly ReservationView[];
}

/** DescribeSubnets. */
export interface DescribeSubnetsRequest {
  readonly subnetIds?: readonly string[];
  readonly filters?: Ec2Filters;
}

/** DescribeSubnets' answer. */
export interface DescribeSubnetsResult extends Ec2Response {
  readonly subnets: readonly SubnetView[];
}

/** DescribeInstanceTypes. */
export interface DescribeInstanceTypesRequest {
  readonly instanceTypes?: readonly string[];
}

/** DescribeInstanceTypes' answer. */
export interface DescribeInstanceTypesResult extends Ec2Response {
  readonly instanceTypes: readonly InstanceTypeView[];
}

/** CreateTags on ENIs, instances or subnets. */
export interface CreateTagsRequest {
  readonly resources: readonly string[];
  readonly tags: readonly Ec2Tag[];
}
