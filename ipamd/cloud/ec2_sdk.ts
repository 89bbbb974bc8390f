/**
 * `Ec2Port` over the AWS SDK and IMDS. A new ENI is created in the node's subnet
 * with the primary ENI's security groups and our tags, attached at the first
 * free device index, marked delete-on-termination (a failed step deletes it
 * again), and then awaited in IMDS, which costs no EC2 budget. Freeing detaches
 * and then deletes, retrying the delete while the ENI still detaches.
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
import type { Ec2Requests } from "./ec2_sdk_requests.ts";
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
  readonly log?: Logger;
}

/** Between DeleteNetworkInterface tries while the ENI detaches: 500 ms, 1 s, 2 s, 4 s, then 5 s. */
const DELETE_BACKOFF: BackoffPolicy = { initialMs: 500, factor: 2, maxMs: 5_000, jitter: 0.15 };

/** `Ec2Port` for the node this daemon runs on. */
export class SdkEc2Port implements Ec2Port {
  readonly #requests: Ec2Requests;
  readonly #imds: ImdsPort;
  readonly #o: SdkEc2PortOptions;
  readonly #clock: Clock;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #log: Logger;
  /** Attachment ids seen, so freeing needs no describe. */
  readonly #attachments = new Map<string, string>();

  constructor(requests: Ec2Requests, imds: ImdsPort, options: SdkEc2PortOptions) {
    this.#requests = requests;
    this.#imds = imds;
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? sleep;
    this.#log = options.log ?? silentLogger;
  }

  /** The ENIs IMDS lists, with EC2's addresses and tags; EFA and trunk ENIs are left out. */
  async describeNode(): Promise<AttachedEni[]> {
    const listed = await this.#imds.enis();
    const records = await this.#requests.describeEnis(listed.map((eni) => eni.eniId));
    const byId = new Map(records.map((record) => [record.eniId, record]));
    for (const record of records) {
      if (record.attachment !== null) this.#attachments.set(record.eniId, record.attachment.attachmentId);
    }
    return listed.filter((eni) => !UNMANAGED_INTERFACE_TYPES.has(byId.get(eni.eniId)?.interfaceType ?? ""))
      .map((eni) => attachedEni(eni, byId.get(eni.eniId)));
  }

  async createEni(request: AddressRequest): Promise<AttachedEni> {
    checkAddressRequest(request);
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
    const eniId = created.eniId;
    let attachmentId: string | null = null;
    try {
      const used = await this.#requests.usedDeviceIndexes(node.instanceId);
      let deviceIndex = 0;
      while (used.has(deviceIndex)) deviceIndex++;
      attachmentId = await this.#requests.attach(eniId, { instanceId: node.instanceId, deviceIndex });
      await this.#requests.markDeleteOnTermination(eniId, attachmentId);
    } catch (error) {
      await this.#undo(eniId, attachmentId, error);
      throw error;
    }
    this.#attachments.set(eniId, attachmentId);
    const prefixes = created.cidrs.filter((cidr) => !cidr.endsWith("/32")).length;
    const waitMs = this.#o.attachWaitMs ?? 60_000;
    const seen = await waitForImdsEni(
      this.#imds,
      { mac: created.mac, minIps: created.cidrs.length - prefixes, minPrefixes: prefixes },
      { timeoutMs: waitMs, clock: this.#clock, sleep: this.#sleep },
    );
    if (seen.eni === null) {
      // It stays attached (and is deleted with the instance); node reconciliation adopts it once IMDS shows it.
      throw new CloudError(
        "unavailable",
        "AttachTimeout",
        `Cannot attach ENI "${eniId}": not in IMDS after ${waitMs} ms`,
      );
    }
    if (!seen.complete) {
      this.#log.warn("IMDS shows only some of a new ENI's addresses", { eniId, waitedMs: seen.waitedMs });
    }
    return {
      eniId,
      deviceNumber: seen.eni.deviceNumber,
      primary: false,
      mac: created.mac,
      primaryIp: created.primaryIp,
      subnetId: created.subnetId,
      subnetCidr: seen.eni.subnetCidr || node.subnetCidr,
      cidrs: created.cidrs,
      tags,
    };
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
    if (attachmentId !== undefined) await ignoreNotFound(this.#requests.detach(attachmentId));
    await this.#deleteWhenDetached(eniId);
    this.#attachments.delete(eniId);
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
        await this.#sleep(backoffMs(DELETE_BACKOFF, attempt));
      }
    }
  }

  /** After a failed attach or mark: detach if attached, then delete; a leftover is tagged for leaked-ENI cleanup. */
  async #undo(eniId: string, attachmentId: string | null, cause: unknown): Promise<void> {
    try {
      if (attachmentId !== null) await ignoreNotFound(this.#requests.detach(attachmentId));
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

async function ignoreNotFound(call: Promise<void>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof CloudError && error.kind === "not-found")) throw error;
  }
}
