/**
 * What the plugin's verbs need from the outside world, as one record, and the
 * per-invocation context each verb handler receives.
 *
 * @module
 */
import type { IpRunner, Logger, ReleaseQueue } from "../shared/mod.ts";
import type { CniEnv } from "./env.ts";
import type { IpSessions } from "./ip_session.ts";
import type { IpamdApi } from "./ipamd_api.ts";
import type { NetConf } from "./netconf.ts";
import type { NetnsVerdict } from "./netns_check.ts";

/** The plugin's ports. `runPlugin` builds the real ones; tests pass fakes. */
export interface PluginDeps {
  /** Opens the ipamd API for a socket path (no I/O until the first call). */
  readonly ipamd: (socketPath: string) => IpamdApi;
  /** One-shot batches, and sessions: `ip` started before its commands are known. */
  readonly ip: IpRunner & IpSessions;
  /** The durable queue for releases ipamd could not take, by queue path. */
  readonly releaseQueue: (path: string) => ReleaseQueue;
  /** Checks a path as a pod's network namespace (CNI_NETNS; netns_check.ts). */
  readonly checkNetns: (path: string) => Promise<NetnsVerdict>;
  /** Fills bytes with randomness (MACs). */
  readonly randomBytes: (bytes: Uint8Array) => void;
  /** Opens the plugin log for a netconf; `stderr` is the fallback writer. */
  readonly openLog: (conf: NetConf, stderr: (text: string) => void) => Logger;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Deadlines of ipamd calls. */
  readonly deadlines: { readonly addMs: number; readonly delMs: number; readonly queryMs: number };
}

/** What a verb handler gets. */
export interface VerbContext {
  readonly env: CniEnv;
  readonly conf: NetConf;
  readonly ipamd: IpamdApi;
  readonly deps: PluginDeps;
  readonly log: Logger;
  /** Whether the plugin could look at CNI_NETNS itself (see netns_check.ts); ADD verifies more when not. */
  readonly netnsLooked: boolean;
}
