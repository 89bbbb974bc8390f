/**
 * The pool's view of EC2, in domain terms. One real adapter (the AWS SDK) and one
 * in-memory adapter (the simulation) implement it; the reconciler sees only this.
 *
 * @module
 */

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
