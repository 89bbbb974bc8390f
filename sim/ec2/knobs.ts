/**
 * Fault knobs of the simulation, per EC2 action: forced errors (the next n calls,
 * or a rate drawn from the seeded random stream) and a latency value that
 * transports read and wait out (the core itself never waits); and the timing of
 * attaches: a latency model that replaces the account's, and a hold that keeps
 * new attaches `attaching` until the simulation releases them.
 *
 * @module
 */

import { Ec2SimError } from "./error.ts";
import type { LatencyModel, SeededRandom } from "./random.ts";
import type { AttachTiming } from "./state.ts";
import type { Ec2Action } from "./types.ts";

/** The error a forced fault answers with. */
export interface ForcedFault {
  readonly code: string;
  /** Default: "Injected <code>". */
  readonly message?: string;
  /** Default: EC2's status for the code. */
  readonly httpStatus?: number;
}

interface ArmedFault {
  readonly fault: ForcedFault;
  /** Calls still to fail, or null for a rate fault. */
  remaining: number | null;
  readonly rate: number;
}

/** Per-action forced errors and transport latencies, and attach timing. */
export class Ec2FaultKnobs implements AttachTiming {
  readonly #random: SeededRandom;
  readonly #faults = new Map<Ec2Action, ArmedFault[]>();
  readonly #latencyMs = new Map<Ec2Action, number>();
  #attachLatency: LatencyModel | null = null;
  /** Attaches begun while true stay `attaching` until `Ec2Simulation.releaseAttaches()`. */
  holdAttaches = false;

  constructor(random: SeededRandom) {
    this.#random = random;
  }

  /** Makes the next `times` calls of `action` fail with `fault` (after any earlier armed ones). */
  failNext(action: Ec2Action, fault: ForcedFault, times = 1): void {
    if (!Number.isSafeInteger(times) || times < 1) throw new RangeError(`Cannot fail ${times} calls`);
    this.#arm(action, { fault, remaining: times, rate: 1 });
  }

  /** Makes each call of `action` fail with `fault` with probability `rate`, from the seeded stream. */
  failAtRate(action: Ec2Action, fault: ForcedFault, rate: number): void {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`Cannot fail calls at rate ${rate}: expected 0 to 1`);
    this.#arm(action, { fault, remaining: null, rate });
  }

  /** Disarms the faults of one action, or of all. */
  clearFaults(action?: Ec2Action): void {
    if (action === undefined) this.#faults.clear();
    else this.#faults.delete(action);
  }

  /** Sets how long a transport should take to answer `action`. */
  setLatencyMs(action: Ec2Action, ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`Cannot set a latency of ${ms} ms`);
    this.#latencyMs.set(action, ms);
  }

  /** How long a transport should take to answer `action` (0 unless set). */
  latencyMs(action: Ec2Action): number {
    return this.#latencyMs.get(action) ?? 0;
  }

  /** The attach latency model that replaces the account's, or null for the account's own. */
  get attachLatency(): LatencyModel | null {
    return this.#attachLatency;
  }

  /** Replaces the account's attach latency for attaches begun from now on; null restores it. */
  setAttachLatency(model: LatencyModel | null): void {
    if (model !== null) checkLatencyModel(model);
    this.#attachLatency = model;
  }

  /** The forced error for one call of `action`, or null. Called once per call by the gate. */
  draw(action: Ec2Action): Ec2SimError | null {
    const armed = this.#faults.get(action) ?? [];
    for (const entry of armed) {
      if (entry.remaining !== null) {
        if (entry.remaining <= 0) continue;
        entry.remaining--;
        return toError(entry.fault);
      }
      if (this.#random.next() < entry.rate) return toError(entry.fault);
    }
    return null;
  }

  #arm(action: Ec2Action, entry: ArmedFault): void {
    const armed = (this.#faults.get(action) ?? []).filter((old) => old.remaining !== 0);
    this.#faults.set(action, [...armed, entry]);
  }
}

function checkLatencyModel(model: LatencyModel): void {
  const values = model.kind === "fixed"
    ? [model.ms]
    : model.kind === "uniform"
    ? [model.minMs, model.maxMs]
    : [model.medianMs, model.sigma, model.maxMs];
  if (!values.every((value) => Number.isFinite(value) && value >= 0)) {
    throw new RangeError(`Cannot set an attach latency of ${JSON.stringify(model)}`);
  }
}

function toError(fault: ForcedFault): Ec2SimError {
  const options = fault.httpStatus === undefined ? {} : { httpStatus: fault.httpStatus };
  return new Ec2SimError(fault.code, fault.message ?? `Injected ${fault.code}`, options);
}
