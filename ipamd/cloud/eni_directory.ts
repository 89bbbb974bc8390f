/**
 * The node lifecycle's view of EC2, in our terms: ENIs as DescribeNetworkInterfaces
 * reports them (tags, type, status, attachment), and the few reads and writes
 * that discovery, reconciliation and leaked-ENI cleanup make. The SDK adapter
 * implements `EniDirectory`; nothing here knows SDK shapes.
 *
 * @module
 */
import type { DescribedInstanceType } from "../limits/mod.ts";

/** ENI tag: the instance that created (and manages) the ENI. */
export const INSTANCE_ID_TAG = "node.k8s.amazonaws.com/instance_id";
/** ENI tag: when it was created, RFC 3339 in UTC, whole seconds. */
export const CREATED_AT_TAG = "node.k8s.amazonaws.com/createdAt";
/** ENI tag: the cluster, when CLUSTER_NAME is set. */
export const CLUSTER_NAME_TAG = "cluster.k8s.amazonaws.com/name";
/** ENI tag set by users: leave this ENI alone. */
export const NO_MANAGE_TAG = "node.k8s.amazonaws.com/no_manage";
/** Interface types ipamd never puts pods on. */
export const UNMANAGED_INTERFACE_TYPES: ReadonlySet<string> = new Set(["efa", "efa-only", "trunk"]);
/** Every ENI ipamd creates is described `aws-K8S-<instance id>`. */
export const ENI_DESCRIPTION_PREFIX = "aws-K8S-";

/** An ENI's attachment, as EC2 reports it. */
export interface EniAttachment {
  readonly attachmentId: string;
  readonly instanceId: string;
  readonly deviceIndex: number;
  /** attaching | attached | detaching | detached */
  readonly status: string;
}

/** One ENI as EC2 describes it. */
export interface EniRecord {
  readonly eniId: string;
  readonly mac: string;
  /** available | attaching | in-use | detaching */
  readonly status: string;
  /** interface | efa | efa-only | trunk | branch | … */
  readonly interfaceType: string;
  readonly description: string;
  readonly subnetId: string;
  readonly vpcId: string;
  readonly primaryIp: string;
  /** Secondary IPs as `a.b.c.d/32`, then /28 prefixes. */
  readonly cidrs: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  readonly attachment: EniAttachment | null;
}

/** A subnet's facts. */
export interface SubnetRecord {
  readonly subnetId: string;
  readonly cidr: string;
  readonly availableIps: number;
  readonly vpcId: string;
  readonly zone: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** Filters by name (values ORed, names ANDed), as EC2 takes them. */
export type EniFilters = Readonly<Record<string, readonly string[]>>;

/** The EC2 reads and writes of the node lifecycle. Every method may reject with a `CloudError`. */
export interface EniDirectory {
  /** The ENIs with these ids; ids EC2 does not know are left out. */
  describeEnis(eniIds: readonly string[]): Promise<EniRecord[]>;
  /** Every ENI matching `filters`, all pages. */
  listEnis(filters: EniFilters): Promise<EniRecord[]>;
  /** Deletes an unattached ENI; one that is already gone counts as deleted. */
  deleteEni(eniId: string): Promise<void>;
  /** Adds or overwrites tags on an ENI. */
  tagEni(eniId: string, tags: Readonly<Record<string, string>>): Promise<void>;
  /** An instance type's limits, or null when EC2 does not know it. */
  describeInstanceType(instanceType: string): Promise<DescribedInstanceType | null>;
  /** A subnet, or null when EC2 does not know it. */
  describeSubnet(subnetId: string): Promise<SubnetRecord | null>;
  /** The subnets matching `filters`. */
  describeSubnets(filters: EniFilters): Promise<SubnetRecord[]>;
}

/** RFC 3339 in UTC without fractions, as the createdAt tag holds it. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}
