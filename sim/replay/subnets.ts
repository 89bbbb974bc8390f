/**
 * Several subnets in a replay's account, shared by all its nodes: the layout a
 * workload asks for (the nodes' subnet first, then pod subnets tagged
 * kubernetes.io/role/cni), the daemon's own `EniPlacement` over the simulated
 * account for our nodes (subnet discovery, and the subnets' free addresses
 * for subnet-aware targets), and the reference's subnet choice in `AllocENI`.
 *
 * @module
 */
import { CNI_ROLE_TAG, EniPlacement } from "../../ipamd/node/mod.ts";
import type { PoolSettings } from "../../ipamd/pool/mod.ts";
import { silentLogger } from "../../shared/mod.ts";
import type { SubnetView } from "../ec2/mod.ts";
import { SimEc2Requests, subnetRecord } from "./sim_requests.ts";

/** One subnet of a replay's VPC. */
export interface ReplaySubnet {
  readonly cidr: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** The zone of every replay subnet and node. */
export const REPLAY_ZONE = "us-west-2a";

/** The node's subnet alone: a /16, as replays had before several subnets. */
export const ONE_BIG_SUBNET: readonly ReplaySubnet[] = [{ cidr: "10.0.0.0/16" }];

/** The id of the `index`th subnet, the nodes' first. */
export function replaySubnetId(index: number): string {
  return index === 0 ? "subnet-0a1b2c3d4e5f60718" : `subnet-0a1b2c3d4e5f6${String(index).padStart(4, "0")}`;
}

/** The daemon's `EniPlacement` for one node, its DescribeSubnets calls made as the node's own requests. */
export function ourPlacement(
  requests: SimEc2Requests,
  account: { readonly vpcId: string; readonly securityGroupIds: readonly string[] },
  node: { readonly eniId: string; readonly mac: string; readonly settings: PoolSettings },
): Promise<EniPlacement> {
  const { eniId, mac, settings } = node;
  const primary = { mac, eniId, subnetId: replaySubnetId(0), vpcId: account.vpcId, securityGroupIds: [] };
  return EniPlacement.open({
    config: { pool: settings, eniConfigSubnets: {}, eniConfigSecurityGroups: [], subnetDiscovery: true },
    directory: requests,
    imds: { eni: () => Promise.resolve(null) },
    primary: { ...primary, securityGroupIds: account.securityGroupIds },
    zone: REPLAY_ZONE,
    log: silentLogger,
  });
}

/** The node's requests, its new ENIs in the subnet placement picks (the daemon's PlacedEc2Requests). */
export class PlacedSimRequests extends SimEc2Requests {
  placement: Promise<EniPlacement> | null = null;

  override async createEni(
    input: Parameters<SimEc2Requests["createEni"]>[0],
  ): ReturnType<SimEc2Requests["createEni"]> {
    return await super.createEni({ ...input, ...await (await this.placement)?.place() });
  }
}

/**
 * The reference's subnet discovery (`AllocENI` with ENABLE_SUBNET_DISCOVERY): of the
 * subnets DescribeSubnets listed, the primary or one tagged kubernetes.io/role/cni
 * (not "0") with the most free addresses.
 */
export function referenceSubnet(subnets: readonly SubnetView[], primarySubnetId: string): string {
  const usable = subnets.map(subnetRecord).filter((s) =>
    s.tags[CNI_ROLE_TAG] !== "0" && (s.subnetId === primarySubnetId || CNI_ROLE_TAG in s.tags)
  ).sort((a, b) => b.availableIps - a.availableIps);
  return usable[0]?.subnetId ?? primarySubnetId;
}
