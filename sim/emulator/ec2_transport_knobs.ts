/**
 * Transport faults the simulation cannot express, because they happen on the
 * wire: a call that never answers, so the client waits until its own timeout.
 * A hang either loses the request (the action never runs) or loses the answer
 * (the action runs, its response is never sent).
 *
 * @module
 */

import type { Ec2Action } from "../ec2/mod.ts";

/** How a hung call behaves. */
export interface HangOptions {
  /** How many calls hang (default 1); `Infinity` hangs every call until cleared. */
  readonly times?: number;
  /** True: the action runs and only the answer is lost. Default false: the request is lost. */
  readonly applied?: boolean;
}

/** The hang drawn for one call. */
export interface Hang {
  readonly applied: boolean;
}

interface ArmedHang {
  remaining: number;
  readonly applied: boolean;
}

/** Per-action hangs, drawn once per call in arrival order. */
export class Ec2TransportKnobs {
  readonly #hangs = new Map<Ec2Action, ArmedHang[]>();

  /** Makes the next calls of `action` hang until the emulator closes (the client gives up first). */
  hangNext(action: Ec2Action, options: HangOptions = {}): void {
    const times = options.times ?? 1;
    if (!(times >= 1) || (!Number.isSafeInteger(times) && times !== Infinity)) {
      throw new RangeError(`Cannot hang ${times} calls of ${action}`);
    }
    const armed = (this.#hangs.get(action) ?? []).filter((hang) => hang.remaining > 0);
    this.#hangs.set(action, [...armed, { remaining: times, applied: options.applied ?? false }]);
  }

  /** Disarms the hangs of one action, or of all. */
  clearHangs(action?: Ec2Action): void {
    if (action === undefined) this.#hangs.clear();
    else this.#hangs.delete(action);
  }

  /** The hang for one call of `action`, or null. */
  draw(action: Ec2Action): Hang | null {
    for (const hang of this.#hangs.get(action) ?? []) {
      if (hang.remaining <= 0) continue;
      hang.remaining--;
      return { applied: hang.applied };
    }
    return null;
  }
}
