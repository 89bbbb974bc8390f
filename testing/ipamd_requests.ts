/**
 * RPC requests as the plugin sends them, and waiting for an ipamd to serve,
 * for tests and benchmarks.
 */
import { IpamdClient } from "../cni/rpc/client.ts";
import { type AddNetworkRequest, type DelNetworkRequest, ServingStatus } from "../shared/rpc/messages.ts";

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

/** Resolves once the ipamd on `socket` answers health checks with SERVING. */
export async function waitServing(socket: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const client = new IpamdClient(socket);
    try {
      if (await client.healthCheck({ deadlineMs: 500 }) === ServingStatus.SERVING) return;
    } catch {
      // not up yet
    } finally {
      await client.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`ipamd did not serve on ${socket} within ${timeoutMs} ms`);
}
