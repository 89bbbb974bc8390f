/**
 * The node a command simulates, from flags and the daemon's env var names
 * (flags win): instance type, limits and pool settings. Shared by `plan` and
 * `replay`.
 *
 * @module
 */
import { POOL_ENV, resolvePoolSettings } from "../ipamd/config/mod.ts";
import {
  computeMaxPods,
  instanceLimits,
  type InstanceTypeInfo,
  type MaxPodsFigure,
  supportsPrefixDelegation,
} from "../ipamd/limits/mod.ts";
import { lookupTypedInstanceType } from "./instance_types.ts";
import type { InstanceLimits, PoolSettings } from "../ipamd/pool/mod.ts";

/** A command line that cannot be run as given (exit code 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Value-taking flags that map onto pool env var names, e.g. `warm-ip-target` → `WARM_IP_TARGET`. */
export const SETTING_FLAGS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(POOL_ENV)
    .filter((row) => row.flag !== undefined && row.name !== "ENABLE_PREFIX_DELEGATION")
    .map((row) => [row.flag!.slice(2), row.name]),
);

/** `parseArgs` options for the node flags. */
export const NODE_FLAG_OPTIONS = {
  "instance-type": { type: "string" },
  "max-pods": { type: "string" },
  "prefix-delegation": { type: "boolean" },
  ...Object.fromEntries(Object.keys(SETTING_FLAGS).map((name) => [name, { type: "string" as const }])),
} as const;

/** The simulated node. */
export interface NodeFlags {
  readonly instanceType: string;
  readonly info: InstanceTypeInfo;
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  /** kubelet's max pods as EKS computes it, and the pod addresses the node's ENIs hold. */
  readonly figure: MaxPodsFigure;
}

/** Resolves the node from parsed flag values and the environment; throws UsageError or ConfigError. */
export function resolveNodeFlags(
  values: Readonly<Record<string, string | boolean | undefined>>,
  env: Readonly<Record<string, string>>,
): NodeFlags {
  const instanceType = values["instance-type"];
  if (typeof instanceType !== "string" || instanceType === "") {
    throw new UsageError("Missing --instance-type");
  }
  const overrides: Record<string, string> = {};
  for (const [flag, name] of Object.entries(SETTING_FLAGS)) {
    const value = values[flag];
    if (typeof value === "string") overrides[name] = value;
  }
  if (values["prefix-delegation"] === true) overrides.ENABLE_PREFIX_DELEGATION = "true";
  const settings = resolvePoolSettings(env, overrides);
  const info = lookupTypedInstanceType(instanceType);
  if (settings.prefixDelegation && !supportsPrefixDelegation(info)) {
    throw new UsageError(`Instance type "${instanceType}" does not support prefix delegation (not Nitro)`);
  }
  const maxPodsText = typeof values["max-pods"] === "string" ? values["max-pods"] : env.MAX_PODS;
  const maxPods = maxPodsText === undefined || maxPodsText === "" ? undefined : Number(maxPodsText);
  if (maxPods !== undefined && !(Number.isInteger(maxPods) && maxPods > 0)) {
    throw new UsageError(`Invalid max pods "${maxPodsText}": must be a positive integer`);
  }
  const figure = computeMaxPods(info, {
    prefixDelegation: settings.prefixDelegation,
    maxEni: settings.maxEni,
  });
  const limits = instanceLimits(info, {
    prefixDelegation: settings.prefixDelegation,
    maxEni: settings.maxEni,
    maxPods,
  });
  return { instanceType: info.name, info, limits, settings, figure };
}
