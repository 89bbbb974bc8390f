/**
 * The pool's vocabulary: what the policy reads (a snapshot of the node's ENIs),
 * what bounds it (instance limits and settings) and what it returns (a plan).
 * Plain data only: no SDK types, no clocks.
 *
 * @module
 */
import type { InstanceLimits } from "../limits/mod.ts";
import type { GrowthBlockReason } from "./growth.ts";

export type { InstanceLimits };

/**
 * One address of a CIDR: handed to a pod, free, or released and cooling down until
 * `untilMs` (the datastore owns the cooldown; the policy only reads when it ends).
 */
export type AddressState =
  | { readonly kind: "free" }
  | { readonly kind: "assigned" }
  | { readonly kind: "cooling"; readonly untilMs: number };

/** A secondary IP (`a.b.c.d/32`) or a delegated prefix (`a.b.c.d/28`) on an ENI. */
export interface CidrSnapshot {
  readonly cidr: string;
  /** True for a /28 prefix (16 addresses), false for a secondary IP. */
  readonly prefix: boolean;
  /** One entry per address, in address order: 1 for a /32, 16 for a /28. */
  readonly addresses: readonly AddressState[];
}

/** One ENI as the pool sees it. */
export interface EniSnapshot {
  readonly eniId: string;
  readonly deviceNumber: number;
  readonly primary: boolean;
  /** When the ENI joined the pool; an ENI younger than the minimum age is never freed. */
  readonly createdAtMs: number;
  readonly cidrs: readonly CidrSnapshot[];
}

/** Everything the policy needs to know about the node at one instant. */
export interface PoolSnapshot {
  /** Managed ENIs, in any order (the policy sorts by device number). */
  readonly enis: readonly EniSnapshot[];
  /** ADDs waiting because nothing was assignable. */
  readonly waitingAdds: number;
  /** When addresses were last released to EC2, or null if never. */
  readonly lastDecreaseAtMs: number | null;
  /**
   * The most addresses pods held or waited for (assigned + cooling + waiting) within
   * the scale-down window, and when that peak leaves the window. The pool only
   * shrinks below what the peak needs, so churn around a mean does not flap.
   */
  readonly peakDemand?: { readonly addresses: number; readonly untilMs: number };
}

/** The warm-pool settings, fully resolved (see ipamd/config/config.ts for the env names). */
export interface PoolSettings {
  readonly warmEniTarget: number;
  /** 0 means unset. */
  readonly warmIpTarget: number;
  /** 0 means unset. */
  readonly minimumIpTarget: number;
  /** 0 means no cap beyond the instance limit. */
  readonly maxEni: number;
  readonly prefixDelegation: boolean;
  readonly warmPrefixTarget: number;
  /** How long a pod's released address is not handed out again (the pool's datastore applies it). */
  readonly ipCooldownMs: number;
  /** An ENI younger than this is never freed. */
  readonly minEniAgeMs: number;
  /** Least time between two releases of addresses to EC2. */
  readonly decreaseIntervalMs: number;
  /**
   * How long a demand peak keeps the pool from shrinking below it; null: by mode
   * (300 s with WARM_ENI_TARGET, 180 s with IP targets or prefixes; `scaleDownWindowMs()`).
   */
  readonly scaleDownWindowMs: number | null;
  /** Custom networking: the primary ENI carries no pod addresses. */
  readonly customNetworking: boolean;
  /** Spare addresses shrink as the subnets near exhaustion (see subnet_room.ts). */
  readonly subnetAware: boolean;
}

/** Defaults of the reference where the settings leave a value out. */
export const DEFAULT_POOL_SETTINGS: PoolSettings = Object.freeze({
  warmEniTarget: 1,
  warmIpTarget: 0,
  minimumIpTarget: 0,
  maxEni: 0,
  prefixDelegation: false,
  warmPrefixTarget: 1,
  ipCooldownMs: 30_000,
  minEniAgeMs: 60_000,
  decreaseIntervalMs: 30_000,
  scaleDownWindowMs: null,
  customNetworking: false,
  subnetAware: true,
});

/** One step of a plan. Counts are IPs, or /28 prefixes with prefix delegation. */
export type PoolAction =
  | { readonly kind: "assign"; readonly eniId: string; readonly count: number }
  | { readonly kind: "create-eni"; readonly count: number }
  | { readonly kind: "release"; readonly eniId: string; readonly cidrs: readonly string[] }
  | { readonly kind: "free-eni"; readonly eniId: string };

/** Address counts over the CIDRs of the current mode. */
export interface PoolStats {
  readonly enis: number;
  /** Addresses held from the subnet (16 per prefix). */
  readonly total: number;
  readonly assigned: number;
  /** Released addresses still in their cooldown. */
  readonly cooling: number;
  /** Addresses a pod can get now: total − assigned − cooling. */
  readonly usable: number;
}

/** What the policy decided. */
export interface PoolPlan {
  readonly actions: readonly PoolAction[];
  readonly stats: PoolStats;
  /** Addresses missing before this plan's actions. */
  readonly shortIps: number;
  /** Set when the actions cannot cover the shortfall: "max-enis" or "max-pods". */
  readonly blocked: GrowthBlockReason | null;
  /** When a decision deferred by a cooldown, the ENI minimum age or decrease spacing comes due. */
  readonly nextWakeMs: number | null;
  /** The spare addresses subnet-aware targets cut the warm targets to, or null when they do not. */
  readonly subnetSpare?: number | null;
}
