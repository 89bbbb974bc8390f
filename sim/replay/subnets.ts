/**
 * Several subnets in a replay's account, shared by all its nodes: the layout a
 * workload asks for (the nodes' subnet first, then pod subnets tagged
 * kubernetes.io/role/cni), the daemon's own `EniPlacement` over the simulated
 * account for our nodes (subnet discovery, and the subnets' free addresses
 * for subnet-aware targets), and the reference's subnet choice in `AllocENI`.
 *
 * @module
 */
import type { SubnetRecord } from "../../ipamd/cloud/mod.ts";
import { CNI_ROLE_TAG, EniPlacement } from "../../ipamd/node/mod.ts";
import type { PoolSettings } from "../../ipamd/pool/mod.ts";
import { silentLogger } from "../../shared/mod.ts";
import type { Ec2Simulation, SubnetView } from "../ec2/mod.ts";

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

function record(view: SubnetView): SubnetRecord {
  return {
    subnetId: view.subnetId,
    cidr: view.cidrBlock,
    availableIps: view.availableIpAddressCount,
    vpcId: view.vpcId,
    zone: view.availabilityZone,
    tags: Object.fromEntries(view.tagSet.map((tag) => [tag.key, tag.value])),
  };
}

/** The daemon's `EniPlacement` for one node, its DescribeSubnets calls going through `sim` (a counting view). */
export function ourPlacement(
  sim: Ec2Simulation,
  node: { readonly eniId: string; readonly mac: string; readonly settings: PoolSettings },
): Promise<EniPlacement> {
  const primary = {
    mac: node.mac,
    eniId: node.eniId,
    subnetId: replaySubnetId(0),
    vpcId: sim.vpcId,
    securityGroupIds: ["sg-0123456789abcdef0"],
  };
  return EniPlacement.open({
    config: { pool: node.settings, eniConfigSubnets: {}, eniConfigSecurityGroups: [], subnetDiscovery: true },
    directory: {
      describeSubnet: (subnetId) =>
        Promise.resolve(sim.describeSubnets({ subnetIds: [subnetId] }).subnets.map(record)[0] ?? null),
      describeSubnets: (filters) => Promise.resolve(sim.describeSubnets({ filters }).subnets.map(record)),
    },
    imds: { eni: () => Promise.resolve(null) },
    primary,
    zone: REPLAY_ZONE,
    log: silentLogger,
  });
}

/**
 * The reference's subnet discovery (`AllocENI` with ENABLE_SUBNET_DISCOVERY): of the
 * subnets DescribeSubnets listed, the primary or one tagged kubernetes.io/role/cni
 * (not "0") with the most free addresses.
 */
export function referenceSubnet(subnets: readonly SubnetView[], primarySubnetId: string): string {
  const usable = subnets.map(record).filter((s) =>
    s.tags[CNI_ROLE_TAG] !== "0" && (s.subnetId === primarySubnetId || CNI_ROLE_TAG in s.tags)
  ).sort((a, b) => b.availableIps - a.availableIps);
  return usable[0]?.subnetId ?? primarySubnetId;
}
