/**
 * The pool's EC2 port over the simulation, for one instance. It makes the calls the
 * real SDK adapter makes (create, attach, mark delete-on-termination, wait; detach,
 * wait, delete) and translates failures with `cloudErrorFromCode`. Like the real
 * adapter, which waits on IMDS, it waits for attaches and detaches without EC2
 * calls: it looks at the simulation's state directly, with back-off.
 *
 * @module
 */

import type { ManualClock } from "../../shared/mod.ts";
import {
  type AddressRequest,
  type AttachedEni,
  checkAddressRequest,
  CloudError,
  cloudErrorFromCode,
  type Ec2Port,
  splitReleaseCidrs,
} from "../../ipamd/cloud/mod.ts";
import type { Ec2Simulation } from "./simulation.ts";
import { Ec2SimError } from "./error.ts";
import type { NetworkInterfaceState } from "./snapshot.ts";
import type { Ec2Action, InstanceView, NetworkInterfaceView } from "./types.ts";

/** How the port waits. */
export interface SimEc2PortOptions {
  /** Waits for transport latency and between polls (default: real timers). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The longest pause between looks while waiting for an attach or detach (default 500; from 100 ms, doubling). */
  readonly pollIntervalMs?: number;
  /** Gives up waiting for an attach or detach after this much sleeping (default 60 000). */
  readonly waitTimeoutMs?: number;
  /** Where a new ENI goes (subnet discovery, custom networking); default the instance's subnet. */
  readonly placement?: () => Promise<{ readonly subnetId: string }>;
}

/** A `sleep` for tests: moves the manual clock forward instead of waiting. */
export function sleepOnManualClock(clock: ManualClock): (ms: number) => Promise<void> {
  return (ms) => {
    clock.advance(ms);
    return Promise.resolve();
  };
}

function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `Ec2Port` for one simulated instance. */
export class SimEc2Port implements Ec2Port {
  readonly #sim: Ec2Simulation;
  readonly #instanceId: string;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #pollIntervalMs: number;
  readonly #waitTimeoutMs: number;
  readonly #placement: SimEc2PortOptions["placement"];
  readonly #subnetCidrs = new Map<string, string>();
  /** Device indexes of the ENIs this port attached (or is attaching) and has not freed. */
  readonly #devices = new Map<string, number>();

  constructor(sim: Ec2Simulation, instanceId: string, options: SimEc2PortOptions = {}) {
    this.#sim = sim;
    this.#instanceId = instanceId;
    this.#sleep = options.sleep ?? realSleep;
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#waitTimeoutMs = options.waitTimeoutMs ?? 60_000;
    this.#placement = options.placement;
  }

  async describeNode(): Promise<AttachedEni[]> {
    const instance = await this.#instance();
    const attached = instance.networkInterfaces.filter((eni) => eni.attachment?.status === "attached");
    const result: AttachedEni[] = [];
    for (const eni of attached) result.push(await this.#toAttachedEni(eni));
    return result;
  }

  async createEni(request: AddressRequest): Promise<AttachedEni> {
    checkAddressRequest(request);
    const instance = await this.#instance();
    const primary = instance.networkInterfaces.find((eni) => eni.attachment?.deviceIndex === 0);
    const groups = (primary?.groups ?? instance.securityGroups).map((group) => group.groupId);
    const createdAt = new Date(this.#sim.clock.now()).toISOString().replace(/\.\d+Z$/, "Z");
    const extra = request.count === 0
      ? {}
      : request.prefixes
      ? { ipv4PrefixCount: request.count }
      : { secondaryPrivateIpAddressCount: request.count };
    const subnetId = (await this.#placement?.())?.subnetId ?? instance.subnetId;
    const created = await this.#call("CreateNetworkInterface", () =>
      this.#sim.createNetworkInterface({
        subnetId,
        description: `aws-K8S-${this.#instanceId}`,
        groups,
        tags: [
          { key: "node.k8s.amazonaws.com/instance_id", value: this.#instanceId },
          { key: "node.k8s.amazonaws.com/createdAt", value: createdAt },
        ],
        ...extra,
      }));
    const eniId = created.networkInterface.networkInterfaceId;
    // Creates may run side by side: an index another create of this port holds is taken too.
    const used = new Set([
      ...instance.networkInterfaces.map((eni) => eni.attachment?.deviceIndex),
      ...this.#devices.values(),
    ]);
    let deviceIndex = 0;
    while (used.has(deviceIndex)) deviceIndex++;
    this.#devices.set(eniId, deviceIndex);
    let attachmentId: string;
    try {
      const attached = await this.#call(
        "AttachNetworkInterface",
        () =>
          this.#sim.attachNetworkInterface({
            networkInterfaceId: eniId,
            instanceId: this.#instanceId,
            deviceIndex,
          }),
      );
      attachmentId = attached.attachmentId;
    } catch (error) {
      this.#devices.delete(eniId);
      await this.#undo(eniId);
      throw error;
    }
    try {
      await this.#call("ModifyNetworkInterfaceAttribute", () =>
        this.#sim.modifyNetworkInterfaceAttribute({
          networkInterfaceId: eniId,
          attachment: { attachmentId, deleteOnTermination: true },
        }));
    } catch (error) {
      await this.#undo(eniId);
      throw error;
    }
    const state = await this.#waitFor(eniId, "attach", (eni, nowMs) => settled(eni, nowMs) === "attached");
    if (state === null) {
      throw cloudErrorFromCode("InvalidNetworkInterfaceID.NotFound", `ENI "${eniId}" vanished`);
    }
    return this.#attachedFromState(state);
  }

  async assignAddresses(eniId: string, request: AddressRequest): Promise<string[]> {
    checkAddressRequest(request);
    if (request.count === 0) return [];
    const result = await this.#call("AssignPrivateIpAddresses", () =>
      this.#sim.assignPrivateIpAddresses(
        request.prefixes
          ? { networkInterfaceId: eniId, ipv4PrefixCount: request.count }
          : { networkInterfaceId: eniId, secondaryPrivateIpAddressCount: request.count },
      ));
    return [...result.assignedPrivateIpAddresses.map((ip) => `${ip}/32`), ...result.assignedIpv4Prefixes];
  }

  async releaseAddresses(eniId: string, cidrs: readonly string[]): Promise<void> {
    const { ips, prefixes } = splitReleaseCidrs(eniId, cidrs);
    if (ips.length > 0) {
      await this.#call(
        "UnassignPrivateIpAddresses",
        () => this.#sim.unassignPrivateIpAddresses({ networkInterfaceId: eniId, privateIpAddresses: ips }),
      );
    }
    if (prefixes.length > 0) {
      await this.#call(
        "UnassignPrivateIpAddresses",
        () => this.#sim.unassignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4Prefixes: prefixes }),
      );
    }
  }

  async freeEni(eniId: string): Promise<void> {
    this.#devices.delete(eniId);
    const eni = await this.#describeEni(eniId);
    if (eni === null) return;
    const attachmentId = eni.attachment?.attachmentId;
    if (attachmentId !== undefined) {
      await ignoreNotFound(
        this.#call("DetachNetworkInterface", () => this.#sim.detachNetworkInterface({ attachmentId })),
      );
      if (await this.#waitFor(eniId, "detach", (view, nowMs) => settled(view, nowMs) === null) === null) {
        return;
      }
    }
    await ignoreNotFound(
      this.#call(
        "DeleteNetworkInterface",
        () => this.#sim.deleteNetworkInterface({ networkInterfaceId: eniId }),
      ),
    );
  }

  #call<T>(action: Ec2Action, run: () => T): Promise<T> {
    return callSimulated(this.#sim, this.#sleep, action, run);
  }

  async #instance(): Promise<InstanceView> {
    const result = await this.#call(
      "DescribeInstances",
      () => this.#sim.describeInstances({ instanceIds: [this.#instanceId] }),
    );
    const instance = result.reservations[0]?.instances[0];
    if (instance === undefined) {
      throw cloudErrorFromCode(
        "InvalidInstanceID.NotFound",
        `Instance "${this.#instanceId}" is not described`,
      );
    }
    return instance;
  }

  async #describeEni(eniId: string): Promise<NetworkInterfaceView | null> {
    const result = await ignoreNotFound(
      this.#call(
        "DescribeNetworkInterfaces",
        () => this.#sim.describeNetworkInterfaces({ networkInterfaceIds: [eniId] }),
      ),
    );
    return result?.networkInterfaces[0] ?? null;
  }

  /**
   * Looks at the simulation's state (no EC2 call) until `done` holds (the ENI), the
   * ENI is gone (null), or the wait times out; pauses double from 100 ms up to `pollIntervalMs`.
   */
  async #waitFor(
    eniId: string,
    what: "attach" | "detach",
    done: (eni: NetworkInterfaceState, nowMs: number) => boolean,
  ): Promise<NetworkInterfaceState | null> {
    for (let waitedMs = 0, attempt = 0;; attempt++) {
      const eni = this.#sim.exportState().networkInterfaces.find((e) => e.networkInterfaceId === eniId);
      if (eni === undefined) return null;
      if (done(eni, this.#sim.clock.now())) return eni;
      if (waitedMs >= this.#waitTimeoutMs) {
        throw new CloudError(
          "unavailable",
          "Timeout",
          `Cannot ${what} ENI "${eniId}": not done after ${waitedMs} ms`,
        );
      }
      const pauseMs = Math.min(this.#pollIntervalMs, 100 * 2 ** attempt);
      await this.#sleep(pauseMs);
      waitedMs += pauseMs;
    }
  }

  /** An ENI's state as an attached ENI (the same shape `#toAttachedEni` gives its describe view). */
  #attachedFromState(eni: NetworkInterfaceState): Promise<AttachedEni> {
    return this.#attached(eni, {
      cidrs: [...eni.secondaryPrivateIpAddresses.map((ip) => `${ip}/32`), ...eni.ipv4Prefixes],
      tags: eni.tags,
    });
  }

  async #undo(eniId: string): Promise<void> {
    try {
      await this.freeEni(eniId);
    } catch {
      // The caller reports the original failure; a leftover ENI is tagged, so leaked-ENI cleanup finds it.
    }
  }

  #toAttachedEni(eni: NetworkInterfaceView): Promise<AttachedEni> {
    return this.#attached(eni, {
      cidrs: [
        ...eni.privateIpAddresses.filter((ip) => !ip.primary).map((ip) => `${ip.privateIpAddress}/32`),
        ...eni.ipv4Prefixes.map((prefix) => prefix.ipv4Prefix),
      ],
      tags: eni.tagSet,
    });
  }

  async #attached(
    eni: Pick<NetworkInterfaceView, "networkInterfaceId" | "macAddress" | "privateIpAddress" | "subnetId"> & {
      readonly attachment?: { readonly deviceIndex: number } | undefined | null;
    },
    extra: { cidrs: string[]; tags: readonly { readonly key: string; readonly value: string }[] },
  ): Promise<AttachedEni> {
    return {
      eniId: eni.networkInterfaceId,
      deviceNumber: eni.attachment?.deviceIndex ?? -1,
      primary: eni.attachment?.deviceIndex === 0,
      mac: eni.macAddress,
      primaryIp: eni.privateIpAddress,
      subnetId: eni.subnetId,
      subnetCidr: await this.#subnetCidr(eni.subnetId),
      cidrs: extra.cidrs,
      tags: Object.fromEntries(extra.tags.map((tag) => [tag.key, tag.value])),
    };
  }

  async #subnetCidr(subnetId: string): Promise<string> {
    const known = this.#subnetCidrs.get(subnetId);
    if (known !== undefined) return known;
    const result = await this.#call(
      "DescribeSubnets",
      () => this.#sim.describeSubnets({ subnetIds: [subnetId] }),
    );
    const cidr = result.subnets[0]?.cidrBlock ?? "";
    this.#subnetCidrs.set(subnetId, cidr);
    return cidr;
  }
}

/** An ENI's attachment status once due transitions complete: null when detached. */
function settled(eni: NetworkInterfaceState, nowMs: number): "attaching" | "attached" | "detaching" | null {
  const attachment = eni.attachment;
  if (attachment === null) return null;
  if (attachment.status === "attached" || attachment.readyAtMs > nowMs) return attachment.status;
  return attachment.status === "attaching" ? "attached" : null;
}

/** Resolves to null when the call failed with a NotFound. */
async function ignoreNotFound<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof CloudError && error.kind === "not-found") return null;
    throw error;
  }
}

/** Runs one simulated call after its transport latency; EC2 errors leave as `CloudError`. */
export async function callSimulated<T>(
  sim: Ec2Simulation,
  sleep: (ms: number) => Promise<void>,
  action: Ec2Action,
  run: () => T,
): Promise<T> {
  const latencyMs = sim.knobs.latencyMs(action);
  if (latencyMs > 0) await sleep(latencyMs);
  try {
    return run();
  } catch (error) {
    if (!(error instanceof Ec2SimError)) throw error;
    throw cloudErrorFromCode(error.code, error.message, { httpStatus: error.httpStatus, cause: error });
  }
}
