/**
 * The CNI plugin: kubelet's runtime runs the binary with CNI_COMMAND set and
 * the network config on stdin. `runPlugin` wires the real ports (the lean gRPC
 * client of ipamd, `ip`/`nsenter`, the release queue file, the plugin log) and
 * hands the process values to the dispatcher.
 *
 * @module
 */
import { CommandIpRunner, FileReleaseQueue, type Io, narrowPlugin } from "../shared/mod.ts";
import type { PluginDeps } from "./deps.ts";
import { dispatch } from "./dispatch.ts";
import { RpcIpamdApi } from "./ipamd_api.ts";
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

/** Deadlines of ipamd calls: ADD may wait for the pool to grow; DEL and queries should be quick. */
export const IPAMD_DEADLINES = { addMs: 10_000, delMs: 5_000, queryMs: 5_000 } as const;

/** Namespace inode numbers start here (the kernel's PROC_DYNAMIC_FIRST). */
const FIRST_NAMESPACE_INODE = 0xf0000000;

/**
 * Whether `path` looks like a namespace file: an empty regular file on an
 * anonymous device (nsfs) with a namespace inode number. Comparing with
 * /proc/self/ns/net would be exact, but Deno refuses /proc/self without
 * --allow-all; a file that passes this and is not a network namespace still
 * fails when `ip` enters it. A symlink is refused: it could lead past Deno's
 * /proc guard to the host's own namespace (`/proc/1/ns/net`).
 */
async function isNetns(path: string): Promise<boolean> {
  try {
    const info = await Deno.lstat(path);
    const major = Math.floor(info.dev / 256) & 0xfff;
    return info.isFile && info.size === 0 && major === 0 && (info.ino ?? 0) >= FIRST_NAMESPACE_INODE;
  } catch {
    return false;
  }
}

/** The production ports. */
export function defaultPluginDeps(): PluginDeps {
  return {
    ipamd: (socketPath) => new RpcIpamdApi(socketPath),
    ip: new CommandIpRunner(),
    releaseQueue: (path) => new FileReleaseQueue(path),
    isNetns,
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
  return runPlugin(io, { isNetns: await narrowPlugin(io.env["CNI_NETNS"] ?? "", isNetns) });
}
