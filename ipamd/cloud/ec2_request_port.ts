/**
 * The EC2 requests `SdkEc2Port` builds its steps from, as a port: `Ec2Requests`
 * sends them through the AWS SDK within the request budget; simulations answer
 * them from a simulated account, so the adapter's own steps (device index, kept
 * ENIs, IMDS wait) run unchanged there.
 *
 * @module
 */
import type { AddressRequest } from "./ec2_port.ts";
import type { CreateEniInput } from "./ec2_sdk_requests.ts";
import type { EniRecord } from "./eni_directory.ts";

export type { CreateEniInput };

/** One method per EC2 request; failures are `CloudError`s. */
export interface Ec2RequestPort {
  /** CreateNetworkInterface; the new ENI is `available`. */
  createEni(input: CreateEniInput): Promise<EniRecord>;
  /** DescribeInstances for one instance: the device indexes its ENIs hold. */
  usedDeviceIndexes(instanceId: string): Promise<Set<number>>;
  /** AttachNetworkInterface; returns the attachment id. */
  attach(eniId: string, at: { readonly instanceId: string; readonly deviceIndex: number }): Promise<string>;
  /** ModifyNetworkInterfaceAttribute: the ENI goes with the instance. */
  markDeleteOnTermination(eniId: string, attachmentId: string): Promise<void>;
  /** AssignPrivateIpAddresses by count; returns the new CIDRs (`/32`s or `/28`s) as EC2 listed them. */
  assign(eniId: string, request: AddressRequest): Promise<string[]>;
  /** UnassignPrivateIpAddresses: secondary IPs (without `/32`) or `/28` prefixes, not both. */
  unassign(
    eniId: string,
    addresses: { ips?: readonly string[]; prefixes?: readonly string[] },
  ): Promise<void>;
  /** DetachNetworkInterface. */
  detach(attachmentId: string): Promise<void>;
  /** DeleteNetworkInterface; an ENI already gone counts as deleted. */
  deleteEni(eniId: string): Promise<void>;
  /** DescribeNetworkInterfaces by id; ids EC2 does not know are left out. */
  describeEnis(eniIds: readonly string[]): Promise<EniRecord[]>;
}
