/**
 * The simulated kubelet and runtime: plays a workload's ADD and DEL events on the
 * replay nodes, holds pods until their node is ready, and retries a failed ADD
 * after the pod worker's back-off (10 s with 0.5 jitter, i.e. 10 to 15 s; kubelet
 * `backOffPeriod` and `workerBackOffPeriodJitterFactor`). Records when each pod
 * first asked for an address and when it got one.
 *
 * @module
 */
import type { GrowthBlockReason } from "../../ipamd/pool/mod.ts";
import { SeededRandom } from "../ec2/mod.ts";
import { podKey, type PodRef, type ReplayNode } from "./replay_node.ts";
import type { TraceEvent, Workload } from "./scenarios.ts";
import type { Scheduler, Timer } from "./scheduler.ts";

/** One pod's life as the replay saw it (times in ms since the start). */
export interface PodRecord {
  readonly node: string;
  readonly pod: string;
  readonly ref: PodRef;
  /** When the workload scheduled it. */
  readonly scheduledMs: number;
  firstAddMs: number | null;
  servedMs: number | null;
  deletedMs: number | null;
  failedAdds: number;
}

/** Failed ADDs of one node, by reason. */
export type FailReasons = Partial<Record<GrowthBlockReason, number>>;

/** One node's failed ADDs: by reason, and how many of them came while the node had room for the pod. */
export interface NodeFailures {
  readonly byReason: FailReasons;
  /** ADDs that failed while the node's pods (the failing one included) fit its address capacity. */
  withCapacity: number;
}

const RETRY_BASE_MS = 10_000;
const RETRY_JITTER = 0.5;

/** Drives pods onto nodes. */
export class Kubelet {
  readonly pods: PodRecord[] = [];
  readonly failures = new Map<string, NodeFailures>();
  readonly #scheduler: Scheduler;
  readonly #nodes: ReadonlyMap<string, ReplayNode>;
  readonly #startMs: number;
  readonly #random: SeededRandom;
  readonly #ready = new Set<string>();
  readonly #held = new Map<string, (() => void)[]>();
  readonly #byName = new Map<string, PodRecord>();
  readonly #retries = new Map<PodRecord, Timer>();
  readonly #alive = new Map<string, number>();
  readonly #capacity: number;

  /** `capacity`: the addresses a node can hold for pods (Infinity when unknown). */
  constructor(scheduler: Scheduler, nodes: readonly ReplayNode[], seed: number, capacity = Infinity) {
    this.#scheduler = scheduler;
    this.#nodes = new Map(nodes.map((node) => [node.name, node]));
    this.#startMs = scheduler.now();
    this.#random = new SeededRandom(seed, "kubelet");
    this.#capacity = capacity;
  }

  /** Starts every node and schedules the workload's events. */
  play(workload: Workload): void {
    for (const node of this.#nodes.values()) {
      node.start(() => {
        this.#ready.add(node.name);
        for (const run of this.#held.get(node.name) ?? []) run();
        this.#held.delete(node.name);
      });
    }
    for (const event of workload.events) {
      this.#scheduler.at(
        this.#startMs + event.t * 1000,
        () => this.#whenReady(event.node, () => this.#on(event)),
      );
    }
  }

  /** Pods alive and still without an address. */
  get pending(): number {
    return this.pods.filter((pod) => pod.deletedMs === null && pod.servedMs === null).length;
  }

  /** Pods alive now. */
  get alive(): number {
    return this.pods.filter((pod) => pod.deletedMs === null).length;
  }

  #whenReady(node: string, run: () => void): void {
    if (!this.#nodes.has(node)) throw new RangeError(`Unknown node "${node}"`);
    if (this.#ready.has(node)) return run();
    const held = this.#held.get(node) ?? [];
    held.push(run);
    this.#held.set(node, held);
  }

  #on(event: TraceEvent): void {
    const id = `${event.node}/${event.pod}`;
    const known = this.#byName.get(id);
    if (event.op === "add") {
      if (known !== undefined && known.deletedMs === null) return;
      const record: PodRecord = {
        node: event.node,
        pod: event.pod,
        ref: { key: podKey(id) },
        scheduledMs: this.#scheduler.now() - this.#startMs,
        firstAddMs: null,
        servedMs: null,
        deletedMs: null,
        failedAdds: 0,
      };
      this.pods.push(record);
      this.#byName.set(id, record);
      this.#alive.set(event.node, (this.#alive.get(event.node) ?? 0) + 1);
      this.#attempt(record);
      return;
    }
    if (known === undefined || known.deletedMs !== null) return;
    known.deletedMs = this.#scheduler.now() - this.#startMs;
    this.#alive.set(known.node, (this.#alive.get(known.node) ?? 1) - 1);
    this.#retries.get(known)?.cancel();
    this.#retries.delete(known);
    this.#nodes.get(known.node)!.del(known.ref);
  }

  #attempt(pod: PodRecord): void {
    this.#retries.delete(pod);
    const node = this.#nodes.get(pod.node)!;
    pod.firstAddMs ??= this.#scheduler.now() - this.#startMs;
    node.add(pod.ref, (outcome) => {
      if (pod.deletedMs !== null) {
        if (outcome.ok) node.del(pod.ref);
        return;
      }
      if (outcome.ok) {
        pod.servedMs = this.#scheduler.now() - this.#startMs;
        return;
      }
      pod.failedAdds++;
      const failures = this.failures.get(pod.node) ?? { byReason: {}, withCapacity: 0 };
      failures.byReason[outcome.reason] = (failures.byReason[outcome.reason] ?? 0) + 1;
      if ((this.#alive.get(pod.node) ?? 0) <= this.#capacity) failures.withCapacity++;
      this.failures.set(pod.node, failures);
      const delayMs = RETRY_BASE_MS * (1 + RETRY_JITTER * this.#random.next());
      this.#retries.set(pod, this.#scheduler.at(this.#scheduler.now() + delayMs, () => this.#attempt(pod)));
    });
  }
}
