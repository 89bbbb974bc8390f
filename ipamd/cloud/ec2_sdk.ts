/**
 * `Ec2Port` over EC2 requests and IMDS. A new ENI is created in the node's subnet
 * with the primary ENI's security groups and our tags, attached at the first
 * device index free in IMDS and in our own records (DescribeInstances only when
 * EC2 says that index is taken after all), marked delete-on-termination, and then
 * awaited in IMDS, which costs no EC2 budget. An ENI whose attach failed on
 * throttling or an outage is kept and attached by the next `createEni()` instead
 * of being deleted and created again; a mark that failed so is tried again then.
 * The node's ENIs come from IMDS, with one DescribeNetworkInterfaces for the
 * secondary ENIs' tags and types (none on a fresh node). Freeing detaches and then
 * deletes, retrying the delete while the ENI still detaches.
 *
 * @module
 */
import { type Clock, errorText, type Logger, silentLogger, sleep, systemClock } from "../../shared/mod.ts";
import {
  CLUSTER_NAME_TAG,
  CREATED_AT_TAG,
  ENI_DESCRIPTION_PREFIX,
  INSTANCE_ID_TAG,
  rfc3339,
  UNMANAGED_INTERFACE_TYPES,
} from "./eni_directory.ts";
import {
  type AddressRequest,
  type AttachedEni,
  checkAddressRequest,
  type Ec2Port,
  splitReleaseCidrs,
} from "./ec2_port.ts";
import type { Ec2RequestPort } from "./ec2_request_port.ts";
import { attachedEni } from "./ec2_sdk_views.ts";
import { CloudError } from "./errors.ts";
import { type ImdsPort, waitForImdsEni } from "./imds_api.ts";
import { backoffMs, type BackoffPolicy } from "./rate_budget.ts";

/** The node new ENIs are made for. */
export interface NodeFacts {
  readonly instanceId: string;
  /** The primary ENI's subnet, where new ENIs go. */
  readonly subnetId: string;
  readonly subnetCidr: string;
  /** The primary ENI's security groups, which new ENIs get too. */
  readonly securityGroupIds: readonly string[];
}

/** What the port needs besides its requests and IMDS. */
export interface SdkEc2PortOptions {
  readonly node: NodeFacts;
  /** CLUSTER_NAME; "" adds no cluster tag. */
  readonly clusterName?: string;
  /** ADDITIONAL_ENI_TAGS. */
  readonly additionalTags?: Readonly<Record<string, string>>;
  /** How long a new ENI may take to show in IMDS (default 60 000). */
  readonly attachWaitMs?: number;
  /** DeleteNetworkInterface tries while the ENI still detaches (default 12). */
  readonly deleteTries?: number;
  readonly clock?: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Draws the jitter of waits (default Math.random). */
  readonly random?: () => number;
  readonly log?: Logger;
}

/** Between DeleteNetworkInterface tries while the ENI detaches: up to 500 ms, 1 s, 2 s, 4 s, then 5 s (full jitter). */
const DELETE_BACKOFF: BackoffPolicy = { initialMs: 500, factor: 2, maxMs: 5_000, jitter: 1 };
/**
 * From a DetachNetworkInterface to the first delete: 2 to 4 s, about what a detach
 * takes, so the delete is not spent on an ENI still detaching (each try is a call).
 */
const DETACH_WAIT: BackoffPolicy = { initialMs: 4_000, factor: 1, maxMs: 4_000, jitter: 0.5 };

/** An ENI this port created whose attach failed on a transient error: attached by the next create. */
interface KeptEni {
  readonly eniId: string;
  readonly mac: string;
  readonly primaryIp: string;
  readonly subnetId: string;
  readonly cidrs: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

function transient(error: unknown): boolean {
  return error instanceof CloudError && (error.kind === "throttled" || error.kind === "unavailable");
}

/** EC2's answer when the device index is taken (by an ENI IMDS does not list yet). */
function deviceTaken(error: unknown): boolean {
  return error instanceof CloudError && error.kind === "invalid" && /device index/i.test(error.message);
}

/** `Ec2Port` for the node this daemon runs on. */
export class SdkEc2Port implements Ec2Port {
  readonly #requests: Ec2RequestPort;
  readonly #imds: ImdsPort;
  readonly #o: SdkEc2PortOptions;
  readonly #clock: Clock;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #log: Logger;
  /** Attachment ids seen, so freeing needs no describe. */
  readonly #attachments = new Map<string, string>();
  /** Device indexes of the ENIs this port attached and has not freed (IMDS may not list them yet). */
  readonly #devices = new Map<string, number>();
  /** Created ENIs whose attach failed on a transient error, oldest first. */
  readonly #kept: KeptEni[] = [];
  /** Attached ENIs whose delete-on-termination mark failed on a transient error. */
  readonly #unmarked = new Map<string, string>();

  constructor(requests: Ec2RequestPort, imds: ImdsPort, options: SdkEc2PortOptions) {
    this.#requests = requests;
    this.#imds = imds;
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? sleep;
    this.#log = options.log ?? silentLogger;
  }

  /** ENIs created and kept for the next `createEni()` because their attach failed. */
  get keptEnis(): number {
    return this.#kept.length;
  }

  /**
   * The ENIs IMDS lists, with EC2's addresses and tags for the secondary ENIs;
   * EFA and trunk ENIs are left out. The primary ENI is always managed (the
   * reference ignores a no_manage tag on it too) and EC2 is not asked about it,
   * so a fresh node is read from IMDS alone.
   */
  async describeNode(): Promise<AttachedEni[]> {
    const listed = await this.#imds.enis();
    const secondary = listed.filter((eni) => !isPrimary(eni));
    const records = secondary.length === 0
      ? []
      : await this.#requests.describeEnis(secondary.map((eni) => eni.eniId));
    const byId = new Map(records.map((record) => [record.eniId, record]));
    for (const record of records) {
      if (record.attachment !== null) this.#attachments.set(record.eniId, record.attachment.attachmentId);
    }
    return listed.filter((eni) =>
      isPrimary(eni)
        ? eni.primaryIp !== ""
        : !UNMANAGED_INTERFACE_TYPES.has(byId.get(eni.eniId)?.interfaceType ?? "")
    ).map((eni) => attachedEni(eni, byId.get(eni.eniId)));
  }

  async createEni(request: AddressRequest): Promise<AttachedEni> {
    checkAddressRequest(request);
    await this.#markLeftovers();
    const eni = this.#kept.shift() ?? await this.#create(request);
    let attached: { attachmentId: string; deviceIndex: number };
    try {
      attached = await this.#attach(eni.eniId);
    } catch (error) {
      if (transient(error)) {
        this.#kept.push(eni);
        this.#log.info("kept a new ENI whose attach failed; the next create attaches it", {
          eniId: eni.eniId,
          error: errorText(error),
        });
      } else await this.#undo(eni.eniId, null, error);
      throw error;
    }
    const { attachmentId } = attached;
    this.#attachments.set(eni.eniId, attachmentId);
    try {
      await this.#requests.markDeleteOnTermination(eni.eniId, attachmentId);
    } catch (error) {
      if (!transient(error)) {
        await this.#undo(eni.eniId, attachmentId, error);
        this.#forget(eni.eniId);
        throw error;
      }
      this.#unmarked.set(eni.eniId, attachmentId);
      this.#log.warn("cannot mark a new ENI delete-on-termination yet; trying again with the next create", {
        eniId: eni.eniId,
        error: errorText(error),
      });
    }
    const prefixes = eni.cidrs.filter((cidr) => !cidr.endsWith("/32")).length;
    const waitMs = this.#o.attachWaitMs ?? 60_000;
    const seen = await waitForImdsEni(
      this.#imds,
      { mac: eni.mac, minIps: eni.cidrs.length - prefixes, minPrefixes: prefixes },
      {
        timeoutMs: waitMs,
        clock: this.#clock,
        sleep: this.#sleep,
        ...(this.#o.random === undefined ? {} : { random: this.#o.random }),
      },
    );
    if (seen.eni === null) {
      // It stays attached (and is deleted with the instance); node reconciliation adopts it once IMDS shows it.
      throw new CloudError(
        "unavailable",
        "AttachTimeout",
        `Cannot attach ENI "${eni.eniId}": not in IMDS after ${waitMs} ms`,
      );
    }
    if (!seen.complete) {
      this.#log.warn("IMDS shows only some of a new ENI's addresses", {
        eniId: eni.eniId,
        waitedMs: seen.waitedMs,
      });
    }
    return {
      eniId: eni.eniId,
      deviceNumber: seen.eni.deviceNumber,
      primary: false,
      mac: eni.mac,
      primaryIp: eni.primaryIp,
      subnetId: eni.subnetId,
      subnetCidr: seen.eni.subnetCidr || this.#o.node.subnetCidr,
      cidrs: eni.cidrs,
      tags: eni.tags,
    };
  }

  /** CreateNetworkInterface in the node's subnet with our description, groups and tags. */
  async #create(request: AddressRequest): Promise<KeptEni> {
    const { node } = this.#o;
    const tags: Record<string, string> = {
      ...this.#o.additionalTags,
      [INSTANCE_ID_TAG]: node.instanceId,
      [CREATED_AT_TAG]: rfc3339(this.#clock.now()),
      ...(this.#o.clusterName ? { [CLUSTER_NAME_TAG]: this.#o.clusterName } : {}),
    };
    const created = await this.#requests.createEni({
      subnetId: node.subnetId,
      description: `${ENI_DESCRIPTION_PREFIX}${node.instanceId}`,
      securityGroupIds: node.securityGroupIds,
      tags,
      secondaryIps: request.prefixes ? 0 : request.count,
      prefixes: request.prefixes ? request.count : 0,
      clientToken: crypto.randomUUID(),
    });
    const { eniId, mac, primaryIp, subnetId, cidrs } = created;
    return { eniId, mac, primaryIp, subnetId, cidrs, tags };
  }

  /**
   * Attaches at the first device index that neither IMDS nor our records hold; if
   * EC2 says it is taken after all, asks DescribeInstances and tries once more.
   */
  async #attach(eniId: string): Promise<{ attachmentId: string; deviceIndex: number }> {
    const listed = (await this.#imds.enis()).map((eni) => eni.deviceNumber);
    const first = this.#reserve(eniId, listed);
    try {
      return { attachmentId: await this.#attachAt(eniId, first), deviceIndex: first };
    } catch (error) {
      this.#devices.delete(eniId);
      if (!deviceTaken(error)) throw error;
    }
    // EC2 is ahead of IMDS both ways (attaches and detaches): ask it which indexes are taken.
    const described = await this.#requests.usedDeviceIndexes(this.#o.node.instanceId);
    const deviceIndex = this.#reserve(eniId, [...described, first]);
    try {
      return { attachmentId: await this.#attachAt(eniId, deviceIndex), deviceIndex };
    } catch (error) {
      this.#devices.delete(eniId);
      throw error;
    }
  }

  /**
   * Holds for `eniId` the first index free of `taken` and of this port's other ENIs,
   * attached or attaching (creates run side by side).
   */
  #reserve(eniId: string, taken: readonly number[]): number {
    const deviceIndex = firstFree(new Set([...taken, ...this.#devices.values()]));
    this.#devices.set(eniId, deviceIndex);
    return deviceIndex;
  }

  #attachAt(eniId: string, deviceIndex: number): Promise<string> {
    return this.#requests.attach(eniId, { instanceId: this.#o.node.instanceId, deviceIndex });
  }

  /** Marks the ENIs whose mark failed before; those that still fail wait for the next create. */
  async #markLeftovers(): Promise<void> {
    for (const [eniId, attachmentId] of [...this.#unmarked]) {
      try {
        await this.#requests.markDeleteOnTermination(eniId, attachmentId);
        this.#unmarked.delete(eniId);
      } catch (error) {
        if (error instanceof CloudError && error.kind === "not-found") this.#unmarked.delete(eniId);
        else if (!transient(error)) throw error;
        else return;
      }
    }
  }

  #forget(eniId: string): void {
    this.#attachments.delete(eniId);
    this.#devices.delete(eniId);
    this.#unmarked.delete(eniId);
  }

  async assignAddresses(eniId: string, request: AddressRequest): Promise<string[]> {
    checkAddressRequest(request);
    if (request.count === 0) return [];
    return await this.#requests.assign(eniId, request);
  }

  async releaseAddresses(eniId: string, cidrs: readonly string[]): Promise<void> {
    const { ips, prefixes } = splitReleaseCidrs(eniId, cidrs);
    if (ips.length > 0) await this.#requests.unassign(eniId, { ips });
    if (prefixes.length > 0) await this.#requests.unassign(eniId, { prefixes });
  }

  async freeEni(eniId: string): Promise<void> {
    let attachmentId = this.#attachments.get(eniId);
    if (attachmentId === undefined) {
      const [record] = await this.#requests.describeEnis([eniId]);
      if (record === undefined) return;
      attachmentId = record.attachment?.attachmentId;
    }
    if (attachmentId !== undefined) await this.#detach(attachmentId);
    await this.#deleteWhenDetached(eniId);
    this.#forget(eniId);
  }

  /** Detaches, then waits about as long as a detach takes; an attachment gone counts as detached. */
  async #detach(attachmentId: string): Promise<void> {
    await ignoreNotFound(this.#requests.detach(attachmentId));
    await this.#sleep(backoffMs(DETACH_WAIT, 0, this.#o.random));
  }

  /** Deletes the ENI, trying again while EC2 still holds it attached (detaching); gone counts as deleted. */
  async #deleteWhenDetached(eniId: string): Promise<void> {
    const tries = this.#o.deleteTries ?? 12;
    for (let attempt = 0;; attempt++) {
      try {
        await this.#requests.deleteEni(eniId);
        return;
      } catch (error) {
        const inUse = error instanceof CloudError && error.code === "InvalidNetworkInterface.InUse";
        if (!inUse || attempt + 1 >= tries) throw error;
        await this.#sleep(backoffMs(DELETE_BACKOFF, attempt, this.#o.random));
      }
    }
  }

  /** After a failed attach or mark: detach if attached, then delete; a leftover is tagged for leaked-ENI cleanup. */
  async #undo(eniId: string, attachmentId: string | null, cause: unknown): Promise<void> {
    try {
      if (attachmentId !== null) await this.#detach(attachmentId);
      await this.#deleteWhenDetached(eniId);
    } catch (error) {
      this.#log.warn("cannot delete the ENI a failed create left", {
        eniId,
        cause: errorText(cause),
        error: errorText(error),
      });
    }
  }
}

/** Device 0 of network card 0. */
function isPrimary(eni: { readonly deviceNumber: number; readonly networkCard: number }): boolean {
  return eni.deviceNumber === 0 && eni.networkCard === 0;
}

function firstFree(used: ReadonlySet<number>): number {
  let index = 0;
  while (used.has(index)) index++;
  return index;
}

async function ignoreNotFound(call: Promise<void>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof CloudError && error.kind === "not-found")) throw error;
  }
}
