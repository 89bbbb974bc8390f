/**
 * The messages of the plugin-ipamd contract (`ipamd.proto`), as plain records.
 * Decoded messages always have every field (proto3 defaults for absent ones).
 * Field comments give the protobuf field number.
 *
 * @module
 */

/** The gRPC package and service of the CNI contract. */
export const CNI_BACKEND_SERVICE = "rpc.CNIBackend";
/** The gRPC health service. */
export const HEALTH_SERVICE = "grpc.health.v1.Health";

/** HTTP/2 paths of every method we serve or call. */
export const RpcPath = {
  ADD_NETWORK: `/${CNI_BACKEND_SERVICE}/AddNetwork`,
  DEL_NETWORK: `/${CNI_BACKEND_SERVICE}/DelNetwork`,
  LIST_ALLOCATIONS: `/${CNI_BACKEND_SERVICE}/ListAllocations`,
  HEALTH_CHECK: `/${HEALTH_SERVICE}/Check`,
  HEALTH_WATCH: `/${HEALTH_SERVICE}/Watch`,
} as const;

/** The plugin asks for addresses for one pod interface. */
export interface AddNetworkRequest {
  /** 8: the plugin's build version; ipamd may refuse a mismatch. */
  readonly clientVersion: string;
  /** 1: K8S_POD_NAME from CNI_ARGS. */
  readonly podName: string;
  /** 2: K8S_POD_NAMESPACE. */
  readonly podNamespace: string;
  /** 3: K8S_POD_INFRA_CONTAINER_ID. */
  readonly podInfraContainerId: string;
  /** 4: CNI_NETNS. */
  readonly netns: string;
  /** 5: CNI_IFNAME. */
  readonly ifName: string;
  /** 6: the netconf's network name. */
  readonly networkName: string;
  /** 7: CNI_CONTAINERID. */
  readonly containerId: string;
  /** 9: the pod asked for one interface per network card. */
  readonly requiresMultiNicAttachment: boolean;
}

/** One address handed to (or released from) a pod. */
export interface IpAllocationMetadata {
  /** 1: dotted IPv4 address, or empty. */
  readonly ipv4Addr: string;
  /** 2: IPv6 address, or empty. */
  readonly ipv6Addr: string;
  /** 3: device number of the ENI holding the address. */
  readonly deviceNumber: number;
  /** 4: route table for the pod's traffic (254 = main). */
  readonly routeTableId: number;
}

/** ipamd's answer to AddNetwork. */
export interface AddNetworkReply {
  /** 1 */
  readonly success: boolean;
  /** 2: one entry per interface to set up. */
  readonly ipAllocations: readonly IpAllocationMetadata[];
  /** 5 */
  readonly useExternalSnat: boolean;
  /** 6: VPC IPv4 CIDRs plus SNAT-exclusion CIDRs. */
  readonly vpcV4Cidrs: readonly string[];
  /** 7: branch-ENI VLAN (security groups for pods); 0 otherwise. */
  readonly podVlanId: number;
  /** 8 */
  readonly podEniMac: string;
  /** 9 */
  readonly podEniSubnetGw: string;
  /** 10 */
  readonly parentIfIndex: number;
  /** 12 */
  readonly vpcV6Cidrs: readonly string[];
  /** 13 */
  readonly networkPolicyMode: string;
}

/** The plugin tells ipamd a pod interface is gone. */
export interface DelNetworkRequest {
  /** 1 */
  readonly podName: string;
  /** 2 */
  readonly podNamespace: string;
  /** 3 */
  readonly podInfraContainerId: string;
  /** 5: e.g. "PodDeleted" or "SetupNSFailed". */
  readonly reason: string;
  /** 6 */
  readonly ifName: string;
  /** 7 */
  readonly networkName: string;
  /** 8 */
  readonly containerId: string;
  /** 9 */
  readonly clientVersion: string;
  /** 10: K8S_POD_UID. */
  readonly podUid: string;
}

/** ipamd's answer to DelNetwork. */
export interface DelNetworkReply {
  /** 1 */
  readonly success: boolean;
  /** 2: the addresses released. */
  readonly ipAllocations: readonly IpAllocationMetadata[];
  /** 4 */
  readonly podVlanId: number;
  /** 6 */
  readonly networkPolicyMode: string;
}

/** Asks for every allocation ipamd holds (ours; not in the reference contract). */
export interface ListAllocationsRequest {
  /** 1: only this network's; "" means every network. */
  readonly networkName: string;
}

/** One pod interface and the address it holds. */
export interface PodAllocation {
  /** 1 */
  readonly containerId: string;
  /** 2 */
  readonly ifName: string;
  /** 3 */
  readonly networkName: string;
  /** 4 */
  readonly ipv4Addr: string;
}

/** ipamd's answer to ListAllocations. */
export interface ListAllocationsReply {
  /** 1 */
  readonly allocations: readonly PodAllocation[];
}

/** grpc.health.v1.HealthCheckRequest. */
export interface HealthCheckRequest {
  /** 1: the service to ask about; "" means the whole server. */
  readonly service: string;
}

/** grpc.health.v1.HealthCheckResponse.ServingStatus. */
export const ServingStatus = {
  UNKNOWN: 0,
  SERVING: 1,
  NOT_SERVING: 2,
  /** Only sent by Watch. */
  SERVICE_UNKNOWN: 3,
} as const;

/** A serving status number. Unknown numbers from a newer peer are kept as they are. */
export type ServingStatus = number;

/**
 * The health service ipamd registers for the plugin's STATUS: SERVING while it has
 * a free address or can get more, NOT_SERVING when the pool is empty and cannot
 * grow. Against an ipamd without it, STATUS falls back to the whole server's health ("").
 */
export const POOL_HEALTH_SERVICE = "aws-cni.pool";

/** grpc.health.v1.HealthCheckResponse. */
export interface HealthCheckResponse {
  /** 1 */
  readonly status: ServingStatus;
}
