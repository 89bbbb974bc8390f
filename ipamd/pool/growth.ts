/**
 * Why the pool cannot grow, in one vocabulary for the policy's plan, the pause
 * after a cloud failure, a waiting ADD's failure, the metrics' `reason` label,
 * `aws-cni status` and the README's troubleshooting. `GrowthState` keeps the
 * current reason: the reconciler writes it, everything else reads it.
 *
 * @module
 */
import { type Clock, errorText } from "../../shared/mod.ts";
import { CloudError } from "../cloud/mod.ts";

/** Every reason, in the order the metrics list them. */
export const GROWTH_BLOCK_REASONS = [
  "max-enis",
  "max-pods",
  "subnet-full",
  "throttled",
  "unauthorized",
  "cloud-error",
  "still-warming",
] as const;

/** Why the pool cannot grow (or, for `still-warming`, has not grown yet). */
export type GrowthBlockReason = typeof GROWTH_BLOCK_REASONS[number];

/** The one text of each reason, as operators read it. */
export const GROWTH_BLOCK_TEXT: Readonly<Record<GrowthBlockReason, string>> = Object.freeze({
  "max-enis": "max ENIs reached",
  "max-pods": "max pods reached",
  "subnet-full": "subnet full",
  "throttled": "EC2 throttled",
  "unauthorized": "not authorized",
  "cloud-error": "EC2 error",
  "still-warming": "still warming",
});

/** Why the pool cannot grow, with the cloud's words and until when growth pauses. */
export interface GrowthBlock {
  readonly reason: GrowthBlockReason;
  /** The cloud error for a paused failure; "" for a limit. */
  readonly detail: string;
  /** When a paused failure is retried; null for a limit, or a pause that ran out. */
  readonly untilMs: number | null;
}

/** A pause after a cloud failure. */
interface Hold extends GrowthBlock {
  readonly untilMs: number;
}

const THROTTLE_HOLD_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

/** The pool's growth: paused after cloud failures, stopped by a limit, or free. */
export class GrowthState {
  readonly #clock: Clock;
  readonly #subnetFullHoldMs: number;
  #hold: Hold | null = null;
  #limit: GrowthBlockReason | null = null;
  #throttles = 0;

  /** `subnetFullHoldMs`: the pause after a full subnet (default 120 s, as the reference). */
  constructor(clock: Clock, options: { subnetFullHoldMs?: number | undefined } = {}) {
    this.#clock = clock;
    this.#subnetFullHoldMs = options.subnetFullHoldMs ?? 120_000;
  }

  /** The pause after a cloud failure, while it lasts. */
  get hold(): GrowthBlock | null {
    return this.#hold !== null && this.#clock.now() < this.#hold.untilMs ? this.#hold : null;
  }

  /** Why the pool cannot grow now, or null: a pause wins over the limit the last pass ran into. */
  get current(): GrowthBlock | null {
    return this.hold ?? (this.#limit === null ? null : { reason: this.#limit, detail: "", untilMs: null });
  }

  /**
   * Why an ADD waiting now is not served: `current`, else the failure whose pause
   * ran out while the pool has not grown since, else `still-warming`.
   */
  get whyNoAddress(): GrowthBlock {
    const failed = this.#hold;
    return this.current ??
      (failed === null
        ? { reason: "still-warming", detail: "", untilMs: null }
        : { reason: failed.reason, detail: failed.detail, untilMs: null });
  }

  /** A grow or shrink action failed; a cloud failure pauses growth for a while that depends on it. */
  failed(error: unknown): void {
    if (!(error instanceof CloudError)) return;
    const pause = (reason: GrowthBlockReason, ms: number) => {
      const untilMs = this.#clock.now() + Math.max(ms, error.retryAfterMs ?? 0);
      this.#hold = { reason, detail: errorText(error), untilMs };
    };
    switch (error.kind) {
      case "throttled":
        pause("throttled", THROTTLE_HOLD_MS[Math.min(this.#throttles++, THROTTLE_HOLD_MS.length - 1)]!);
        break;
      case "subnet-full":
      case "no-cidr-blocks":
        pause("subnet-full", this.#subnetFullHoldMs);
        break;
      case "attachment-limit":
        pause("max-enis", 60_000);
        break;
      case "unauthorized":
        pause("unauthorized", 60_000);
        break;
      default:
        pause("cloud-error", 1_000);
    }
  }

  /** Addresses joined the pool: any pause is over. */
  grew(): void {
    this.#throttles = 0;
    this.#hold = null;
  }

  /**
   * A pass ended with `blocked` (the limit its last plan ran into). A pause that
   * ran out is forgotten only once the pool is no longer short.
   */
  passEnded(pass: { blocked: GrowthBlockReason | null; shortIps: number; failures: number }): void {
    if (pass.failures === 0 && pass.shortIps === 0 && this.hold === null) this.#hold = null;
    this.#limit = pass.blocked;
  }
}
