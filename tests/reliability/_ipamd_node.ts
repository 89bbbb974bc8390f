/**
 * A simulated node for the reliability suite (root only): a network namespace
 * and a mount namespace of its own (`createNodeMounts`: empty private tmpfs on
 * /run/aws-node, /var/log/aws-routed-eni and /etc/cni/net.d), the real ipamd
 * (`dist/aws-cni --daemon --simulate … --host-network`) running inside both as
 * a process the suite may SIGKILL and restart over the same checkpoint and
 * simulated cloud, pod namespaces, and `dist/aws-cni` exec'd inside the node as
 * a runtime runs it. Both run with the binary's own permission set and default
 * paths, as on a real node. Disposing kills the daemon and removes every
 * namespace and mount.
 *
 * @module
 */
import { NETCONF_DEFAULTS } from "../../cni/netconf.ts";
import { parseIpamdConfig } from "../../ipamd/config/config.ts";
import { releaseQueuePath } from "../../shared/release_queue.ts";
import { waitServing } from "../../testing/ipamd_requests.ts";
import {
  canCreateNetns,
  canCreateNodeMounts,
  createNetns,
  createNodeMounts,
  type Netns,
  type NodeMounts,
  type RunResult,
} from "../../testing/netns.ts";
import { PLUGIN, pluginBuilt, pluginEnv } from "../../testing/netns_node.ts";

/** The binary under test. */
export const BINARY: string = PLUGIN;

/** Whether the suite's nodes can be made here: root, namespaces, mounts and a built `dist/aws-cni`. */
export async function nodesReady(): Promise<boolean> {
  return await canCreateNetns() && await canCreateNodeMounts() && await pluginBuilt();
}

/** How the daemon is started. */
export interface IpamdNodeOptions {
  readonly instanceType?: string;
  /** Extra ipamd settings (env). */
  readonly env?: Record<string, string>;
  /** Extra daemon flags. */
  readonly args?: readonly string[];
  /** Run on another node's files (its mount namespace: socket, checkpoint, queue), in a network namespace of its own. */
  readonly filesOf?: IpamdNode;
  /** Another simulated cloud or log file (e.g. for a second daemon on the same files). */
  readonly paths?: Partial<Pick<NodePaths, "state" | "log">>;
}

/** What a daemon run ended with. */
export interface DaemonExit {
  readonly code: number;
  readonly signal: string | null;
  readonly stderr: string;
}

/** The files of one node, as the node sees them (`IpamdNode.outside` maps them for this process). */
export interface NodePaths {
  /** ipamd's socket: its default, which the plugin's netconf default names too. */
  readonly socket: string;
  /** ipamd's default checkpoint. */
  readonly checkpoint: string;
  /** The plugin's release queue, beside the socket. */
  readonly queue: string;
  /**
   * The simulated cloud (`--simulate-state`). It stands for EC2, not for a file
   * on the node, so it is kept off /run/aws-node: the disk faults the suite puts
   * there must not reach it.
   */
  readonly state: string;
  /** ipamd's log (`AWS_VPC_K8S_CNI_LOG_FILE`; its default is stderr). */
  readonly log: string;
  /** The plugin's default log. */
  readonly pluginLog: string;
}

const DEFAULTS = parseIpamdConfig({});

/** Where every node keeps its files: the product's defaults, or beside them in the permitted directories. */
export const NODE_PATHS: NodePaths = Object.freeze({
  socket: DEFAULTS.socketPath,
  checkpoint: DEFAULTS.checkpointPath,
  queue: releaseQueuePath(DEFAULTS.socketPath),
  state: "/var/log/aws-routed-eni/simulated-ec2.json",
  log: "/var/log/aws-routed-eni/ipamd.log",
  pluginLog: NETCONF_DEFAULTS.pluginLogFile,
});

/** The directory systemd makes for ipamd (`RuntimeDirectory=aws-node`, `RuntimeDirectoryMode=0700`). */
export const RUNTIME_DIR = "/run/aws-node";

/** A node namespace with a restartable ipamd process. */
export class IpamdNode implements AsyncDisposable {
  readonly netns: Netns;
  /** The node's private mounts (shared with the node it was made on, for `filesOf`). */
  readonly mounts: NodeMounts;
  readonly paths: NodePaths;
  readonly #options: IpamdNodeOptions;
  readonly #cleanup: AsyncDisposableStack;
  #child: Deno.ChildProcess | null = null;
  #stderr: Promise<string> = Promise.resolve("");
  #starts = 0;
  #alive = false;

  private constructor(
    netns: Netns,
    mounts: NodeMounts,
    paths: NodePaths,
    options: IpamdNodeOptions,
    cleanup: AsyncDisposableStack,
  ) {
    this.netns = netns;
    this.mounts = mounts;
    this.paths = paths;
    this.#options = options;
    this.#cleanup = cleanup;
  }

  /** Creates the namespaces and mounts; the daemon is not started. */
  static async create(label: string, options: IpamdNodeOptions = {}): Promise<IpamdNode> {
    const stack = new AsyncDisposableStack();
    try {
      let mounts = options.filesOf?.mounts;
      if (mounts === undefined) {
        mounts = stack.use(await createNodeMounts());
        // What systemd's RuntimeDirectoryMode=0700 makes of it on a real node.
        await Deno.chmod(mounts.outside(RUNTIME_DIR), 0o700);
      }
      const netns = stack.use(await createNetns(label, mounts));
      const paths: NodePaths = { ...NODE_PATHS, ...options.paths };
      const node = new IpamdNode(netns, mounts, paths, options, stack.move());
      node.#cleanup.defer(async () => void await node.kill9());
      return node;
    } catch (error) {
      await stack.disposeAsync();
      throw error;
    }
  }

  /** Where this process finds `path` as the node sees it (`NodeMounts.outside`). */
  outside(path: string): string {
    return this.mounts.outside(path);
  }

  /** How many times the daemon was started. */
  get starts(): number {
    return this.#starts;
  }

  /** Whether the daemon process this object started has not exited (whoever ended it). */
  get alive(): boolean {
    return this.#alive;
  }

  /** Whether a daemon process is running (as far as this object knows). */
  get running(): boolean {
    return this.#child !== null;
  }

  /** Spawns the daemon without waiting for it: default socket and checkpoint. */
  spawn(env: Record<string, string> = {}): Deno.ChildProcess {
    if (this.#child !== null) throw new Error("ipamd is already running");
    const o = this.#options;
    const child = new Deno.Command("nsenter", {
      args: [
        ...this.enter(),
        BINARY,
        "--daemon",
        "--simulate",
        o.instanceType ?? "c5.4xlarge",
        "--simulate-state",
        this.paths.state,
        "--simulate-latency-ms",
        "50",
        "--host-network",
        ...(o.args ?? []),
      ],
      env: pluginEnv({
        AWS_VPC_K8S_CNI_LOG_FILE: this.paths.log,
        AWS_VPC_K8S_CNI_LOGLEVEL: "INFO",
        POOL_RECONCILE_INTERVAL: "1",
        ...o.env,
        ...env,
      }),
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#starts++;
    this.#alive = true;
    child.status.then(() => {
      if (this.#child === child) this.#alive = false;
    });
    this.#stderr = new Response(child.stderr).text().catch(() => "");
    return child;
  }

  /** Starts the daemon and waits until it serves. */
  async start(env: Record<string, string> = {}): Promise<void> {
    const child = this.spawn(env);
    const exited = child.status.then((s) => {
      throw new Error(`ipamd exited (code ${s.code}, signal ${s.signal}) before serving`);
    });
    try {
      await Promise.race([waitServing(this.outside(this.paths.socket), 60_000), exited]);
    } catch (error) {
      const stderr = await this.kill9().then((e) => e?.stderr ?? "");
      const log = await this.readFile(this.paths.log) ?? "";
      throw new Error(`${(error as Error).message}\nstderr: ${stderr}\nlog tail: ${log.slice(-2000)}`);
    }
    exited.catch(() => {});
  }

  /** Waits for a spawned daemon to exit on its own. */
  async exit(): Promise<DaemonExit> {
    const child = this.#child;
    if (child === null) throw new Error("ipamd is not running");
    const status = await child.status;
    this.#child = null;
    return { code: status.code, signal: status.signal, stderr: await this.#stderr };
  }

  /** SIGKILL, as a crash; resolves once the process is gone (undefined when none ran). */
  async kill9(): Promise<DaemonExit | undefined> {
    if (this.#child === null) return undefined;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already exited
    }
    return await this.exit();
  }

  /** SIGTERM, as systemd stops it. */
  async stop(): Promise<DaemonExit> {
    this.#child?.kill("SIGTERM");
    return await this.exit();
  }

  /** Reads a file as the node sees it; null when missing. */
  async readFile(path: string): Promise<string | null> {
    return await Deno.readTextFile(this.outside(path)).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    });
  }

  /** `nsenter` options that enter the node: its network and mount namespaces. */
  enter(): string[] {
    return [`--mount=${this.mounts.ns}`, `--net=${this.netns.path}`];
  }

  /** Creates a pod namespace removed with the node (it shows inside the node's mounts too). */
  async pod(label: string): Promise<Netns> {
    return this.#cleanup.use(await createNetns(label));
  }

  /** Runs `dist/aws-cni` inside the node with `env` (CNI_*) and `stdin`. */
  plugin(env: Record<string, string>, stdin: string): Promise<RunResult> {
    return this.netns.exec(BINARY, [], { stdin, env: pluginEnv(env), clearEnv: true });
  }

  /** Spawns the plugin inside the node (to kill it); its stdin is written and closed. */
  spawnPlugin(env: Record<string, string>, stdin: string): Deno.ChildProcess {
    const child = new Deno.Command("nsenter", {
      args: [...this.enter(), BINARY],
      env: pluginEnv(env),
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(stdin)).then(() => writer.close()).catch(() => {});
    return child;
  }

  /** A netconf for this node, as ipamd's conflist has it: the default socket, the plugin log named. */
  netconf(fields: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      cniVersion: "1.1.0",
      name: "aws-cni",
      type: "aws-cni",
      pluginLogFile: this.paths.pluginLog,
      pluginLogLevel: "info",
      ...fields,
    };
  }

  /** `aws-cni status --json` inside the node (the introspection endpoint's `/v1/pool`). */
  async pool(): Promise<Record<string, unknown>> {
    const result = await this.netns.exec(BINARY, ["status", "--json"], {
      env: pluginEnv({}),
      clearEnv: true,
    });
    if (result.code !== 0) throw new Error(`aws-cni status failed: ${result.stderr}`);
    return JSON.parse(result.stdout);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#cleanup.disposeAsync();
  }
}

/** The env a runtime gives the plugin for one pod. */
export function podEnv(command: string, netns: string, containerId: string): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_NETNS: netns,
    CNI_IFNAME: "eth0",
    CNI_PATH: "/opt/cni/bin",
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${containerId}`,
  };
}

/** Parses the plugin's one stdout document (undefined for an empty stdout). */
export function pluginJson(result: RunResult): Record<string, unknown> | undefined {
  const text = result.stdout.trim();
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`plugin stdout is not one JSON document: ${result.stdout}\nstderr: ${result.stderr}`);
  }
}
