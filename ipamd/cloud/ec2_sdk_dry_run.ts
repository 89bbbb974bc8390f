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

/** Dry runs of the node's EC2 calls. */
export class SdkDryRunner implements DryRunner {
  readonly #sender: Ec2Sender;
  readonly #facts: DryRunFacts;

  constructor(sender: Ec2Sender, facts: DryRunFacts) {
    this.#sender = sender;
    this.#facts = facts;
  }

  async dryRun(action: Ec2Action): Promise<void> {
    const send = await this.#request(action);
    await this.#sender.send(action, IDEMPOTENT, send);
  }

  async #request(action: Ec2Action): Promise<(client: EC2Client) => Promise<unknown>> {
    const f = this.#facts;
    const DryRun = true;
    switch (action) {
      case "DescribeInstances":
        return (c) => c.send(new DescribeInstancesCommand({ DryRun, InstanceIds: [f.instanceId] }));
      case "DescribeInstanceTypes":
        return (c) =>
          c.send(
            new DescribeInstanceTypesCommand({ DryRun, InstanceTypes: [f.instanceType as _InstanceType] }),
          );
      case "DescribeNetworkInterfaces":
        return (c) =>
          c.send(new DescribeNetworkInterfacesCommand({ DryRun, NetworkInterfaceIds: [f.primaryEniId] }));
      case "DescribeSubnets":
        return (c) => c.send(new DescribeSubnetsCommand({ DryRun, SubnetIds: [f.subnetId] }));
      case "CreateNetworkInterface":
        return (c) =>
          c.send(
            new CreateNetworkInterfaceCommand({
              DryRun,
              SubnetId: f.subnetId,
              Groups: [...f.securityGroupIds],
            }),
          );
      case "AttachNetworkInterface":
        return (c) =>
          c.send(
            new AttachNetworkInterfaceCommand({
              DryRun,
              NetworkInterfaceId: f.primaryEniId,
              InstanceId: f.instanceId,
              DeviceIndex: 1,
            }),
          );
      case "DetachNetworkInterface": {
        const AttachmentId = (await f.primaryAttachmentId()) ?? NO_ATTACHMENT;
        return (c) => c.send(new DetachNetworkInterfaceCommand({ DryRun, AttachmentId }));
      }
      case "ModifyNetworkInterfaceAttribute": {
        const AttachmentId = (await f.primaryAttachmentId()) ?? NO_ATTACHMENT;
        return (c) =>
          c.send(
            new ModifyNetworkInterfaceAttributeCommand({
              DryRun,
              NetworkInterfaceId: f.primaryEniId,
              Attachment: { AttachmentId, DeleteOnTermination: true },
            }),
          );
      }
      case "DeleteNetworkInterface":
        return (c) =>
          c.send(new DeleteNetworkInterfaceCommand({ DryRun, NetworkInterfaceId: f.primaryEniId }));
      case "CreateTags":
        return (c) =>
          c.send(
            new CreateTagsCommand({
              DryRun,
              Resources: [f.primaryEniId],
              Tags: [{ Key: "node.k8s.amazonaws.com/instance_id", Value: f.instanceId }],
            }),
          );
      case "AssignPrivateIpAddresses":
      case "UnassignPrivateIpAddresses":
        throw new RangeError(`Cannot dry-run ${action}: EC2 takes no DryRun for it`);
    }
  }
}
