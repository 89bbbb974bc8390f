/**
 * The EC2 requests `SdkEc2Port` builds its steps from, one method each, sent
 * within the budget and answered in our terms. `SdkEniDirectory` adds the reads
 * and writes of the node lifecycle.
 *
 * @module
 */
import {
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  UnassignPrivateIpAddressesCommand,
} from "./ec2_sdk_api.ts";
import type { AddressRequest } from "./ec2_port.ts";
import type { EniRecord } from "./eni_directory.ts";
import type { Ec2Sender } from "./ec2_sdk_client.ts";
import { eniRecordFromSdk, sdkTags } from "./ec2_sdk_views.ts";
import { CloudError } from "./errors.ts";

/** CreateNetworkInterface's parameters. */
export interface CreateEniInput {
  readonly subnetId: string;
  readonly description: string;
  readonly securityGroupIds: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  readonly secondaryIps: number;
  readonly prefixes: number;
  /** Makes a resent request create nothing more (EC2's idempotency token). */
  readonly clientToken: string;
}

const MUTATING = { unfilteredUnpaginated: false, idempotent: false } as const;
/** A request safe to send again after a timeout or 5xx. */
export const IDEMPOTENT = { unfilteredUnpaginated: false, idempotent: true } as const;

/** One method per EC2 request, within the budget; failures are `CloudError`s. */
export class Ec2Requests {
  readonly #ec2: Ec2Sender;

  constructor(sender: Ec2Sender) {
    this.#ec2 = sender;
  }

  /** CreateNetworkInterface; the new ENI is `available`. */
  async createEni(input: CreateEniInput): Promise<EniRecord> {
    const created = await this.#ec2.send("CreateNetworkInterface", IDEMPOTENT, (client) =>
      client.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: input.subnetId,
          Description: input.description,
          Groups: [...input.securityGroupIds],
          ClientToken: input.clientToken,
          TagSpecifications: [{ ResourceType: "network-interface", Tags: sdkTags(input.tags) }],
          ...(input.secondaryIps > 0 ? { SecondaryPrivateIpAddressCount: input.secondaryIps } : {}),
          ...(input.prefixes > 0 ? { Ipv4PrefixCount: input.prefixes } : {}),
        }),
      ));
    if (created.NetworkInterface?.NetworkInterfaceId === undefined) {
      throw new CloudError("unavailable", "EmptyAnswer", "CreateNetworkInterface answered without an ENI");
    }
    return eniRecordFromSdk(created.NetworkInterface);
  }

  /** DescribeInstances for one instance: the device indexes its ENIs hold. */
  async usedDeviceIndexes(instanceId: string): Promise<Set<number>> {
    const shape = { unfilteredUnpaginated: true, idempotent: true };
    const answer = await this.#ec2.send(
      "DescribeInstances",
      shape,
      (client) => client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
    );
    const instance = answer.Reservations?.[0]?.Instances?.[0];
    if (instance === undefined) {
      throw new CloudError(
        "not-found",
        "InvalidInstanceID.NotFound",
        `Instance "${instanceId}" is not described`,
      );
    }
    return new Set((instance.NetworkInterfaces ?? []).map((eni) => eni.Attachment?.DeviceIndex ?? -1));
  }

  /** AttachNetworkInterface; returns the attachment id. */
  async attach(
    eniId: string,
    at: { readonly instanceId: string; readonly deviceIndex: number },
  ): Promise<string> {
    const { instanceId, deviceIndex } = at;
    const answer = await this.#ec2.send("AttachNetworkInterface", MUTATING, (client) =>
      client.send(
        new AttachNetworkInterfaceCommand({
          NetworkInterfaceId: eniId,
          InstanceId: instanceId,
          DeviceIndex: deviceIndex,
        }),
      ));
    return answer.AttachmentId ?? "";
  }

  /** ModifyNetworkInterfaceAttribute: the ENI goes with the instance. */
  async markDeleteOnTermination(eniId: string, attachmentId: string): Promise<void> {
    await this.#ec2.send("ModifyNetworkInterfaceAttribute", IDEMPOTENT, (client) =>
      client.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: eniId,
          Attachment: { AttachmentId: attachmentId, DeleteOnTermination: true },
        }),
      ));
  }

  /** ModifyNetworkInterfaceAttribute: the ENI's security groups. */
  async setGroups(eniId: string, groups: readonly string[]): Promise<void> {
    await this.#ec2.send(
      "ModifyNetworkInterfaceAttribute",
      IDEMPOTENT,
      (client) =>
        client.send(
          new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: [...groups] }),
        ),
    );
  }

  /** AssignPrivateIpAddresses by count; returns the new CIDRs (`/32`s or `/28`s). */
  async assign(eniId: string, { count, prefixes }: AddressRequest): Promise<string[]> {
    const answer = await this.#ec2.send("AssignPrivateIpAddresses", MUTATING, (client) =>
      client.send(
        new AssignPrivateIpAddressesCommand(
          prefixes
            ? { NetworkInterfaceId: eniId, Ipv4PrefixCount: count }
            : { NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: count },
        ),
      ));
    return [
      ...(answer.AssignedPrivateIpAddresses ?? []).flatMap((ip) =>
        ip.PrivateIpAddress === undefined ? [] : [`${ip.PrivateIpAddress}/32`]
      ),
      ...(answer.AssignedIpv4Prefixes ?? []).flatMap((p) => p.Ipv4Prefix === undefined ? [] : [p.Ipv4Prefix]),
    ];
  }

  /** UnassignPrivateIpAddresses: secondary IPs (without `/32`) or `/28` prefixes, not both. */
  async unassign(
    eniId: string,
    addresses: { ips?: readonly string[]; prefixes?: readonly string[] },
  ): Promise<void> {
    await this.#ec2.send("UnassignPrivateIpAddresses", MUTATING, (client) =>
      client.send(
        new UnassignPrivateIpAddressesCommand({
          NetworkInterfaceId: eniId,
          ...(addresses.ips === undefined ? {} : { PrivateIpAddresses: [...addresses.ips] }),
          ...(addresses.prefixes === undefined ? {} : { Ipv4Prefixes: [...addresses.prefixes] }),
        }),
      ));
  }

  /** DetachNetworkInterface. */
  async detach(attachmentId: string): Promise<void> {
    await this.#ec2.send(
      "DetachNetworkInterface",
      IDEMPOTENT,
      (client) => client.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachmentId })),
    );
  }

  /** DeleteNetworkInterface; an ENI already gone counts as deleted. */
  async deleteEni(eniId: string): Promise<void> {
    try {
      await this.#ec2.send(
        "DeleteNetworkInterface",
        IDEMPOTENT,
        (client) => client.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eniId })),
      );
    } catch (error) {
      if (!(error instanceof CloudError && error.kind === "not-found")) throw error;
    }
  }

  /** DescribeNetworkInterfaces by id; ids EC2 does not know are left out. */
  async describeEnis(eniIds: readonly string[]): Promise<EniRecord[]> {
    let ids = [...new Set(eniIds)];
    // EC2 fails the whole call for an unknown id and names it; drop those and ask again.
    while (ids.length > 0) {
      try {
        const shape = { unfilteredUnpaginated: true, idempotent: true };
        const answer = await this.#ec2.send(
          "DescribeNetworkInterfaces",
          shape,
          (client) => client.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ids })),
        );
        return (answer.NetworkInterfaces ?? []).map(eniRecordFromSdk);
      } catch (error) {
        if (!(error instanceof CloudError && error.kind === "not-found")) throw error;
        const missing = new Set(error.message.match(/eni-[0-9a-z]+/g) ?? []);
        const left = ids.filter((id) => !missing.has(id));
        if (left.length === ids.length) throw error;
        ids = left;
      }
    }
    return [];
  }
}
