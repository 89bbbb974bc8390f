/**
 * Records as EC2 describes them (fresh plain objects, safe to hand out), and the
 * filter names each describe action supports.
 *
 * @module
 */

import { formatCidr, formatIpv4 } from "../../shared/mod.ts";
import type { FilterTarget } from "./filters.ts";
import type { EniRecord, InstanceRecord, InstanceTypeRecord, SimState, SubnetRecord } from "./state.ts";
import type { Ec2Tag, InstanceTypeView, InstanceView, NetworkInterfaceView, SubnetView } from "./types.ts";

/** One ENI as DescribeNetworkInterfaces shows it. */
export function eniView(state: SimState, eni: EniRecord): NetworkInterfaceView {
  const attachment = eni.attachment;
  const view: NetworkInterfaceView = {
    networkInterfaceId: eni.networkInterfaceId,
    subnetId: eni.subnet.subnetId,
    vpcId: state.settings.vpcId,
    availabilityZone: eni.subnet.availabilityZone,
    description: eni.description,
    ownerId: state.settings.ownerId,
    requesterManaged: false,
    status: state.status(eni),
    macAddress: eni.macAddress,
    privateIpAddress: formatIpv4(eni.primaryIp),
    sourceDestCheck: eni.sourceDestCheck,
    interfaceType: "interface",
    groups: eni.groups.map((groupId) => ({ groupId })),
    tagSet: tagList(eni.tags),
    privateIpAddresses: [
      { privateIpAddress: formatIpv4(eni.primaryIp), primary: true },
      ...eni.secondaryIps.map((ip) => ({ privateIpAddress: formatIpv4(ip), primary: false })),
    ],
    ipv4Prefixes: eni.prefixes.map((base) => ({ ipv4Prefix: formatCidr({ base, bits: 28 }) })),
  };
  if (attachment === null) return view;
  return {
    ...view,
    attachment: {
      attachmentId: attachment.attachmentId,
      instanceId: attachment.instance.instanceId,
      instanceOwnerId: state.settings.ownerId,
      deviceIndex: attachment.deviceIndex,
      networkCardIndex: 0,
      status: attachment.phase,
      attachTime: new Date(attachment.attachTimeMs).toISOString(),
      deleteOnTermination: attachment.deleteOnTermination,
    },
  };
}

/** One instance as DescribeInstances shows it. */
export function instanceView(state: SimState, instance: InstanceRecord): InstanceView {
  const running = instance.state === "running";
  return {
    instanceId: instance.instanceId,
    instanceType: instance.type.instanceType,
    placement: { availabilityZone: instance.subnet.availabilityZone },
    privateIpAddress: formatIpv4(instance.privateIp),
    subnetId: instance.subnet.subnetId,
    vpcId: state.settings.vpcId,
    state: running ? { code: 16, name: "running" } : { code: 48, name: "terminated" },
    launchTime: new Date(instance.launchTimeMs).toISOString(),
    securityGroups: instance.groups.map((groupId) => ({ groupId })),
    networkInterfaces: [...instance.devices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, eni]) => eniView(state, eni)),
  };
}

/** One subnet as DescribeSubnets shows it. */
export function subnetView(state: SimState, subnet: SubnetRecord): SubnetView {
  return {
    subnetId: subnet.subnetId,
    vpcId: state.settings.vpcId,
    cidrBlock: subnet.cidrBlock,
    availabilityZone: subnet.availabilityZone,
    availableIpAddressCount: subnet.pool.availableCount,
    state: "available",
    tagSet: tagList(subnet.tags),
  };
}

/** One instance type as DescribeInstanceTypes shows it. */
export function instanceTypeView(type: InstanceTypeRecord): InstanceTypeView {
  return {
    instanceType: type.instanceType,
    hypervisor: type.hypervisor,
    bareMetal: type.bareMetal,
    networkInfo: {
      maximumNetworkInterfaces: type.maxEnis,
      maximumNetworkCards: 1,
      defaultNetworkCardIndex: 0,
      ipv4AddressesPerInterface: type.ipv4PerEni,
    },
  };
}

function tagList(tags: ReadonlyMap<string, string>): Ec2Tag[] {
  return [...tags.entries()].map(([key, value]) => ({ key, value }));
}

/** DescribeNetworkInterfaces' filters. */
export function eniFilterTarget(state: SimState): FilterTarget<EniRecord> {
  return {
    tags: (eni) => eni.tags,
    fields: {
      "network-interface-id": (eni) => [eni.networkInterfaceId],
      "status": (eni) => [state.status(eni)],
      "vpc-id": () => [state.settings.vpcId],
      "subnet-id": (eni) => [eni.subnet.subnetId],
      "availability-zone": (eni) => [eni.subnet.availabilityZone],
      "description": (eni) => [eni.description],
      "mac-address": (eni) => [eni.macAddress],
      "group-id": (eni) => eni.groups,
      "owner-id": () => [state.settings.ownerId],
      "private-ip-address": (eni) => [eni.primaryIp, ...eni.secondaryIps].map(formatIpv4),
      "addresses.private-ip-address": (eni) => [eni.primaryIp, ...eni.secondaryIps].map(formatIpv4),
      "ipv4-prefix": (eni) => eni.prefixes.map((base) => formatCidr({ base, bits: 28 })),
      "attachment.instance-id": (eni) => optional(eni.attachment?.instance.instanceId),
      "attachment.attachment-id": (eni) => optional(eni.attachment?.attachmentId),
      "attachment.status": (eni) => optional(eni.attachment?.phase),
      "attachment.device-index": (eni) => optional(eni.attachment?.deviceIndex.toString()),
      "attachment.delete-on-termination": (eni) => optional(eni.attachment?.deleteOnTermination.toString()),
    },
  };
}

/** DescribeSubnets' filters. */
export function subnetFilterTarget(state: SimState): FilterTarget<SubnetRecord> {
  return {
    tags: (subnet) => subnet.tags,
    fields: {
      "subnet-id": (subnet) => [subnet.subnetId],
      "vpc-id": () => [state.settings.vpcId],
      "availability-zone": (subnet) => [subnet.availabilityZone],
      "cidr-block": (subnet) => [subnet.cidrBlock],
      "state": () => ["available"],
    },
  };
}

/** DescribeInstances' filters. */
export function instanceFilterTarget(state: SimState): FilterTarget<InstanceRecord> {
  return {
    tags: (instance) => instance.tags,
    fields: {
      "instance-id": (instance) => [instance.instanceId],
      "instance-type": (instance) => [instance.type.instanceType],
      "instance-state-name": (instance) => [instance.state],
      "subnet-id": (instance) => [instance.subnet.subnetId],
      "vpc-id": () => [state.settings.vpcId],
      "availability-zone": (instance) => [instance.subnet.availabilityZone],
      "network-interface.network-interface-id": (instance) =>
        [...instance.devices.values()].map((eni) => eni.networkInterfaceId),
    },
  };
}

function optional(value: string | undefined): string[] {
  return value === undefined ? [] : [value];
}
