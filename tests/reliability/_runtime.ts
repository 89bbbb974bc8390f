/**
 * A container runtime as kubelet drives CNI: each pod slot has a namespace and
 * a sandbox (container ID). ADD that succeeds makes the pod running; ADD that
 * fails, or DEL that fails, leaves the sandbox uncertain, and the runtime
 * retries DEL for it until DEL succeeds (kubelet's StopPodSandbox loop). GC
 * passes the sandboxes it still runs as `cni.dev/valid-attachments`.
 *
 * @module
 */
import type { Netns, RunResult } from "../../testing/netns.ts";
import type { LivePod } from "./_audit.ts";
import { pluginJson, podEnv, type TestNode } from "../../testing/node.ts";

/** One pod slot. */
export interface Slot {
  readonly index: number;
  readonly netns: Netns;
  /** Sandbox generation; each ADD after a DEL uses a new container ID. */
  generation: number;
  state: "absent" | "running" | "uncertain";
  /** Set while running. */
  pod: LivePod | undefined;
  prevResult: Record<string, unknown> | undefined;
  /** An operation is in flight. */
  busy: boolean;
}

/** What one plugin run ended with. */
export interface OpOutcome {
  readonly verb: "ADD" | "DEL";
  readonly ok: boolean;
  /** The CNI error code, when it failed. */
  readonly code?: number;
  readonly result: RunResult;
}

/** Sandbox ID of a slot's current generation. */
export function containerIdOf(slot: Slot, prefix: string): string {
  return `${prefix}-${slot.index}-${slot.generation}`;
}

/** Drives the plugin for a set of slots on one node. */
export class Runtime {
  readonly node: TestNode;
  readonly slots: Slot[];
  readonly #prefix: string;
  /** Every failed plugin run whose stdout was not one CNI error document. */
  readonly malformed: string[] = [];

  constructor(node: TestNode, slots: Slot[], prefix = "ctr") {
    this.node = node;
    this.slots = slots;
    this.#prefix = prefix;
  }

  /** Creates `count` slots with their own pod namespaces. */
  static async create(node: TestNode, count: number, prefix = "ctr"): Promise<Runtime> {
    const slots: Slot[] = [];
    for (let index = 0; index < count; index++) {
      const netns = await node.pod(`${prefix}${index}`);
      slots.push({
        index,
        netns,
        generation: 0,
        state: "absent",
        pod: undefined,
        prevResult: undefined,
        busy: false,
      });
    }
    return new Runtime(node, slots, prefix);
  }

  /** The sandbox ID of a slot's current generation. */
  containerId(slot: Slot): string {
    return containerIdOf(slot, this.#prefix);
  }

  /** The pods the runtime believes are running. */
  live(): LivePod[] {
    return this.slots.flatMap((slot) => slot.state === "running" && slot.pod !== undefined ? [slot.pod] : []);
  }

  /** ADD for an absent slot (a new sandbox). */
  async add(slot: Slot): Promise<OpOutcome> {
    if (slot.state !== "absent") throw new Error(`slot ${slot.index} is ${slot.state}`);
    slot.generation++;
    const containerId = containerIdOf(slot, this.#prefix);
    const result = await this.node.plugin(
      podEnv("ADD", slot.netns.path, containerId),
      JSON.stringify(this.node.netconf()),
    );
    const json = this.#document(result);
    if (result.code !== 0) {
      slot.state = "uncertain";
      return { verb: "ADD", ok: false, code: Number(json?.["code"]), result };
    }
    const interfaces = json?.["interfaces"] as { name: string }[];
    const address = String((json?.["ips"] as { address: string }[])[0]?.address).replace(/\/32$/, "");
    const table = Number(
      interfaces.find((i) => i.name.startsWith("aws-cni/route-table/"))?.name.split("/").pop(),
    );
    slot.state = "running";
    slot.prevResult = json;
    slot.pod = { containerId, ip: address, hostVeth: interfaces[0]!.name, table, netns: slot.netns };
    return { verb: "ADD", ok: true, result };
  }

  /** DEL for a running or uncertain slot; a running pod's DEL carries its prevResult. */
  async del(slot: Slot): Promise<OpOutcome> {
    if (slot.state === "absent") throw new Error(`slot ${slot.index} is absent`);
    const containerId = containerIdOf(slot, this.#prefix);
    const conf = this.node.netconf(slot.prevResult === undefined ? {} : { prevResult: slot.prevResult });
    const result = await this.node.plugin(podEnv("DEL", slot.netns.path, containerId), JSON.stringify(conf));
    const json = this.#document(result);
    if (result.code !== 0) {
      slot.state = "uncertain";
      slot.pod = undefined;
      return { verb: "DEL", ok: false, code: Number(json?.["code"]), result };
    }
    slot.state = "absent";
    slot.pod = undefined;
    slot.prevResult = undefined;
    return { verb: "DEL", ok: true, result };
  }

  /** Retries DEL for every uncertain slot until it succeeds; returns how many DELs ran. */
  async retryUncertain(tries = 10): Promise<number> {
    let runs = 0;
    for (let attempt = 0; attempt < tries; attempt++) {
      const pending = this.slots.filter((slot) => slot.state === "uncertain");
      if (pending.length === 0) return runs;
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
      runs += pending.length;
      await Promise.all(pending.map((slot) => this.del(slot)));
    }
    const left = this.slots.filter((slot) => slot.state === "uncertain").map((s) => s.index);
    throw new Error(`DEL still fails after ${tries} tries for slots ${left.join(", ")}`);
  }

  /**
   * Like kubelet for pods that cannot start: a failed ADD is followed by DEL and a
   * new sandbox, until every slot runs or `deadlineMs` passes. Returns every
   * failed run, in order.
   */
  async runAll(deadlineMs: number, pauseMs = 500): Promise<OpOutcome[]> {
    const failures: OpOutcome[] = [];
    const end = Date.now() + deadlineMs;
    const drive = async (slot: Slot) => {
      while (slot.state !== "running" && Date.now() < end) {
        const outcome = slot.state === "absent" ? await this.add(slot) : await this.del(slot);
        if (!outcome.ok) {
          failures.push(outcome);
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
      }
    };
    await Promise.all(this.slots.map(drive));
    return failures;
  }

  /** CNI GC with the running sandboxes as valid attachments. */
  async gc(): Promise<OpOutcome> {
    const valid = this.live().map((pod) => ({ containerID: pod.containerId, ifname: "eth0" }));
    const conf = this.node.netconf({ "cni.dev/valid-attachments": valid });
    const env = { CNI_COMMAND: "GC", CNI_PATH: "/opt/cni/bin" };
    const result = await this.node.plugin(env, JSON.stringify(conf));
    const json = this.#document(result);
    return {
      verb: "DEL",
      ok: result.code === 0,
      ...(result.code === 0 ? {} : { code: Number(json?.["code"]) }),
      result,
    };
  }

  /** The stdout document; a failure must be exactly one CNI error document. */
  #document(result: RunResult): Record<string, unknown> | undefined {
    let json: Record<string, unknown> | undefined;
    try {
      json = pluginJson(result);
    } catch (error) {
      this.malformed.push((error as Error).message);
      return undefined;
    }
    if (result.code !== 0 && (typeof json?.["code"] !== "number" || typeof json?.["msg"] !== "string")) {
      this.malformed.push(
        `exit ${result.code} without a CNI error: ${result.stdout} ${result.stderr.slice(-500)}`,
      );
    }
    return json;
  }
}
