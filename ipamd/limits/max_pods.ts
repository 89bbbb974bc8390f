/**
 * kubelet's `--max-pods` for an instance type, as EKS computes it: ENIs for pods ×
 * (IPv4 per ENI − 1) + 2 with secondary IPs (EKS's eni-max-pods.txt), ENIs for pods
 * × (IPv4 per ENI − 1) × 16 + 2 with prefix delegation, capped at 110 on instances
 * of at most 30 vCPUs and 250 above (max-pods-calculator.sh). Custom networking
 * keeps the primary ENI for the node, so one ENI fewer carries pods; MAX_ENI lowers
 * the ENIs. The "+ 2" is for the two host-network pods (the CNI and kube-proxy)
 * that need no address. `plan`, `status`, ipamd and `aws-cni max-pods` all use
 * this one function.
 *
 * @module
 */
import { type InstanceLimits, type InstanceTypeInfo, instanceTypeNames } from "./limits.ts";

/** Addresses in a delegated /28 prefix. */
export const ADDRESSES_PER_PREFIX = 16;
/** Pods that use the host's network and need no address (the CNI's daemon and kube-proxy). */
export const HOST_NETWORK_PODS = 2;
/** EKS's ceiling with prefix delegation on instances of at most 30 vCPUs, and above. */
export const LOW_CPU_CEILING = 110;
export const HIGH_CPU_CEILING = 250;
/** More vCPUs than this get the high ceiling (max-pods-calculator.sh: `CPU_COUNT -gt 30`). */
export const CEILING_VCPU_THRESHOLD = 30;

/** What the node's pods are addressed with. */
export interface MaxPodsOptions {
  readonly prefixDelegation: boolean;
  /** Custom networking: pods use secondary ENIs only (the primary ENI stays the node's). */
  readonly customNetworking?: boolean | undefined;
  /** MAX_ENI; 0 or absent = the instance's limit. */
  readonly maxEni?: number | undefined;
}

/** kubelet's max pods and how it was reached. */
export interface MaxPodsFigure {
  /** The value for kubelet's `--max-pods`. */
  readonly maxPods: number;
  /** Pod addresses the ENIs for pods can hold (no ceiling applied). */
  readonly addresses: number;
  /** ENIs that carry pod addresses. */
  readonly enisForPods: number;
  /** Pod addresses per ENI: IPv4 per ENI − 1, times 16 with prefixes. */
  readonly addressesPerEni: number;
  /** Whether prefixes are used (asked for and supported). */
  readonly prefixDelegation: boolean;
  /** The ceiling applied (prefix delegation only), or null. */
  readonly ceiling: number | null;
  /** The instance's default vCPUs, or null when not known. */
  readonly vcpus: number | null;
}

/**
 * kubelet's max pods for `info` with these settings.
 *
 * @throws {RangeError} When prefix delegation is asked of a type that does not support it, or when no ENI is left for pods.
 */
export function computeMaxPods(info: InstanceTypeInfo, options: MaxPodsOptions): MaxPodsFigure {
  const prefixDelegation = options.prefixDelegation;
  if (prefixDelegation && !(info.hypervisor === "nitro" || info.bareMetal)) {
    throw new RangeError(
      `Cannot use prefix delegation on instance type "${info.name}": it is neither Nitro nor bare metal`,
    );
  }
  const maxEni = options.maxEni ?? 0;
  const enis = maxEni > 0 ? Math.min(maxEni, info.maxEnis) : info.maxEnis;
  const enisForPods = options.customNetworking === true ? enis - 1 : enis;
  if (enisForPods < 1) {
    throw new RangeError(
      `Cannot run pods on instance type "${info.name}" with custom networking: ` +
        `${enis} ENI${enis === 1 ? "" : "s"} leave${enis === 1 ? "s" : ""} none besides the primary`,
    );
  }
  const addressesPerEni = (info.ipv4PerEni - 1) * (prefixDelegation ? ADDRESSES_PER_PREFIX : 1);
  const addresses = enisForPods * addressesPerEni;
  const uncapped = addresses + HOST_NETWORK_PODS;
  const vcpus = vcpusOf(info);
  const ceiling = prefixDelegation
    ? (vcpus !== null && vcpus > CEILING_VCPU_THRESHOLD ? HIGH_CPU_CEILING : LOW_CPU_CEILING)
    : null;
  const maxPods = ceiling === null ? uncapped : Math.min(ceiling, uncapped);
  return {
    maxPods,
    addresses,
    enisForPods,
    addressesPerEni,
    prefixDelegation,
    ceiling,
    vcpus,
  };
}

/** vCPUs of the sizes whose count does not follow "N xlarge = 4N vCPUs". */
const FIXED_SIZE_VCPUS: Readonly<Record<string, number>> = { large: 2, xlarge: 4 };
/** Types whose vCPUs differ from what their size name implies. */
const VCPU_EXCEPTIONS: Readonly<Record<string, number>> = {
  "hpc6a.48xlarge": 96,
  "hpc7a.12xlarge": 24,
  "hpc7a.24xlarge": 48,
  "hpc7a.48xlarge": 96,
  "hpc7a.96xlarge": 192,
  "hpc8a.96xlarge": 192,
  "hs1.8xlarge": 16,
};

/**
 * The instance's default vCPUs: DescribeInstanceTypes' figure when known, else
 * the size name's (large = 2, xlarge = 4, N xlarge and metal-Nxl = 4N, with a few
 * listed exceptions); a plain `.metal` counts as the largest size of its family in
 * the table. Null when the name does not tell (sizes below large, Mac types).
 */
export function vcpusOf(info: Pick<InstanceTypeInfo, "name" | "vcpus">): number | null {
  if (info.vcpus !== undefined) return info.vcpus;
  const name = info.name;
  const counted = vcpusFromSize(name);
  if (counted !== null || !name.endsWith(".metal")) return counted;
  const family = name.slice(0, name.indexOf(".") + 1);
  const counts = instanceTypeNames().filter((other) => other.startsWith(family))
    .map(vcpusFromSize).filter((n): n is number => n !== null);
  return counts.length === 0 ? null : Math.max(...counts);
}

function vcpusFromSize(name: string): number | null {
  if (Object.hasOwn(VCPU_EXCEPTIONS, name)) return VCPU_EXCEPTIONS[name]!;
  const size = name.slice(name.indexOf(".") + 1);
  if (Object.hasOwn(FIXED_SIZE_VCPUS, size)) return FIXED_SIZE_VCPUS[size]!;
  const sized = /^(?:metal-)?(\d+)xl(?:arge)?$/.exec(size);
  return sized === null ? null : 4 * Number(sized[1]);
}

/**
 * The pool's limits for an instance type: max pods is `computeMaxPods()`'s unless
 * `maxPods` (MAX_PODS) says otherwise.
 *
 * @throws {RangeError} When `maxPods` is not a positive integer, or as `computeMaxPods()` does.
 */
export function instanceLimits(
  info: InstanceTypeInfo,
  options: MaxPodsOptions & { readonly maxPods?: number | undefined },
): InstanceLimits {
  const maxPods = options.maxPods ?? computeMaxPods(info, options).maxPods;
  if (!Number.isSafeInteger(maxPods) || maxPods < 1) {
    throw new RangeError(
      `Invalid max pods ${maxPods} for instance type "${info.name}": must be a positive integer`,
    );
  }
  return Object.freeze({ maxEnis: info.maxEnis, ipv4PerEni: info.ipv4PerEni, maxPods });
}
