/**
 * RPC requests as the plugin sends them, starting ipamd inside a test node
 * and waiting for it, for tests and benchmarks.
 */
import { IpamdClient } from "../cni/rpc/client.ts";
import { type AddNetworkRequest, type DelNetworkRequest, ServingStatus } from "../shared/rpc/messages.ts";
import type { Netns, NodeMounts } from "./netns.ts";

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

/** The built binary (`make build`), by absolute path: `nsenter --mount` starts programs in `/`. */
export const AWS_CNI = new URL("../dist/aws-cni", import.meta.url).pathname;

/**
 * Where a node's daemon keeps its state: the default socket and checkpoint, and
 * a log file and simulated cloud in the directories its permissions allow.
 */
export const NODE_FILES = {
  socket: "/run/aws-node/ipamd.sock",
  checkpoint: "/run/aws-node/ipam.json",
  simulateState: "/run/aws-node/sim-state.json",
  log: "/var/log/aws-routed-eni/ipamd.log",
} as const;

/** How to start `aws-cni --daemon` in a node. */
export interface NodeDaemonOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Also enter this network namespace; else the daemon shares the test's. */
  netns?: Netns;
  stdout?: "null" | "piped" | "inherit";
  stderr?: "null" | "piped" | "inherit";
}

/**
 * Spawns `aws-cni --daemon …args` inside the node's mount namespace (and
 * `netns`), where it runs with its narrow permissions and default paths.
 * nsenter and the launcher exec, so the child's pid and signals are the daemon's.
 */
export function spawnNodeDaemon(
  mounts: NodeMounts,
  args: readonly string[],
  options: NodeDaemonOptions = {},
): Deno.ChildProcess {
  const enter = [
    `--mount=${mounts.ns}`,
    ...(options.netns === undefined ? [] : [`--net=${options.netns.path}`]),
  ];
  return new Deno.Command("nsenter", {
    args: [...enter, AWS_CNI, "--daemon", ...args],
    env: options.env ?? {},
    stdin: "null",
    stdout: options.stdout ?? "null",
    stderr: options.stderr ?? "null",
  }).spawn();
}
