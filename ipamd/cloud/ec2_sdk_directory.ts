/**
 * The node lifecycle's `EniDirectory` over the SDK: ENI lookups by id and by
 * filter (every page), deletes, tags, instance types and subnets, within the
 * request budget.
 *
 * @module
 */
import {
  type _InstanceType,
  CreateTagsCommand,
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
} from "./ec2_sdk_api.ts";
import type { DescribedInstanceType } from "../limits/mod.ts";
import type { EniDirectory, EniFilters, EniRecord, SubnetRecord } from "./eni_directory.ts";
import type { Ec2Sender } from "./ec2_sdk_client.ts";
import { Ec2Requests, IDEMPOTENT } from "./ec2_sdk_requests.ts";
import { describedInstanceType, eniRecordFromSdk, sdkTags } from "./ec2_sdk_views.ts";
import { CloudError } from "./errors.ts";

/** EC2's largest DescribeNetworkInterfaces page. */
const MAX_PAGE_SIZE = 1000;

/** `EniDirectory` over the SDK. */
export class SdkEniDirectory implements EniDirectory {
  readonly #requests: Ec2Requests;
  readonly #sender: Ec2Sender;
  readonly #pageSize: number;

  /** `pageSize`: ENIs per DescribeNetworkInterfaces page when listing (5 to 1000, default 1000). */
  constructor(sender: Ec2Sender, options: { readonly pageSize?: number } = {}) {
    this.#requests = new Ec2Requests(sender);
    this.#sender = sender;
    this.#pageSize = options.pageSize ?? MAX_PAGE_SIZE;
  }

  describeEnis(eniIds: readonly string[]): Promise<EniRecord[]> {
    return this.#requests.describeEnis(eniIds);
  }

  deleteEni(eniId: string): Promise<void> {
    return this.#requests.deleteEni(eniId);
  }

  async listEnis(filters: EniFilters): Promise<EniRecord[]> {
    const found: EniRecord[] = [];
    const Filters = Object.entries(filters).map(([Name, values]) => ({ Name, Values: [...values] }));
    let token: string | undefined;
    do {
      const input = {
        Filters,
        MaxResults: this.#pageSize,
        ...(token === undefined ? {} : { NextToken: token }),
      };
      const answer = await this.#sender.send(
        "DescribeNetworkInterfaces",
        IDEMPOTENT,
        (client) => client.send(new DescribeNetworkInterfacesCommand(input)),
      );
      found.push(...(answer.NetworkInterfaces ?? []).map(eniRecordFromSdk));
      token = answer.NextToken || undefined;
    } while (token !== undefined);
    return found;
  }

  async tagEni(eniId: string, tags: Readonly<Record<string, string>>): Promise<void> {
    await this.#sender.send(
      "CreateTags",
      IDEMPOTENT,
      (client) => client.send(new CreateTagsCommand({ Resources: [eniId], Tags: sdkTags(tags) })),
    );
  }

  async describeInstanceType(instanceType: string): Promise<DescribedInstanceType | null> {
    try {
      const answer = await this.#sender.send(
        "DescribeInstanceTypes",
        IDEMPOTENT,
        (client) =>
          client.send(new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as _InstanceType] })),
      );
      const info = answer.InstanceTypes?.[0];
      return info === undefined ? null : describedInstanceType(info);
    } catch (error) {
      if (error instanceof CloudError && error.code === "InvalidInstanceType") return null;
      throw error;
    }
  }

  async describeSubnet(subnetId: string): Promise<SubnetRecord | null> {
    try {
      return (await this.#subnets({ SubnetIds: [subnetId] }))[0] ?? null;
    } catch (error) {
      if (error instanceof CloudError && error.kind === "not-found") return null;
      throw error;
    }
  }

  describeSubnets(filters: EniFilters): Promise<SubnetRecord[]> {
    return this.#subnets({
      Filters: Object.entries(filters).map(([Name, values]) => ({ Name, Values: [...values] })),
    });
  }

  async #subnets(
    input: NonNullable<ConstructorParameters<typeof DescribeSubnetsCommand>[0]>,
  ): Promise<SubnetRecord[]> {
    const answer = await this.#sender.send(
      "DescribeSubnets",
      IDEMPOTENT,
      (client) => client.send(new DescribeSubnetsCommand(input)),
    );
    return (answer.Subnets ?? []).filter((s) => s.CidrBlock !== undefined).map((s) => ({
      subnetId: s.SubnetId ?? "",
      cidr: s.CidrBlock!,
      availableIps: s.AvailableIpAddressCount ?? 0,
      vpcId: s.VpcId ?? "",
      zone: s.AvailabilityZone ?? "",
      tags: Object.fromEntries((s.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
    }));
  }
}
