/**
 * The simulated account behind one cloud process: a VPC with the given
 * subnets, the instance type's limits registered, and one running instance
 * (the node) launched in the first subnet with its primary ENI at device 0.
 *
 * @module
 */
import { type Clock, formatIpv4, parseCidr } from "../../shared/mod.ts";
import { instanceLimits, lookupInstanceType } from "../../ipamd/limits/mod.ts";
import { Ec2Simulation, type LatencyModel } from "../ec2/mod.ts";
import type { CloudOptions } from "./flags.ts";

/** The node's subnet id; the others get ids derived from it. */
export const NODE_SUBNET_ID = "subnet-0a1b2c3d4e5f60718";

/** The node's security group. */
export const NODE_SECURITY_GROUP = "sg-0123456789abcdef0";

const AVAILABILITY_ZONE = "us-west-2a";

/** The account and the node in it. */
export interface CloudAccount {
  readonly sim: Ec2Simulation;
  readonly instanceId: string;
  readonly instanceType: string;
  readonly primaryEniId: string;
  readonly primaryMac: string;
  /** `a.b.c.d/n`: the primary address with its subnet's prefix length, as DHCP gives it. */
  readonly primaryAddress: string;
  /** The node subnet's router (its first address), as DHCP gives it. */
  readonly gateway: string;
  readonly subnetId: string;
}

/** The id of the `index`th subnet: the node's first. */
export function subnetIdOf(index: number): string {
  return index === 0 ? NODE_SUBNET_ID : `subnet-0a1b2c3d4e5f6${String(index).padStart(4, "0")}`;
}

/** Builds the account and launches the node; throws UnknownInstanceTypeError or RangeError. */
export function createCloudAccount(
  options: Pick<
    CloudOptions,
    | "instanceType"
    | "vpcCidr"
    | "subnetCidrs"
    | "attachLatencyMs"
    | "detachLatencyMs"
    | "apiLatencyMs"
    | "seed"
  >,
  clock: Clock,
): CloudAccount {
  const info = lookupInstanceType(options.instanceType);
  const limits = instanceLimits(info, { prefixDelegation: false });
  const fixed = (ms: number | null): LatencyModel | undefined =>
    ms === null ? undefined : { kind: "fixed", ms };
  const attachLatency = fixed(options.attachLatencyMs);
  const detachLatency = fixed(options.detachLatencyMs);
  const sim = new Ec2Simulation({
    vpcCidr: options.vpcCidr,
    subnets: options.subnetCidrs.map((cidr, index) => ({
      subnetId: subnetIdOf(index),
      cidr,
      availabilityZone: AVAILABILITY_ZONE,
    })),
    seed: options.seed,
    clock,
    ...(attachLatency === undefined ? {} : { attachLatency }),
    ...(detachLatency === undefined ? {} : { detachLatency }),
  });
  sim.registerInstanceType({
    instanceType: info.name,
    maxEnis: limits.maxEnis,
    ipv4PerEni: limits.ipv4PerEni,
  });
  const launched = sim.launchInstance({
    instanceType: info.name,
    subnetId: NODE_SUBNET_ID,
    securityGroups: [NODE_SECURITY_GROUP],
  });
  for (const [action, ms] of options.apiLatencyMs) sim.knobs.setLatencyMs(action, ms);
  const subnet = parseCidr(options.subnetCidrs[0] ?? "");
  return {
    sim,
    instanceId: launched.instanceId,
    instanceType: info.name,
    primaryEniId: launched.networkInterfaceId,
    primaryMac: launched.macAddress,
    primaryAddress: `${launched.privateIpAddress}/${subnet.bits}`,
    gateway: formatIpv4(subnet.base + 1),
    subnetId: NODE_SUBNET_ID,
  };
}
