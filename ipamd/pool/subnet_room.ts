/**
 * Subnet-aware warm targets: from the free addresses of the subnets the pool
 * grows into, the spare addresses it keeps shrink as they near exhaustion
 * (a spare ENI becomes a few spare addresses, then none beyond waiting ADDs)
 * and grow back as they free. Pure arithmetic for the policy.
 *
 * @module
 */

/** Free addresses in the subnets the pool grows into, as last read from EC2. */
export interface SubnetRoom {
  /** Over every subnet the node may grow into (its ENIs' and where a new ENI goes). */
  total(): number;
  /** In the subnet of this ENI, or where a new ENI goes (null); Infinity when not known. */
  free(eniId: string | null): number;
}

/**
 * Free addresses no node keeps spare: they are left for pods that wait. Above them a node keeps at most
 * 1/16 of what is free, so a fleet of many nodes shares the rest without taking it all.
 */
export const SUBNET_RESERVE = 64;
export const SPARE_SHARE = 16;

/** The spare addresses the pool may keep with `total` free in its subnets, at most the targets' `wanted`. */
export function subnetSpare(wanted: number, total: number): number {
  return Math.min(wanted, Math.max(Math.floor((total - SUBNET_RESERVE) / SPARE_SHARE), 0));
}
