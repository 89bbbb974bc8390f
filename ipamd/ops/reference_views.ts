/**
 * The reference's introspection documents, field for field: `/v1/enis` (the
 * datastore as Go's encoding/json writes `ENIInfos` per network card),
 * `/v1/ipamd-env-settings` and `/v1/networkutils-env-settings` (the active
 * settings, typed as the reference's `GetConfigForDebug` returns them).
 *
 * @module
 */
import { formatIpv4, parseCidr, parseIpv4 } from "../../shared/mod.ts";
import { routeTableFor } from "../rpc/mod.ts";
import type { IpamdConfig } from "../config/mod.ts";
import { type Datastore, scaleDownWindowMs } from "../pool/mod.ts";

/** Go's zero `time.Time`. */
const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

/** One address the datastore has used, as the reference's `AddressInfo`. */
export interface AddressInfoJson {
  readonly Address: string;
  readonly IPAMKey: { readonly networkName: string; readonly containerID: string; readonly ifName: string };
  readonly IPAMMetadata: { readonly k8sPodNamespace?: string; readonly k8sPodName?: string };
  readonly AssignedTime: string;
  readonly UnassignedTime: string;
}

/** A secondary IP or prefix, as the reference's `CidrInfo` (`Cidr` is a Go `net.IPNet`). */
export interface CidrInfoJson {
  readonly Cidr: { readonly IP: string; readonly Mask: string };
  readonly IPAddresses: Record<string, AddressInfoJson>;
  readonly IsPrefix: boolean;
  readonly AddressFamily: "4";
}

/** One ENI, as the reference's `ENI`. */
export interface EniJson {
  readonly ID: string;
  readonly IsPrimary: boolean;
  readonly IsTrunk: boolean;
  readonly IsEFA: boolean;
  readonly DeviceNumber: number;
  readonly AvailableIPv4Cidrs: Record<string, CidrInfoJson>;
  readonly IPv6Cidrs: Record<string, CidrInfoJson>;
  readonly IsExcludedForPodIPs: boolean;
  readonly RouteTableID: number;
  readonly SubnetID: string;
}

/** `/v1/enis`: `ENIInfos` keyed by network card (only card 0 here). */
export type EniInfosJson = Record<string, {
  readonly TotalIPs: number;
  readonly AssignedIPs: number;
  readonly ENIs: Record<string, EniJson>;
}>;

/** A Go `net.IPMask` is a byte slice, which encoding/json writes in base64. */
function maskBase64(bits: number): string {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return btoa(String.fromCharCode(mask >>> 24, (mask >>> 16) & 255, (mask >>> 8) & 255, mask & 255));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Builds `/v1/enis` from the datastore; container IDs and interface names are blank, as since v1.23.0. */
export function eniInfos(
  datastore: Datastore,
  options: { nowMs: number; subnetOf: (eniId: string) => string },
): EniInfosJson {
  const stats = datastore.stats(options.nowMs);
  const cidrs: { info: CidrInfoJson; base: number; size: number }[] = [];
  const enis: Record<string, EniJson> = {};
  for (const eni of datastore.enis()) {
    const available: Record<string, CidrInfoJson> = {};
    for (const text of eni.cidrs) {
      const cidr = parseCidr(text);
      const info = {
        Cidr: { IP: formatIpv4(cidr.base), Mask: maskBase64(cidr.bits) },
        IPAddresses: {},
        IsPrefix: cidr.bits !== 32,
        AddressFamily: "4" as const,
      };
      available[text] = info;
      cidrs.push({ info, base: cidr.base, size: 2 ** (32 - cidr.bits) });
    }
    enis[eni.eniId] = {
      ID: eni.eniId,
      IsPrimary: eni.primary,
      IsTrunk: false,
      IsEFA: false,
      DeviceNumber: eni.deviceNumber,
      AvailableIPv4Cidrs: available,
      IPv6Cidrs: {},
      IsExcludedForPodIPs: false,
      RouteTableID: routeTableFor(eni.deviceNumber),
      SubnetID: options.subnetOf(eni.eniId),
    };
  }
  const place = (ip: string, entry: AddressInfoJson) => {
    const address = parseIpv4(ip);
    const home = cidrs.find((c) => address >= c.base && address < c.base + c.size);
    if (home !== undefined) home.info.IPAddresses[ip] = entry;
  };
  for (const allocation of datastore.allocations()) {
    const { podNamespace, podName } = allocation.meta;
    place(allocation.ip, {
      Address: allocation.ip,
      IPAMKey: { networkName: allocation.key.networkName, containerID: "", ifName: "" },
      IPAMMetadata: {
        ...(podNamespace === "" ? {} : { k8sPodNamespace: podNamespace }),
        ...(podName === "" ? {} : { k8sPodName: podName }),
      },
      AssignedTime: iso(allocation.assignedAtMs),
      UnassignedTime: GO_ZERO_TIME,
    });
  }
  for (const { ip, sinceMs } of datastore.coolingEntries(options.nowMs)) {
    place(ip, {
      Address: ip,
      IPAMKey: { networkName: "", containerID: "", ifName: "" },
      IPAMMetadata: {},
      AssignedTime: GO_ZERO_TIME,
      UnassignedTime: iso(sinceMs),
    });
  }
  const infos: EniInfosJson = { "0": { TotalIPs: stats.total, AssignedIPs: stats.assigned, ENIs: enis } };
  return infos;
}

/** `/v1/ipamd-env-settings`: the reference's keys (features it lacks are false), then ours. */
export function ipamdEnvSettings(config: IpamdConfig): Record<string, number | boolean> {
  const { pool } = config;
  return {
    WARM_IP_TARGET: pool.warmIpTarget,
    WARM_ENI_TARGET: pool.warmEniTarget,
    AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: pool.customNetworking,
    AWS_MANAGE_ENIS_NON_SCHEDULABLE: false,
    ENABLE_SUBNET_DISCOVERY: config.subnetDiscovery,
    MINIMUM_IP_TARGET: pool.minimumIpTarget,
    WARM_PREFIX_TARGET: pool.warmPrefixTarget,
    ENABLE_PREFIX_DELEGATION: pool.prefixDelegation,
    MAX_ENI: pool.maxEni,
    IP_COOLDOWN_PERIOD: pool.ipCooldownMs / 1000,
    POOL_SCALE_DOWN_WINDOW: scaleDownWindowMs(pool) / 1000,
    POOL_SUBNET_AWARE: pool.subnetAware,
  };
}

/** The reference's `snatType` enum: sequentialSNAT, randomHashSNAT, randomPRNGSNAT. */
const SNAT_TYPE: Readonly<Record<IpamdConfig["randomizeSnat"], number>> = { none: 0, hashrandom: 1, prng: 2 };

/** `/v1/networkutils-env-settings`, typed as the reference's networkutils `GetConfigForDebug`. */
export function networkutilsEnvSettings(config: IpamdConfig): Record<string, unknown> {
  return {
    AWS_VPC_K8S_CNI_CONNMARK: config.connmark,
    AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS: [...config.excludeSnatCidrs],
    AWS_VPC_K8S_CNI_EXTERNALSNAT: config.externalSnat,
    AWS_EXTERNAL_SERVICE_CIDRS: [...config.externalServiceCidrs],
    AWS_VPC_ENI_MTU: config.eniMtu,
    AWS_VPC_K8S_CNI_VETHPREFIX: config.vethPrefix,
    AWS_VPC_CNI_NODE_PORT_SUPPORT: config.nodePortSupport,
    AWS_VPC_K8S_CNI_RANDOMIZESNAT: SNAT_TYPE[config.randomizeSnat],
  };
}
