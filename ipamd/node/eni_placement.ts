/**
 * Where a new ENI goes and with which security groups. Custom networking: the
 * subnet ENI_CONFIG_SUBNETS names for the node's zone (checked at start to lie in
 * the node's VPC and zone) with ENI_CONFIG_SECURITY_GROUPS, else the primary
 * ENI's groups. Otherwise, with subnet discovery, the subnet of the node's VPC and
 * zone, tagged kubernetes.io/role/cni=1 or the primary's, with the most free
 * addresses (=0 excludes one; a failed look falls back to the primary's), with the
 * primary ENI's groups, which `refresh` keeps current from IMDS and applies to the
 * managed ENIs, as the reference does. It also keeps the free addresses of these
 * subnets for subnet-aware targets (POOL_SUBNET_AWARE).
 *
 * @module
 */
import { errorText, type Logger } from "../../shared/mod.ts";
import {
  Ec2Requests,
  type EniDirectory,
  type ImdsEni,
  type ImdsPort,
  type SubnetRecord,
} from "../cloud/mod.ts";
import type { IpamdConfig } from "../config/mod.ts";

export const CNI_ROLE_TAG = "kubernetes.io/role/cni";

/** A new ENI's subnet and security groups. */
export interface Placement {
  readonly subnetId: string;
  readonly securityGroupIds: readonly string[];
}

/** What placement reads: the settings, the subnets and, for the groups, the primary ENI in IMDS. */
export interface PlacementOptions {
  readonly config: Pick<
    IpamdConfig,
    "pool" | "eniConfigSubnets" | "eniConfigSecurityGroups" | "subnetDiscovery"
  >;
  readonly directory: Pick<EniDirectory, "describeSubnet" | "describeSubnets">;
  readonly imds: Pick<ImdsPort, "eni">;
  readonly primary: Pick<ImdsEni, "mac" | "eniId" | "subnetId" | "vpcId" | "securityGroupIds">;
  readonly zone: string;
  readonly log: Logger;
}

/** Decides the placement of new ENIs for one node. */
export class EniPlacement {
  readonly #o: PlacementOptions;
  readonly #custom: SubnetRecord | null;
  #groups: readonly string[];
  /** The last subnet chosen, for `status`. */
  last: SubnetRecord | null = null;
  /** Free addresses by subnet id, as EC2 last said. */
  readonly #free = new Map<string, number>();
  #refreshes = 0;

  private constructor(options: PlacementOptions, custom: SubnetRecord | null) {
    this.#o = options;
    this.#custom = this.last = custom;
    this.#groups = options.primary.securityGroupIds;
  }

  /** Checks custom networking's subnet; a missing zone entry, or a subnet in another zone or VPC, throws a RangeError. */
  static async open(options: PlacementOptions): Promise<EniPlacement> {
    const { config, zone, primary } = options;
    if (!config.pool.customNetworking) return new EniPlacement(options, null);
    const subnetId = config.eniConfigSubnets[zone] ?? config.eniConfigSubnets["*"];
    const where = `ENI_CONFIG_SUBNETS`;
    if (subnetId === undefined) throw new RangeError(`${where} has no subnet for the node's zone ${zone}`);
    const subnet = await options.directory.describeSubnet(subnetId);
    if (subnet === null) throw new RangeError(`${where} names ${subnetId}, which EC2 does not know`);
    if (subnet.vpcId !== primary.vpcId || subnet.zone !== zone) {
      throw new RangeError(
        `${where} names ${subnetId} in ${subnet.vpcId} ${subnet.zone}, not the node's ${primary.vpcId} ${zone}`,
      );
    }
    return new EniPlacement(options, subnet);
  }

  /** The subnet and groups of the next new ENI. */
  async place(): Promise<Placement> {
    const { config, primary, log } = this.#o;
    if (this.#custom !== null) {
      const groups = config.eniConfigSecurityGroups;
      return { subnetId: this.#custom.subnetId, securityGroupIds: groups.length > 0 ? groups : this.#groups };
    }
    const fallback = { subnetId: primary.subnetId, securityGroupIds: this.#groups };
    if (!config.subnetDiscovery) return fallback;
    try {
      await this.#discover();
    } catch (error) {
      log.warn("subnet discovery failed; the new ENI goes to the primary subnet", {
        error: errorText(error),
      });
      return fallback;
    }
    const subnetId = this.last?.subnetId ?? primary.subnetId;
    log.info("subnet for a new ENI", { subnetId, availableIps: this.last?.availableIps ?? -1 });
    return { subnetId, securityGroupIds: this.#groups };
  }

  /** Subnet discovery: the allowed subnets of the node's VPC and zone, the one with the most free addresses last. */
  async #discover(): Promise<void> {
    const { primary, directory, zone } = this.#o;
    const subnets = await directory.describeSubnets({
      "vpc-id": [primary.vpcId],
      "availability-zone": [zone],
    });
    const usable = subnets.filter((s) =>
      s.tags[CNI_ROLE_TAG] !== "0" && (s.subnetId === primary.subnetId || CNI_ROLE_TAG in s.tags)
    ).sort((a, b) => b.availableIps - a.availableIps);
    for (const subnet of usable) this.#free.set(subnet.subnetId, subnet.availableIps);
    this.last = usable[0] ?? null;
  }

  /** Free addresses in every subnet new addresses may come from; Infinity before the first look. */
  get total(): number {
    return this.#free.size === 0 ? Infinity : [...this.#free.values()].reduce((sum, n) => sum + n, 0);
  }

  /** Free addresses in subnet `subnetId`, or where the next ENI goes (null); Infinity when not known. */
  free(subnetId: string | null): number {
    return this.#free.get(subnetId ?? this.last?.subnetId ?? this.#o.primary.subnetId) ?? Infinity;
  }

  /**
   * Re-reads the primary ENI's groups and, with `subnets`, the subnets' free addresses every minute (every 10
   * with over 4096 free); a change of groups goes to every managed ENI (not with custom networking).
   */
  async refresh(
    enis: readonly { eniId: string }[],
    setGroups: (eniId: string, groups: readonly string[]) => Promise<void>,
    subnets: boolean,
  ): Promise<void> {
    subnets &&= this.#refreshes++ % (this.total > 4096 ? 20 : 2) === 0; // a big subnet: every 10 min
    if (subnets && this.#custom === null && this.#o.config.subnetDiscovery) await this.#discover();
    else if (subnets) {
      const subnet = await this.#o.directory.describeSubnet(
        this.#custom?.subnetId ?? this.#o.primary.subnetId,
      );
      if (subnet !== null) this.#free.set(subnet.subnetId, subnet.availableIps);
    }
    const now = (await this.#o.imds.eni(this.#o.primary.mac))?.securityGroupIds ?? this.#groups;
    if (now.length === 0 || [...now].sort().join() === [...this.#groups].sort().join()) return;
    if (this.#custom === null) {
      for (const { eniId } of enis.filter((eni) => eni.eniId !== this.#o.primary.eniId)) {
        await setGroups(eniId, now);
      }
    }
    this.#o.log.info("security groups of the primary ENI changed", { groups: now.join(",") });
    this.#groups = now;
  }
}

/** EC2 requests whose new ENIs go where `placement` says. */
export class PlacedEc2Requests extends Ec2Requests {
  placement: EniPlacement | null = null;

  override async createEni(
    input: Parameters<Ec2Requests["createEni"]>[0],
  ): ReturnType<Ec2Requests["createEni"]> {
    return await super.createEni({ ...input, ...await this.placement?.place() });
  }
}
