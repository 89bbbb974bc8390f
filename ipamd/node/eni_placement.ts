/**
 * Where a new ENI goes, with which security groups. Custom networking: the subnet
 * ENI_CONFIG_SUBNETS names for the node's zone (checked at start to lie in its VPC
 * and zone) with ENI_CONFIG_SECURITY_GROUPS, else the primary ENI's groups. Else,
 * with subnet discovery, the subnet of the node's VPC and zone, tagged
 * kubernetes.io/role/cni=1 or the primary's, with the most free addresses (=0
 * excludes one; a failed look falls back to the primary's), with the primary ENI's
 * groups, which `refresh` re-reads from IMDS and applies to the managed ENIs as the
 * reference does. It keeps the subnets' free addresses for subnet-aware targets.
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
import type { SubnetRoom } from "../pool/mod.ts";

export const CNI_ROLE_TAG = "kubernetes.io/role/cni";

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
  /** The subnet new ENIs go to, as last chosen. */
  last: SubnetRecord | null = null;
  /** Free addresses by subnet id, as EC2 last said. */
  readonly #free = new Map<string, number>();
  #refreshes = 0;

  private constructor(options: PlacementOptions, custom: SubnetRecord | null) {
    this.#o = options;
    this.#custom = this.last = custom;
    this.#groups = options.primary.securityGroupIds;
  }

  /** Checks custom networking's subnet: none for the zone, or one in another zone or VPC, is a RangeError. */
  static async open(options: PlacementOptions): Promise<EniPlacement> {
    const { config: { pool, eniConfigSubnets: subnets }, zone, primary } = options;
    if (!pool.customNetworking) return new EniPlacement(options, null);
    const id = subnets[zone] ?? subnets["*"];
    if (id === undefined) {
      throw new RangeError(`ENI_CONFIG_SUBNETS has no subnet for the node's zone ${zone}`);
    }
    const subnet = await options.directory.describeSubnet(id);
    const where = subnet === null ? "which EC2 does not know" : `in ${subnet.vpcId} ${subnet.zone}`;
    if (subnet?.vpcId !== primary.vpcId || subnet.zone !== zone) {
      throw new RangeError(
        `ENI_CONFIG_SUBNETS names ${id} ${where}, not the node's ${primary.vpcId} ${zone}`,
      );
    }
    return new EniPlacement(options, subnet);
  }

  /** The subnet and groups of the next new ENI. */
  async place(): Promise<{ subnetId: string; securityGroupIds: readonly string[] }> {
    const { config, primary, log } = this.#o;
    const groups = this.#custom && config.eniConfigSecurityGroups.length > 0
      ? config.eniConfigSecurityGroups
      : this.#groups;
    if (this.#custom === null && config.subnetDiscovery) {
      try {
        await this.#discover();
        log.info("subnet for a new ENI", {
          subnetId: this.last?.subnetId,
          availableIps: this.last?.availableIps,
        });
      } catch (error) {
        log.warn("subnet discovery failed; the new ENI goes to the primary subnet", {
          error: errorText(error),
        });
        this.last = null;
      }
    }
    return { subnetId: this.last?.subnetId ?? primary.subnetId, securityGroupIds: groups };
  }

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

  /** The subnets' free addresses as the pool reads them, an ENI's subnet id from `subnetOf` ("" unknown). */
  room(subnetOf: (eniId: string) => string): SubnetRoom {
    return {
      total: () => this.total,
      free: (eniId) => this.free(eniId === null ? null : subnetOf(eniId) || "?"),
    };
  }

  /**
   * Re-reads the primary ENI's groups and, with `subnets`, the subnets' free addresses every other call (every
   * 20th with over 4096 free); changed groups go to every managed ENI (not with custom networking).
   */
  async refresh(
    enis: readonly { eniId: string }[],
    setGroups: (eniId: string, groups: readonly string[]) => Promise<void>,
    subnets: boolean,
  ): Promise<void> {
    const { config, primary, directory, imds, log } = this.#o;
    if (subnets && this.#refreshes++ % (this.total > 4096 ? 20 : 2) === 0) {
      if (this.#custom === null && config.subnetDiscovery) await this.#discover();
      else {
        const subnet = await directory.describeSubnet(this.#custom?.subnetId ?? primary.subnetId);
        if (subnet !== null) this.#free.set(subnet.subnetId, subnet.availableIps);
      }
    }
    const now = (await imds.eni(primary.mac))?.securityGroupIds ?? [];
    if (now.length === 0 || [...now].sort().join() === [...this.#groups].sort().join()) return;
    for (const { eniId } of this.#custom ? [] : enis) {
      if (eniId !== primary.eniId) await setGroups(eniId, now);
    }
    log.info("security groups of the primary ENI changed", { groups: now.join(",") });
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
