/**
 * `DryRunner` over the SDK: each of the ten actions that take `DryRun`, sent
 * with the node's own ids (its instance, type, subnet, security groups, primary
 * ENI and that ENI's attachment) so that EC2 judges the request as it would the
 * real one. EC2 changes nothing on a dry run.
 *
 * @module
 */
import {
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateTagsCommand,
  DeleteNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DetachNetworkInterfaceCommand,
  type EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
} from "./ec2_sdk_api.ts";
import type { Ec2Action } from "./ec2_actions.ts";
import type { Ec2Sender } from "./ec2_sdk_client.ts";
import { IDEMPOTENT } from "./ec2_sdk_requests.ts";
import type { DryRunner } from "./iam_check.ts";
import type { _InstanceType } from "./ec2_sdk_api.ts";

/** The node's ids the dry runs name. */
export interface DryRunFacts {
  readonly instanceId: string;
  readonly instanceType: string;
  readonly subnetId: string;
  readonly securityGroupIds: readonly string[];
  readonly primaryEniId: string;
  /** The primary ENI's attachment, when DescribeNetworkInterfaces told it. */
  readonly primaryAttachmentId: () => Promise<string | null>;
}

/** A stand-in attachment id for when the real one cannot be read (EC2 may then answer NotFound instead). */
const NO_ATTACHMENT = "eni-attach-00000000000000000";
const DryRun = true;

type Send = (client: EC2Client) => Promise<unknown>;
type DryRunAction = Exclude<Ec2Action, "AssignPrivateIpAddresses" | "UnassignPrivateIpAddresses">;

/** Each action's dry run, from the node's ids and its primary ENI's attachment. */
const REQUESTS: Readonly<Record<DryRunAction, (f: DryRunFacts, AttachmentId: string) => Send>> = {
  DescribeInstances: (f) => (c) =>
    c.send(new DescribeInstancesCommand({ DryRun, InstanceIds: [f.instanceId] })),
  DescribeInstanceTypes: (f) => (c) =>
    c.send(new DescribeInstanceTypesCommand({ DryRun, InstanceTypes: [f.instanceType as _InstanceType] })),
  DescribeNetworkInterfaces: (f) => (c) =>
    c.send(new DescribeNetworkInterfacesCommand({ DryRun, NetworkInterfaceIds: [f.primaryEniId] })),
  DescribeSubnets: (f) => (c) => c.send(new DescribeSubnetsCommand({ DryRun, SubnetIds: [f.subnetId] })),
  CreateNetworkInterface: (f) => (c) =>
    c.send(
      new CreateNetworkInterfaceCommand({ DryRun, SubnetId: f.subnetId, Groups: [...f.securityGroupIds] }),
    ),
  AttachNetworkInterface: (f) => (c) =>
    c.send(
      new AttachNetworkInterfaceCommand({
        DryRun,
        NetworkInterfaceId: f.primaryEniId,
        InstanceId: f.instanceId,
        DeviceIndex: 1,
      }),
    ),
  DetachNetworkInterface: (_, AttachmentId) => (c) =>
    c.send(new DetachNetworkInterfaceCommand({ DryRun, AttachmentId })),
  ModifyNetworkInterfaceAttribute: (f, AttachmentId) => (c) =>
    c.send(
      new ModifyNetworkInterfaceAttributeCommand({
        DryRun,
        NetworkInterfaceId: f.primaryEniId,
        Attachment: { AttachmentId, DeleteOnTermination: true },
      }),
    ),
  DeleteNetworkInterface: (f) => (c) =>
    c.send(new DeleteNetworkInterfaceCommand({ DryRun, NetworkInterfaceId: f.primaryEniId })),
  CreateTags: (f) => (c) =>
    c.send(
      new CreateTagsCommand({
        DryRun,
        Resources: [f.primaryEniId],
        Tags: [{ Key: "node.k8s.amazonaws.com/instance_id", Value: f.instanceId }],
      }),
    ),
};

/** Dry runs of the node's EC2 calls. */
export class SdkDryRunner implements DryRunner {
  readonly #sender: Ec2Sender;
  readonly #facts: DryRunFacts;

  constructor(sender: Ec2Sender, facts: DryRunFacts) {
    this.#sender = sender;
    this.#facts = facts;
  }

  async dryRun(action: Ec2Action): Promise<void> {
    if (action === "AssignPrivateIpAddresses" || action === "UnassignPrivateIpAddresses") {
      throw new RangeError(`Cannot dry-run ${action}: EC2 takes no DryRun for it`);
    }
    const attached = action === "DetachNetworkInterface" || action === "ModifyNetworkInterfaceAttribute";
    const attachmentId = attached
      ? (await this.#facts.primaryAttachmentId()) ?? NO_ATTACHMENT
      : NO_ATTACHMENT;
    await this.#sender.send(action, IDEMPOTENT, REQUESTS[action](this.#facts, attachmentId));
  }
}
