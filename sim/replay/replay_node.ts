/**
 * What the replay engine drives on each node, whichever policy runs there: ADDs
 * and DELs from the simulated kubelet, and address counts for the report.
 *
 * @module
 */
import type { AllocationKey, GrowthBlockReason } from "../../ipamd/pool/mod.ts";
import type { Ec2Tally } from "./account.ts";

/** A pod as the CNI sees it. */
export interface PodRef {
  readonly key: AllocationKey;
}

/** How one ADD ended; a failure says why in the pool's one vocabulary of reasons. */
export type AddOutcome =
  | { readonly ok: true; readonly ip: string }
  | { readonly ok: false; readonly reason: GrowthBlockReason };

/** Address counts at one instant. */
export interface AddressCounts {
  /** Addresses held from the subnet for pods (16 per prefix). */
  readonly total: number;
  readonly assigned: number;
  /** Released by a pod and still in their cooldown. */
  readonly cooling: number;
}

/** One node of a replay. */
export interface ReplayNode {
  readonly name: string;
  /** This node's EC2 calls. */
  readonly tally: Ec2Tally;
  /** Daemon starts that failed on a cloud error and were restarted. */
  readonly startFailures: number;
  /** Starts the daemon's tasks; `onReady` fires when kubelet may schedule pods (CNI ready). */
  start(onReady: () => void): void;
  /** One CNI ADD; `done` is called exactly once, now or later in simulated time. */
  add(pod: PodRef, done: (outcome: AddOutcome) => void): void;
  /** The pod is gone: its address is released, or its waiting ADD dropped. */
  del(pod: PodRef): void;
  counts(nowMs: number): AddressCounts;
}

/** A pod key on the network every replay uses. */
export function podKey(containerId: string): AllocationKey {
  return { networkName: "aws-cni", containerId, ifName: "eth0" };
}
