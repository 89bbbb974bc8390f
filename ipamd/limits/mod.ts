/**
 * EC2 instance limits: ENIs and IPv4 addresses per ENI for every instance type,
 * and the limits the pool works within (max ENIs, addresses per ENI, max pods).
 *
 * @module
 */
export {
  type DescribedInstanceType,
  infoFromDescribe,
  type InstanceLimits,
  type InstanceTypeInfo,
  instanceTypeNames,
  lookupInstanceType,
  supportsPrefixDelegation,
  UnknownInstanceTypeError,
} from "./limits.ts";
export {
  CEILING_VCPU_THRESHOLD,
  computeMaxPods,
  HOST_NETWORK_PODS,
  instanceLimits,
  type MaxPodsFigure,
  type MaxPodsOptions,
  vcpusOf,
} from "./max_pods.ts";
