/**
 * One replay node's instance metadata service over the shared simulated account:
 * the instance, and each ENI attached to it, as IMDS lists it. An ENI shows only
 * once its attach completed plus an IMDS lag drawn for it (seeded), so our node
 * waits for new ENIs as the real adapter does. Reads cost no EC2 call. With
 * `lag: "link"` an ENI shows as soon as its attach completes, as its network link
 * does on the node.
 *
 * @module
 */
import type { ImdsEni, ImdsInstance, ImdsPort } from "../../ipamd/cloud/mod.ts";
import type { Clock } from "../../shared/mod.ts";
import { type Ec2SimState, type LatencyModel, sampleLatencyMs, SeededRandom } from "../ec2/mod.ts";

/** What the node's IMDS knows. */
export interface SimImdsOptions {
  /** The account's records (unsettled; see `ReplayAccount.state`). */
  readonly state: () => Ec2SimState;
  readonly clock: Clock;
  readonly vpcId: string;
  readonly instanceId: string;
  readonly instanceType: string;
  readonly vpcCidr: string;
  readonly seed: number;
  /** From a completed attach to the ENI in IMDS; "link" shows it at once. */
  readonly lag: LatencyModel | "link";
}

type EniState = Ec2SimState["networkInterfaces"][number];

/** `ImdsPort` for one simulated instance. */
export class SimImds implements ImdsPort {
  readonly #o: SimImdsOptions;
  readonly #lagMs = new Map<string, number>();

  constructor(options: SimImdsOptions) {
    this.#o = options;
  }

  instance(): Promise<ImdsInstance> {
    const primary = this.#attached().find((eni) => eni.attachment?.deviceIndex === 0);
    if (primary === undefined) throw new RangeError(`Instance "${this.#o.instanceId}" has no primary ENI`);
    return Promise.resolve({
      instanceId: this.#o.instanceId,
      instanceType: this.#o.instanceType,
      region: "us-west-2",
      availabilityZone: "us-west-2a",
      primaryMac: primary.macAddress,
      localIpv4: primary.privateIpAddress,
    });
  }

  enis(): Promise<ImdsEni[]> {
    return Promise.resolve(
      this.#attached().map((eni) => this.#view(eni)).sort((a, b) => a.deviceNumber - b.deviceNumber),
    );
  }

  eni(mac: string): Promise<ImdsEni | null> {
    const eni = this.#attached().find((candidate) => candidate.macAddress === mac);
    return Promise.resolve(eni === undefined ? null : this.#view(eni));
  }

  /** The instance's ENIs that IMDS shows now: attached, and past their lag. */
  #attached(): EniState[] {
    const nowMs = this.#o.clock.now();
    return this.#o.state().networkInterfaces.filter((eni) => {
      const attachment = eni.attachment;
      if (attachment === null || attachment.instanceId !== this.#o.instanceId) return false;
      // readyAtMs is when the attach completed (or completes); a detaching ENI is gone from IMDS.
      const attachedAtMs = attachment.status === "detaching" ? Infinity : attachment.readyAtMs;
      if (attachment.deviceIndex === 0) return attachedAtMs <= nowMs;
      return attachedAtMs + this.#lag(eni.networkInterfaceId) <= nowMs;
    });
  }

  #view(eni: EniState): ImdsEni {
    const subnet = this.#o.state().subnets.find((s) => s.subnetId === eni.subnetId);
    return {
      mac: eni.macAddress,
      eniId: eni.networkInterfaceId,
      deviceNumber: eni.attachment?.deviceIndex ?? -1,
      networkCard: 0,
      subnetId: eni.subnetId,
      subnetCidr: subnet?.cidrBlock ?? "",
      vpcId: this.#o.vpcId,
      vpcCidrs: [this.#o.vpcCidr],
      securityGroupIds: [...eni.groups],
      primaryIp: eni.privateIpAddress,
      cidrs: [...eni.secondaryPrivateIpAddresses.map((ip) => `${ip}/32`), ...eni.ipv4Prefixes],
    };
  }

  #lag(eniId: string): number {
    if (this.#o.lag === "link") return 0;
    let lagMs = this.#lagMs.get(eniId);
    if (lagMs === undefined) {
      lagMs = sampleLatencyMs(this.#o.lag, new SeededRandom(this.#o.seed, `imds/${eniId}`));
      this.#lagMs.set(eniId, lagMs);
    }
    return lagMs;
  }
}
