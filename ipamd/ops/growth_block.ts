/**
 * Why the pool cannot grow right now, in one shape for the metrics gauge, the
 * `/v1/pool` report and `aws-cni status`: a hold after a cloud failure wins over
 * a limit the last pass ran into.
 *
 * @module
 */
import type { GrowBlock, GrowHold, Reconciler } from "../pool/mod.ts";

/** Every reason, in the order the metric lists them. */
export const GROWTH_BLOCK_REASONS = [
  "max-enis",
  "max-pods",
  "subnet-full",
  "throttled",
  "attachment-limit",
  "unauthorized",
  "cloud-error",
] as const satisfies readonly (GrowBlock | GrowHold["reason"])[];

/** One of `GROWTH_BLOCK_REASONS`. */
export type GrowthBlockReason = typeof GROWTH_BLOCK_REASONS[number];

/** The current reason, what it means, and until when growth pauses (null: until the limit changes). */
export interface GrowthBlock {
  readonly reason: GrowthBlockReason;
  readonly detail: string;
  readonly untilMs: number | null;
}

const LIMIT_TEXT: Readonly<Record<GrowBlock, string>> = {
  "max-enis": "every ENI the instance (or MAX_ENI) allows is attached and full",
  "max-pods": "the pool already holds as many addresses as the node runs pods (MAX_PODS)",
};

/** Why the pool cannot grow, or null when nothing stops it. */
export function growthBlock(reconciler: Pick<Reconciler, "hold" | "last">): GrowthBlock | null {
  const hold = reconciler.hold;
  if (hold !== null) return { reason: hold.reason, detail: hold.message, untilMs: hold.untilMs };
  const blocked = reconciler.last?.blocked ?? null;
  return blocked === null ? null : { reason: blocked, detail: LIMIT_TEXT[blocked], untilMs: null };
}
