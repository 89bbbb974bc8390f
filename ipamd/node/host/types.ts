/**
 * The host network port: what ipamd asks of the node's own network namespace.
 * Every call is idempotent and converges the namespace to the state described
 * by its arguments, so the daemon can simply call it again on each reconcile.
 *
 * @module
 */

/** How SNAT picks source ports: `--random-fully`, `--random`, or neither. */
export type SnatRandomization = "prng" | "hashrandom" | "none";

/** Node-wide settings: the primary ENI, the SNAT and connmark rules, the fwmark rule. */
export interface HostSetup {
  /** The primary ENI's link name (eth0, ens5, ...). */
  readonly primaryIf: string;
  /** The node's primary IPv4 address: the SNAT source. */
  readonly primaryIp: string;
  /** The VPC's IPv4 CIDRs: traffic to them is neither SNATed nor connmarked. */
  readonly vpcCidrs: readonly string[];
  /** AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS. */
  readonly excludeSnatCidrs: readonly string[];
  /** AWS_VPC_K8S_CNI_EXTERNALSNAT: no SNAT and no connmark-for-SNAT rules. */
  readonly externalSnat: boolean;
  /** AWS_VPC_K8S_CNI_RANDOMIZESNAT. */
  readonly randomizeSnat: SnatRandomization;
  /** AWS_VPC_CNI_NODE_PORT_SUPPORT: the mangle connmark rules. */
  readonly nodePortSupport: boolean;
  /** AWS_VPC_K8S_CNI_CONNMARK, e.g. 0x80. */
  readonly connmark: number;
  /** AWS_VPC_K8S_CNI_VETHPREFIX: pod veths match `<prefix>+`. */
  readonly vethPrefix: string;
  /** AWS_VPC_ENI_MTU for the primary ENI. */
  readonly eniMtu: number;
  /** AWS_EXTERNAL_SERVICE_CIDRS: `to <cidr> lookup main` at priority 1535. Default none. */
  readonly externalServiceCidrs?: readonly string[];
}

/** A secondary ENI (device number above 0). `AttachedEni` from the EC2 port fits as it is. */
export interface EniSetup {
  readonly mac: string;
  /** The ENI's own primary address (gets the subnet mask on the link). */
  readonly primaryIp: string;
  /** The ENI subnet, e.g. 10.0.1.0/24; its first address plus one is the gateway. */
  readonly subnetCidr: string;
  readonly deviceNumber: number;
  /** Link MTU; default the `HostNetwork`'s `eniMtu` (9001). */
  readonly mtu?: number;
  /** For log lines only. */
  readonly eniId?: string;
}

/** What identifies a freed ENI's routing state. */
export interface EniTeardown {
  readonly deviceNumber: number;
  readonly primaryIp: string;
  /** For log lines only. */
  readonly eniId?: string;
}

/** One ENI `syncEnis` could not set up. */
export interface EniSyncFailure {
  readonly deviceNumber: number;
  readonly error: Error;
}

/** The port. */
export interface HostNetworkPort {
  /** Primary MTU, fwmark and external-service rules, rp_filter, iptables nat/mangle rules. */
  setupHost(host: HostSetup): Promise<void>;
  /** Link (by MAC) MTU, up, address; route table device+1; rule at priority 32765. */
  setupEni(eni: EniSetup): Promise<void>;
  /** Removes the ENI's rules and flushes its route table. Missing state is success. */
  teardownEni(eni: EniTeardown): Promise<void>;
  /**
   * Sets up every ENI in `enis` (device 0 is skipped) and tears down the tables of
   * ENIs that are no longer listed. Failures are collected, not thrown.
   */
  syncEnis(enis: readonly EniSetup[]): Promise<readonly EniSyncFailure[]>;
  /** The link name that carries `mac`, waiting for it to appear; throws `LinkNotFoundError`. */
  linkByMac(mac: string): Promise<string>;
}

/** Rule priority of `from <ENI primary IP> lookup <table>`. */
export const ENI_RULE_PRIORITY = 32765;
/** Rule priority of `fwmark <mark>/<mark> lookup main`. */
export const FWMARK_RULE_PRIORITY = 1024;
/** Rule priority of `to <external service CIDR> lookup main`. */
export const EXTERNAL_SERVICE_RULE_PRIORITY = 1535;

/** Route table of a device on network card 0: device number + 1 (the primary uses main). */
export function eniRouteTable(deviceNumber: number): number {
  if (!Number.isInteger(deviceNumber) || deviceNumber < 1 || deviceNumber > 250) {
    throw new RangeError(`Invalid ENI device number "${deviceNumber}": must be 1–250`);
  }
  return deviceNumber + 1;
}
