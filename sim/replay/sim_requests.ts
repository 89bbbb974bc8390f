/**
 * Our daemon's EC2 requests over the shared simulated account, for one replay
 * node: the same requests `Ec2Requests` sends through the AWS SDK, each through
 * the node's own request budget (client-side buckets, full-jitter retries of
 * throttled calls), after the transport latency. `SdkEc2Port` runs on top
 * unchanged, so a replay pays what the adapter pays. It also answers the node
 * lifecycle's EC2 reads.
 *
 * @module
 */
import {
  type AddressRequest,
  type CallShape,
  CloudError,
  type CreateEniInput,
  type Ec2Action,
  type Ec2RequestPort,
  type EniDirectory,
  type EniFilters,
  type EniRecord,
  type RateBudget,
  type SubnetRecord,
} from "../../ipamd/cloud/mod.ts";
import {
  callSimulated,
  type Ec2SimState,
  type Ec2Simulation,
  type NetworkInterfaceView,
  type SubnetView,
} from "../ec2/mod.ts";

const MUTATING: CallShape = { unfilteredUnpaginated: false, idempotent: false };
const IDEMPOTENT: CallShape = { unfilteredUnpaginated: false, idempotent: true };
const BY_ID: CallShape = { unfilteredUnpaginated: true, idempotent: true };

/** The requests of `Ec2Requests` and the reads of `SdkEniDirectory`, answered by the simulation. */
export class SimEc2Requests implements Ec2RequestPort, EniDirectory {
  readonly #sim: Ec2Simulation;
  readonly #budget: RateBudget;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #state: () => Ec2SimState;

  /** `state`: the account's records, to leave out unknown ids as EC2's NotFound answer would. */
  constructor(
    sim: Ec2Simulation,
    options: { budget: RateBudget; sleep: (ms: number) => Promise<void>; state: () => Ec2SimState },
  ) {
    this.#sim = sim;
    this.#budget = options.budget;
    this.#sleep = options.sleep;
    this.#state = options.state;
  }

  async createEni(input: CreateEniInput): Promise<EniRecord> {
    const created = await this.#send(
      "CreateNetworkInterface",
      IDEMPOTENT,
      () =>
        this.#sim.createNetworkInterface({
          subnetId: input.subnetId,
          description: input.description,
          groups: input.securityGroupIds,
          tags: Object.entries(input.tags).map(([key, value]) => ({ key, value })),
          ...(input.secondaryIps > 0 ? { secondaryPrivateIpAddressCount: input.secondaryIps } : {}),
          ...(input.prefixes > 0 ? { ipv4PrefixCount: input.prefixes } : {}),
        }),
    );
    return record(created.networkInterface);
  }

  async usedDeviceIndexes(instanceId: string): Promise<Set<number>> {
    const answer = await this.#send(
      "DescribeInstances",
      BY_ID,
      () => this.#sim.describeInstances({ instanceIds: [instanceId] }),
    );
    const instance = answer.reservations[0]?.instances[0];
    return new Set((instance?.networkInterfaces ?? []).map((eni) => eni.attachment?.deviceIndex ?? -1));
  }

  async attach(
    eniId: string,
    at: { readonly instanceId: string; readonly deviceIndex: number },
  ): Promise<string> {
    const answer = await this.#send(
      "AttachNetworkInterface",
      MUTATING,
      () =>
        this.#sim.attachNetworkInterface({
          networkInterfaceId: eniId,
          instanceId: at.instanceId,
          deviceIndex: at.deviceIndex,
        }),
    );
    return answer.attachmentId;
  }

  async markDeleteOnTermination(eniId: string, attachmentId: string): Promise<void> {
    await this.#send(
      "ModifyNetworkInterfaceAttribute",
      IDEMPOTENT,
      () =>
        this.#sim.modifyNetworkInterfaceAttribute({
          networkInterfaceId: eniId,
          attachment: { attachmentId, deleteOnTermination: true },
        }),
    );
  }

  async assign(eniId: string, { count, prefixes }: AddressRequest): Promise<string[]> {
    const answer = await this.#send(
      "AssignPrivateIpAddresses",
      MUTATING,
      () =>
        this.#sim.assignPrivateIpAddresses(
          prefixes
            ? { networkInterfaceId: eniId, ipv4PrefixCount: count }
            : { networkInterfaceId: eniId, secondaryPrivateIpAddressCount: count },
        ),
    );
    return [...answer.assignedPrivateIpAddresses.map((ip) => `${ip}/32`), ...answer.assignedIpv4Prefixes];
  }

  async unassign(
    eniId: string,
    addresses: { ips?: readonly string[]; prefixes?: readonly string[] },
  ): Promise<void> {
    await this.#send("UnassignPrivateIpAddresses", MUTATING, () =>
      this.#sim.unassignPrivateIpAddresses({
        networkInterfaceId: eniId,
        ...(addresses.ips === undefined ? {} : { privateIpAddresses: addresses.ips }),
        ...(addresses.prefixes === undefined ? {} : { ipv4Prefixes: addresses.prefixes }),
      }));
  }

  async detach(attachmentId: string): Promise<void> {
    await this.#send(
      "DetachNetworkInterface",
      IDEMPOTENT,
      () => this.#sim.detachNetworkInterface({ attachmentId }),
    );
  }

  async deleteEni(eniId: string): Promise<void> {
    try {
      await this.#send(
        "DeleteNetworkInterface",
        IDEMPOTENT,
        () => this.#sim.deleteNetworkInterface({ networkInterfaceId: eniId }),
      );
    } catch (error) {
      if (!(error instanceof CloudError && error.kind === "not-found")) throw error;
    }
  }

  async describeEnis(eniIds: readonly string[]): Promise<EniRecord[]> {
    if (eniIds.length === 0) return [];
    const known = new Set(this.#state().networkInterfaces.map((eni) => eni.networkInterfaceId));
    const ids = [...new Set(eniIds)].filter((id) => known.has(id));
    if (ids.length === 0) return [];
    const answer = await this.#send(
      "DescribeNetworkInterfaces",
      BY_ID,
      () => this.#sim.describeNetworkInterfaces({ networkInterfaceIds: ids }),
    );
    return answer.networkInterfaces.map(record);
  }

  async listEnis(filters: EniFilters): Promise<EniRecord[]> {
    const answer = await this.#send(
      "DescribeNetworkInterfaces",
      IDEMPOTENT,
      () => this.#sim.describeNetworkInterfaces({ filters, maxResults: 1000 }),
    );
    return answer.networkInterfaces.map(record);
  }

  async tagEni(eniId: string, tags: Readonly<Record<string, string>>): Promise<void> {
    await this.#send("CreateTags", IDEMPOTENT, () =>
      this.#sim.createTags({
        resources: [eniId],
        tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      }));
  }

  describeInstanceType(): Promise<null> {
    return Promise.resolve(null);
  }

  async describeSubnet(subnetId: string): Promise<SubnetRecord | null> {
    const answer = await this.#send(
      "DescribeSubnets",
      IDEMPOTENT,
      () => this.#sim.describeSubnets({ subnetIds: [subnetId] }),
    );
    return answer.subnets.map(subnetRecord)[0] ?? null;
  }

  async describeSubnets(filters: EniFilters): Promise<SubnetRecord[]> {
    const answer = await this.#send(
      "DescribeSubnets",
      IDEMPOTENT,
      () => this.#sim.describeSubnets({ filters }),
    );
    return answer.subnets.map(subnetRecord);
  }

  /** One request within the node's budget: transport latency, then the simulated call. */
  #send<T>(action: Ec2Action, shape: CallShape, run: () => T): Promise<T> {
    return this.#budget.run(action, shape, () => callSimulated(this.#sim, this.#sleep, action, run));
  }
}

/** A simulated ENI as the adapter records it. */
function record(eni: NetworkInterfaceView): EniRecord {
  return {
    eniId: eni.networkInterfaceId,
    mac: eni.macAddress,
    status: eni.status,
    interfaceType: eni.interfaceType,
    description: eni.description,
    subnetId: eni.subnetId,
    vpcId: eni.vpcId,
    primaryIp: eni.privateIpAddress,
    cidrs: [
      ...eni.privateIpAddresses.filter((ip) => !ip.primary).map((ip) => `${ip.privateIpAddress}/32`),
      ...eni.ipv4Prefixes.map((prefix) => prefix.ipv4Prefix),
    ],
    tags: Object.fromEntries(eni.tagSet.map((tag) => [tag.key, tag.value])),
    attachment: eni.attachment === undefined ? null : {
      attachmentId: eni.attachment.attachmentId,
      instanceId: eni.attachment.instanceId,
      deviceIndex: eni.attachment.deviceIndex,
      status: eni.attachment.status,
    },
  };
}

/** A simulated subnet as the directory answers it. */
export function subnetRecord(view: SubnetView): SubnetRecord {
  return {
    subnetId: view.subnetId,
    cidr: view.cidrBlock,
    availableIps: view.availableIpAddressCount,
    vpcId: view.vpcId,
    zone: view.availabilityZone,
    tags: Object.fromEntries(view.tagSet.map((tag) => [tag.key, tag.value])),
  };
}
