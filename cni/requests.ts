/**
 * The ipamd requests of one invocation, built from the CNI environment and the
 * netconf in one place.
 *
 * @module
 */
import type { AddNetworkRequest, DelNetworkRequest } from "../shared/rpc/mod.ts";
import { VERSION } from "../shared/mod.ts";
import type { CniEnv } from "./env.ts";
import type { NetConf } from "./netconf.ts";

/** Why a release was asked for, as the reference spells it. */
export type ReleaseReason = "PodDeleted" | "SetupNSFailed" | "GarbageCollected";

/** The AddNetwork request for this pod interface. */
export function addRequest(env: CniEnv, conf: NetConf): AddNetworkRequest {
  return {
    clientVersion: VERSION,
    podName: env.k8s.podName,
    podNamespace: env.k8s.podNamespace,
    podInfraContainerId: env.k8s.podInfraContainerId,
    netns: env.netns,
    ifName: env.ifName,
    networkName: conf.name,
    containerId: env.containerId,
    requiresMultiNicAttachment: false,
  };
}

/** The DelNetwork request for a pod interface. */
export function delRequest(
  env: Pick<CniEnv, "containerId" | "ifName" | "k8s">,
  conf: NetConf,
  reason: ReleaseReason,
): DelNetworkRequest {
  return {
    podName: env.k8s.podName,
    podNamespace: env.k8s.podNamespace,
    podInfraContainerId: env.k8s.podInfraContainerId,
    reason,
    ifName: env.ifName,
    networkName: conf.name,
    containerId: env.containerId,
    clientVersion: VERSION,
    podUid: env.k8s.podUid,
  };
}
