/**
 * The pool's view of EC2, in domain terms. One real adapter (the AWS SDK) and one
 * in-memory adapter (the simulation) implement it; the reconciler sees only this.
 *
 * @module
 */

import { formatCidr, parseCidr } from "../../shared/mod.ts";

/** An ENI attached to this node, with the addresses EC2 says it holds. */
export interface AttachedEni {
  readonly eniId: string;
  readonly deviceNumber: number;
  readonly primary: boolean;
  readonly mac: string;
  /** The ENI's own primary address (never handed to a pod). */
  readonly primaryIp: string;
  readonly subnetId: string;
  readonly subnetCidr: string;
  /** Secondary IPs as `a.b.c.d/32` and prefixes as `a.b.c.d/28`. */
  readonly cidrs: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

/** How many addresses to add, and of which kind. */
export interface AddressRequest {
  /** Secondary IPs, or /28 prefixes when `prefixes` is true. */
  readonly count: number;
  readonly prefixes: boolean;
}

/** Throws a RangeError unless `request.count` is a whole number of at least 0 (both adapters check this). */
export function checkAddressRequest(request: AddressRequest): void {
  if (!Number.isSafeInteger(request.count) || request.count < 0) {
    throw new RangeError(`Cannot request ${request.count} addresses: expected a whole number of at least 0`);
  }
}

/** `releaseAddresses`' CIDRs split for EC2: secondary IPs (without "/32") and /28 prefixes; anything else throws. */
export function splitReleaseCidrs(
  eniId: string,
  cidrs: readonly string[],
): { ips: string[]; prefixes: string[] } {
  const ips: string[] = [];
  const prefixes: string[] = [];
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (cidr.bits === 32) ips.push(formatCidr(cidr).slice(0, -"/32".length));
    else if (cidr.bits === 28) prefixes.push(formatCidr(cidr));
    else throw new RangeError(`Cannot release "${text}" from ENI "${eniId}": expected a /32 or a /28`);
  }
  return { ips, prefixes };
}

/** EC2 as the pool uses it. Every method may reject with a `CloudError`. */
export interface Ec2Port {
  /** The ENIs attached to this instance, by device number. */
  describeNode(): Promise<AttachedEni[]>;
  /** Creates an ENI in the node's subnet with addresses, attaches it at a free device index and marks it delete-on-termination. */
  createEni(request: AddressRequest): Promise<AttachedEni>;
  /** Adds addresses to an attached ENI and returns the CIDRs EC2 assigned. */
  assignAddresses(eniId: string, request: AddressRequest): Promise<string[]>;
  /** Returns secondary IPs or prefixes to EC2. */
  releaseAddresses(eniId: string, cidrs: readonly string[]): Promise<void>;
  /** Detaches and deletes an ENI. An ENI that is already gone counts as freed. */
  freeEni(eniId: string): Promise<void>;
}
