/**
 * The reference's EC2 and IMDS traffic for one node (its `awsutils` and
 * `ipamd` packages), over the shared simulated account: the SDK's standard retryer (3 attempts,
 * full-jitter back-off) under every call, `TagENI`, `AllocENI` (subnet discovery,
 * falling back to the primary ENI's subnet when DescribeSubnets fails; Create;
 * DescribeInstances for a device index; Attach; ModifyNetworkInterfaceAttribute),
 * the IMDS wait for a new ENI, and `FreeENI` (Describe, Detach with retries, 2 s
 * sleep, Delete with retries).
 *
 * @module
 */
import { CloudError, cloudErrorFromCode } from "../../ipamd/cloud/mod.ts";
import {
  Ec2SimError,
  type Ec2Simulation,
  type LatencyModel,
  type NetworkInterfaceView,
  sampleLatencyMs,
  type SeededRandom,
} from "../ec2/mod.ts";
import type { TimingModel } from "./account.ts";
import type { Scheduler } from "./scheduler.ts";
import { referenceSubnet } from "./subnets.ts";

/** A new ENI, as `setupENI` adds it to the datastore. */
export interface RefNewEni {
  readonly eniId: string;
  readonly deviceNumber: number;
  readonly mac: string;
  readonly primaryIp: string;
  readonly cidrs: readonly string[];
}

/** `retry.NewSimpleBackoff(min, max, jitter, ×2)` as attempts and delays. */
interface Backoff {
  readonly attempts: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly jitter: number;
}

const SDK_ATTEMPTS = 3;
const SDK_MAX_BACKOFF_MS = 20_000;
const IMDS_WAIT: Backoff = { attempts: 12, minMs: 100, maxMs: 60_000, jitter: 0.15 };
const DETACH: Backoff = { attempts: 12, minMs: 200, maxMs: 60_000, jitter: 0.15 };
/** The spacing of `DescribeAllENIs` tries is not documented; assumed as Delete's. */
const DESCRIBE_ALL: Backoff = { attempts: 12, minMs: 500, maxMs: 60_000, jitter: 0.15 };
const DELETE: Backoff = { attempts: 12, minMs: 500, maxMs: 60_000, jitter: 0.15 };
/** `TagENI`: 5 tries, 500 ms doubling, 30 % jitter. */
const TAG: Backoff = { attempts: 5, minMs: 500, maxMs: 60_000, jitter: 0.3 };
/** The tag `TagENI` and `createENI` put on every ENI the node manages (`buildENITags`). */
const INSTANCE_TAG = "node.k8s.amazonaws.com/instance_id";

/** The reference's cloud calls for one instance. */
export class ReferenceEc2 {
  readonly #sim: Ec2Simulation;
  readonly #instanceId: string;
  readonly #subnetId: string;
  readonly #scheduler: Scheduler;
  readonly #random: SeededRandom;
  readonly #timing: TimingModel;

  constructor(options: {
    sim: Ec2Simulation;
    instanceId: string;
    subnetId: string;
    scheduler: Scheduler;
    random: SeededRandom;
    timing: TimingModel;
  }) {
    this.#sim = options.sim;
    this.#instanceId = options.instanceId;
    this.#subnetId = options.subnetId;
    this.#scheduler = options.scheduler;
    this.#random = options.random;
    this.#timing = options.timing;
  }

  /**
   * `DescribeAllENIs` at start: one DescribeNetworkInterfaces for the attached ENIs,
   * up to 12 tries (`tries: 1` for reconcile's `GetIPv4sFromEC2`).
   */
  async describeEnis(
    eniIds: readonly string[],
    options: { tries?: number } = {},
  ): Promise<readonly NetworkInterfaceView[]> {
    let views: readonly NetworkInterfaceView[] = [];
    await this.#retry({ ...DESCRIBE_ALL, attempts: options.tries ?? DESCRIBE_ALL.attempts }, async () => {
      const result = await this.#call(() =>
        this.#sim.describeNetworkInterfaces({ networkInterfaceIds: eniIds })
      );
      views = result.networkInterfaces;
    });
    return views;
  }

  /** `TagENI`: one CreateTags (retried) when the ENI lacks our instance tag; none when it has it. */
  async tagEni(
    eniId: string,
    tags: readonly { readonly key: string; readonly value: string }[],
  ): Promise<void> {
    if (tags.some((tag) => tag.key === INSTANCE_TAG && tag.value === this.#instanceId)) return;
    await this.#retry(
      TAG,
      () =>
        this.#call(() =>
          this.#sim.createTags({ resources: [eniId], tags: [{ key: INSTANCE_TAG, value: this.#instanceId }] })
        ),
    );
  }

  /** `IsSubnetExcluded` in `setupENI`: one DescribeSubnets. */
  async checkSubnet(): Promise<void> {
    await this.#call(() => this.#sim.describeSubnets({ subnetIds: [this.#subnetId] }));
  }

  /**
   * One Assign of `count` IPs or prefixes; on a failure other than the ENI's
   * address limit, once more asking for 1. Returns the CIDRs from the response.
   */
  async assign(eniId: string, count: number, prefixes: boolean): Promise<string[]> {
    const once = async (n: number) => {
      const result = await this.#call(() =>
        this.#sim.assignPrivateIpAddresses(
          prefixes
            ? { networkInterfaceId: eniId, ipv4PrefixCount: n }
            : { networkInterfaceId: eniId, secondaryPrivateIpAddressCount: n },
        )
      );
      return [...result.assignedPrivateIpAddresses.map((ip) => `${ip}/32`), ...result.assignedIpv4Prefixes];
    };
    try {
      return await once(count);
    } catch (error) {
      if (error instanceof CloudError && error.kind === "ip-limit") throw error;
      if (count === 1) throw error;
      return await once(1);
    }
  }

  /** `AllocENI` then `WaitForENIAndIPsAttached`: the ENI once IMDS shows it. */
  async allocEni(count: number, prefixes: boolean): Promise<RefNewEni> {
    let subnetId = this.#subnetId;
    try {
      const described = await this.#call(() =>
        this.#sim.describeSubnets({ filters: { "vpc-id": [this.#sim.vpcId] } })
      );
      subnetId = referenceSubnet(described.subnets, this.#subnetId);
    } catch (error) {
      // `createENI`: "Defaulting to same subnet as the primary interface for the new ENI".
      if (!(error instanceof CloudError)) throw error;
    }
    const created = await this.#call(() =>
      this.#sim.createNetworkInterface({
        subnetId,
        description: `aws-K8S-${this.#instanceId}`,
        tags: [{ key: INSTANCE_TAG, value: this.#instanceId }],
        ...(prefixes ? { ipv4PrefixCount: count } : { secondaryPrivateIpAddressCount: count }),
      })
    );
    const eni = created.networkInterface;
    const eniId = eni.networkInterfaceId;
    let deviceIndex = 0;
    let attachmentId: string;
    try {
      const described = await this.#call(() =>
        this.#sim.describeInstances({ instanceIds: [this.#instanceId] })
      );
      const used = new Set(
        described.reservations[0]?.instances[0]?.networkInterfaces.map((n) => n.attachment?.deviceIndex),
      );
      while (used.has(deviceIndex)) deviceIndex++;
      attachmentId = (await this.#call(() =>
        this.#sim.attachNetworkInterface({
          networkInterfaceId: eniId,
          instanceId: this.#instanceId,
          deviceIndex,
        })
      )).attachmentId;
    } catch (error) {
      await this.#quietly(this.#deleteWithRetries(eniId));
      throw error;
    }
    try {
      await this.#call(() =>
        this.#sim.modifyNetworkInterfaceAttribute({
          networkInterfaceId: eniId,
          attachment: { attachmentId, deleteOnTermination: true },
        })
      );
    } catch (error) {
      await this.#quietly(this.freeEni(eniId));
      throw error;
    }
    await this.#waitForImds();
    return {
      eniId,
      deviceNumber: deviceIndex,
      mac: eni.macAddress,
      primaryIp: eni.privateIpAddress,
      cidrs: [
        ...eni.privateIpAddresses.filter((ip) => !ip.primary).map((ip) => `${ip.privateIpAddress}/32`),
        ...eni.ipv4Prefixes.map((prefix) => prefix.ipv4Prefix),
      ],
    };
  }

  /** One UnassignPrivateIpAddresses for an ENI's IPs or prefixes. */
  async unassign(eniId: string, cidrs: readonly string[], prefixes: boolean): Promise<void> {
    await this.#call(() =>
      this.#sim.unassignPrivateIpAddresses(
        prefixes
          ? { networkInterfaceId: eniId, ipv4Prefixes: cidrs }
          : { networkInterfaceId: eniId, privateIpAddresses: cidrs.map((cidr) => cidr.replace(/\/32$/, "")) },
      )
    );
  }

  /** `FreeENI`: Describe for the attachment, Detach (retried), sleep 2 s, Delete (retried). */
  async freeEni(eniId: string): Promise<void> {
    const described = await this.#call(() =>
      this.#sim.describeNetworkInterfaces({ networkInterfaceIds: [eniId] })
    );
    const attachmentId = described.networkInterfaces[0]?.attachment?.attachmentId;
    if (attachmentId !== undefined) {
      await this.#retry(DETACH, () => this.#call(() => this.#sim.detachNetworkInterface({ attachmentId })));
      await this.#scheduler.sleep(2_000);
    }
    await this.#deleteWithRetries(eniId);
  }

  #deleteWithRetries(eniId: string): Promise<void> {
    return this.#retry(DELETE, async () => {
      try {
        await this.#call(() => this.#sim.deleteNetworkInterface({ networkInterfaceId: eniId }));
      } catch (error) {
        if (!(error instanceof CloudError && error.kind === "not-found")) throw error;
      }
    });
  }

  /** IMDS shows the ENI once the attach completes plus the IMDS lag; polled with back-off. */
  async #waitForImds(): Promise<void> {
    const visibleAtMs = this.#scheduler.now() + this.#draw(this.#timing.attachLatency) +
      this.#draw(this.#timing.imdsLag);
    await this.#retry(IMDS_WAIT, () => {
      if (this.#scheduler.now() < visibleAtMs) return Promise.reject(new Error("ENI not yet in IMDS"));
      return Promise.resolve();
    });
  }

  /** `retry.NWithBackoff`: tries `run` up to `attempts` times, sleeping a doubling, jittered delay between. */
  async #retry(backoff: Backoff, run: () => Promise<unknown>): Promise<void> {
    let delayMs = backoff.minMs;
    for (let attempt = 1;; attempt++) {
      try {
        await run();
        return;
      } catch (error) {
        if (attempt >= backoff.attempts) throw error;
      }
      await this.#scheduler.sleep(delayMs * (1 + backoff.jitter * this.#random.next()));
      delayMs = Math.min(delayMs * 2, backoff.maxMs);
    }
  }

  /** One SDK operation: transport latency, then the call; throttling and 5xx retried with full jitter. */
  async #call<T>(run: () => T): Promise<T> {
    for (let attempt = 1;; attempt++) {
      if (this.#timing.callLatencyMs > 0) await this.#scheduler.sleep(this.#timing.callLatencyMs);
      try {
        return run();
      } catch (error) {
        if (!(error instanceof Ec2SimError)) throw error;
        const translated = cloudErrorFromCode(error.code, error.message, {
          httpStatus: error.httpStatus,
          cause: error,
        });
        const retryable = translated.kind === "throttled" || translated.kind === "unavailable";
        if (!retryable || attempt >= SDK_ATTEMPTS) throw translated;
      }
      const capMs = Math.min(SDK_MAX_BACKOFF_MS, 1_000 * 2 ** attempt);
      await this.#scheduler.sleep(Math.round(this.#random.next() * capMs));
    }
  }

  #draw(model: LatencyModel): number {
    return sampleLatencyMs(model, this.#random);
  }

  async #quietly(work: Promise<void>): Promise<void> {
    try {
      await work;
    } catch {
      // The reference logs a failed clean-up and carries on.
    }
  }
}
