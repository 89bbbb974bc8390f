/** RPC requests as the plugin sends them, for tests and benchmarks. */
import type { AddNetworkRequest, DelNetworkRequest } from "../shared/rpc/messages.ts";

export function addRequest(containerId: string, ifName = "eth0"): AddNetworkRequest {
  return {
    clientVersion: "test",
    podName: `pod-${containerId}`,
    podNamespace: "default",
    podInfraContainerId: containerId,
    netns: "/var/run/netns/x",
    ifName,
    networkName: "aws-cni",
    containerId,
    requiresMultiNicAttachment: false,
  };
}

export function delRequest(containerId: string, ifName = "eth0"): DelNetworkRequest {
  return {
    podName: `pod-${containerId}`,
    podNamespace: "default",
    podInfraContainerId: containerId,
    reason: "PodDeleted",
    ifName,
    networkName: "aws-cni",
    containerId,
    clientVersion: "test",
    podUid: "",
  };
}
