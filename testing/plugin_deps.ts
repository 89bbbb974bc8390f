/**
 * Test helpers for the plugin: fake ports wired into `PluginDeps`, a recorded
 * invocation, and the env and netconf of a typical pod.
 *
 * @module
 */
import { FakeIpRunner } from "./fake_ip_runner.ts";
import { type RecordedIo, recordedIo } from "./recorded_io.ts";
import { createLogger } from "../shared/log.ts";
import type { PluginDeps } from "../cni/deps.ts";
import { dispatch } from "../cni/dispatch.ts";
import { FakeIpamdApi } from "./fake_ipamd_api.ts";
import type { PendingRelease, ReleaseQueue } from "../shared/release_queue.ts";

/** A queue that keeps lines in memory; `failing` makes appends throw. */
export class MemoryReleaseQueue implements ReleaseQueue {
  readonly lines: { path: string; release: PendingRelease }[] = [];
  failing = false;
  path = "";

  append(release: PendingRelease): Promise<void> {
    if (this.failing) return Promise.reject(new Error("disk full"));
    this.lines.push({ path: this.path, release });
    return Promise.resolve();
  }
}

/** Every fake a plugin test may look at. */
export interface Fakes {
  readonly ip: FakeIpRunner;
  readonly ipamd: FakeIpamdApi;
  readonly queue: MemoryReleaseQueue;
  readonly logLines: string[];
  readonly deps: PluginDeps;
  /** Socket paths the plugin opened ipamd on. */
  readonly sockets: string[];
}

/** The pod netns path the fakes know. */
export const POD_NETNS = "/var/run/netns/cni-test-pod";

/** Fresh fakes with one pod namespace (`POD_NETNS`). */
export function createFakes(): Fakes {
  const ip = new FakeIpRunner();
  ip.addNetns(POD_NETNS);
  const ipamd = new FakeIpamdApi();
  const queue = new MemoryReleaseQueue();
  const logLines: string[] = [];
  const sockets: string[] = [];
  let seed = 1;
  const deps: PluginDeps = {
    ipamd: (socketPath) => {
      sockets.push(socketPath);
      return ipamd;
    },
    ip,
    releaseQueue: (path) => {
      queue.path = path;
      return queue;
    },
    checkNetns: (path) =>
      Promise.resolve({ problem: ip.namespaces.has(path) ? undefined : "does not exist", looked: true }),
    randomBytes: (bytes) => bytes.forEach((_, i) => bytes[i] = (seed++ * 37) & 255),
    openLog: (conf) => createLogger((line) => void logLines.push(line), { level: conf.pluginLogLevel }),
    now: () => 1_700_000_000_000,
    deadlines: { addMs: 1000, delMs: 1000, queryMs: 1000 },
  };
  return { ip, ipamd, queue, logLines, deps, sockets };
}

/** The env of a Kubernetes pod for `command`. */
export function podEnv(command: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: "c0ffee01",
    CNI_NETNS: POD_NETNS,
    CNI_IFNAME: "eth0",
    CNI_PATH: "/opt/cni/bin",
    CNI_ARGS:
      "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=c0ffee01",
    ...overrides,
  };
}

/** A netconf as JSON text. */
export function netconf(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ cniVersion: "1.0.0", name: "aws-cni", type: "aws-cni", ...fields });
}

/** What one recorded invocation produced. */
export interface Invocation {
  readonly status: number;
  readonly io: RecordedIo;
  /** stdout parsed as the one JSON document it must be, or undefined when stdout is empty. */
  readonly json: Record<string, unknown> | undefined;
}

/** Runs the dispatcher once with a recorded IO and the fakes' deps. */
export async function invoke(fakes: Fakes, env: Record<string, string>, stdin: string): Promise<Invocation> {
  const io = recordedIo({ env, stdin });
  const status = await dispatch(io, fakes.deps);
  const out = io.out.join("");
  return { status, io, json: out === "" ? undefined : JSON.parse(out) };
}
