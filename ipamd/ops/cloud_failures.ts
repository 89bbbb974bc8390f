/**
 * The last few pool actions that failed in the cloud, newest first, from each
 * reconcile pass's outcome. Introspection and `aws-cni status` show them, so an
 * operator sees "UnauthorizedOperation" without reading the journal.
 *
 * @module
 */
import type { PassOutcome, PoolAction } from "../pool/mod.ts";

/** One failed action. */
export interface CloudFailure {
  readonly atMs: number;
  readonly action: PoolAction["kind"];
  /** The ENI the action was about, or null for a new ENI. */
  readonly eniId: string | null;
  readonly error: string;
}

/** A ring of the most recent failures. */
export class CloudFailures {
  readonly #capacity: number;
  #entries: CloudFailure[] = [];
  #total = 0;

  constructor(capacity = 10) {
    if (!(Number.isInteger(capacity) && capacity > 0)) {
      throw new RangeError(`Invalid capacity ${capacity}: must be a positive integer`);
    }
    this.#capacity = capacity;
  }

  /** Keeps the failures of one pass. */
  record(outcome: Pick<PassOutcome, "failed">, atMs: number): void {
    for (const { action, error } of outcome.failed) {
      const eniId = "eniId" in action ? action.eniId : null;
      this.#entries = [{ atMs, action: action.kind, eniId, error }, ...this.#entries].slice(
        0,
        this.#capacity,
      );
      this.#total++;
    }
  }

  /** The kept failures, newest first. */
  list(): CloudFailure[] {
    return [...this.#entries];
  }

  /** Failures seen since start, kept or not. */
  get total(): number {
    return this.#total;
  }
}
