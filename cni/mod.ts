/**
 * The CNI plugin: kubelet's runtime runs the binary with CNI_COMMAND set and
 * the network config on stdin. `runPlugin` wires the real ports (the lean gRPC
 * client of ipamd, `ip`/`nsenter`, the release queue file, the plugin log) and
 * hands the process values to the dispatcher.
 *
 * @module
 */
import { FileReleaseQueue, type Io, narrowPlugin } from "../shared/mod.ts";
import type { PluginDeps } from "./deps.ts";
import { dispatch } from "./dispatch.ts";
import { SessionIpRunner } from "./ip_session.ts";
import { RpcIpamdApi } from "./ipamd_api.ts";
import { checkNetns } from "./netns_check.ts";
import { openPluginLog } from "./plugin_log.ts";

export type { PluginDeps, VerbContext } from "./deps.ts";
export type { Allocation, IpamdApi, PoolReadiness } from "./ipamd_api.ts";
export { POOL_HEALTH_SERVICE } from "./ipamd_api.ts";
export {
  type PendingRelease,
  readReleaseQueue,
  RELEASE_QUEUE_FILE,
  releaseQueuePath,
} from "../shared/mod.ts";
export { NETCONF_DEFAULTS } from "./netconf.ts";

/**
 * Deadlines of ipamd calls: ADD may wait for the pool to grow (ipamd answers within
 * ADD_WAIT_TIMEOUT, at most 60 s, so its reason arrives before this deadline, and
 * kubelet gives the runtime 2 minutes); DEL and queries should be quick.
 */
export const IPAMD_DEADLINES = { addMs: 65_000, delMs: 5_000, queryMs: 5_000 } as const;

/** The production ports. */
export function defaultPluginDeps(): PluginDeps {
  return {
    ipamd: (socketPath) => new RpcIpamdApi(socketPath),
    ip: new SessionIpRunner(),
    releaseQueue: (path) => new FileReleaseQueue(path),
    checkNetns: (path) => checkNetns(path),
    randomBytes: (bytes) => void crypto.getRandomValues(bytes),
    openLog: openPluginLog,
    now: () => Date.now(),
    deadlines: IPAMD_DEADLINES,
  };
}

/** Runs the plugin for one invocation and returns the exit status; `overrides` replace ports in tests. */
export function runPlugin(io: Io, overrides: Partial<PluginDeps> = {}): Promise<number> {
  return dispatch(io, { ...defaultPluginDeps(), ...overrides });
}

/** The plugin role as main.ts starts it: the real ports, narrowed to its permissions once CNI_NETNS is checked. */
export async function pluginMain(io: Io): Promise<number> {
  return runPlugin(io, {
    checkNetns: await narrowPlugin(io.env["CNI_NETNS"] ?? "", (path) => checkNetns(path)),
  });
}
