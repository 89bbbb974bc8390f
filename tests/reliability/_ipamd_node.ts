/**
 * A simulated node for the reliability suite (root only): a network namespace
 * the suite creates, the real ipamd (`dist/aws-cni --daemon --simulate …
 * --host-network`) running inside it as a process the suite may SIGKILL and
 * restart over the same checkpoint and simulated cloud, pod namespaces, and
 * `dist/aws-cni` exec'd inside the node as a runtime runs it. Disposing kills
 * the daemon and removes every namespace and file.
 *
 * @module
 */
import { waitServing } from "../ipamd_requests.ts";
import { createNetns, createTempDir, type Netns, run, type RunResult } from "../netns.ts";
import { PLUGIN, pluginEnv } from "../netns_node.ts";

/** The binary under test (`AWS_CNI_BINARY` may point at a launcher with other permissions). */
export const BINARY: string = Deno.env.get("AWS_CNI_BINARY") || PLUGIN;

/** How the daemon is started. */
export interface IpamdNodeOptions {
  readonly instanceType?: string;
  /** Extra ipamd settings (env). */
  readonly env?: Record<string, string>;
  /** Extra daemon flags. */
  readonly args?: readonly string[];
  /** Paths to use instead of the node's own (e.g. another node's socket and checkpoint). */
  readonly paths?: Partial<NodePaths>;
}

/** What a daemon run ended with. */
export interface DaemonExit {
  readonly code: number;
  readonly signal: string | null;
  readonly stderr: string;
}

/** The files of one node. */
export interface NodePaths {
  readonly dir: string;
  readonly socket: string;
  readonly checkpoint: string;
  readonly state: string;
  readonly log: string;
  readonly pluginLog: string;
}

/** A node namespace with a restartable ipamd process. */
export class IpamdNode implements AsyncDisposable {
  readonly netns: Netns;
  readonly paths: NodePaths;
  readonly #options: IpamdNodeOptions;
  readonly #cleanup: AsyncDisposableStack;
  #child: Deno.ChildProcess | null = null;
  #stderr: Promise<string> = Promise.resolve("");
  #starts = 0;
  #alive = false;
  /** A mount namespace (`/proc/<pid>/ns/mnt`) the daemon and plugin run in, if any. */
  mountNs: string | undefined;

  private constructor(
    netns: Netns,
    paths: NodePaths,
    options: IpamdNodeOptions,
    cleanup: AsyncDisposableStack,
  ) {
    this.netns = netns;
    this.paths = paths;
    this.#options = options;
    this.#cleanup = cleanup;
  }

  /** Creates the namespace and temp dir; the daemon is not started. */
  static async create(label: string, options: IpamdNodeOptions = {}): Promise<IpamdNode> {
    const stack = new AsyncDisposableStack();
    try {
      const netns = stack.use(await createNetns(label));
      const dir = stack.use(await createTempDir(`aws-cni-${label}-`));
      const paths: NodePaths = {
        dir: dir.path,
        socket: `${dir.path}/run/ipamd.sock`,
        checkpoint: `${dir.path}/run/ipam.json`,
        state: `${dir.path}/cloud.json`,
        log: `${dir.path}/ipamd.log`,
        pluginLog: `${dir.path}/plugin.log`,
        ...options.paths,
      };
      const node = new IpamdNode(netns, paths, options, stack.move());
      node.#cleanup.defer(async () => void await node.kill9());
      return node;
    } catch (error) {
      await stack.disposeAsync();
      throw error;
    }
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

  /** Spawns the daemon without waiting for it. */
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
        "--socket",
        this.paths.socket,
        "--checkpoint",
        this.paths.checkpoint,
        ...(o.args ?? []),
      ],
      env: pluginEnv({
        AWS_VPC_K8S_CNI_LOG_FILE: this.paths.log,
        AWS_VPC_K8S_CNI_LOGLEVEL: "INFO",
        // Read only by run.ts --narrow's launcher: the daemon may listen on this socket.
        AWS_CNI_TEST_SOCKET: this.paths.socket,
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
      await Promise.race([this.#waitServing(60_000), exited]);
    } catch (error) {
      const stderr = await this.kill9().then((e) => e?.stderr ?? "");
      const log = await Deno.readTextFile(this.paths.log).catch(() => "");
      throw new Error(`${(error as Error).message}\nstderr: ${stderr}\nlog tail: ${log.slice(-2000)}`);
    }
    exited.catch(() => {});
  }

  /** Health checks on the socket; from inside the mount namespace (plugin STATUS) when there is one. */
  async #waitServing(timeoutMs: number): Promise<void> {
    if (this.mountNs === undefined) return await waitServing(this.paths.socket, timeoutMs);
    const until = Date.now() + timeoutMs;
    const env = { CNI_COMMAND: "STATUS", CNI_PATH: "/opt/cni/bin" };
    while (Date.now() < until) {
      if ((await this.plugin(env, JSON.stringify(this.netconf()))).code === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`ipamd did not serve on ${this.paths.socket} within ${timeoutMs} ms`);
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

  /** Reads a file as the daemon sees it (inside its mount namespace); null when missing. */
  async readFile(path: string): Promise<string | null> {
    if (this.mountNs === undefined) {
      return await Deno.readTextFile(path).catch((error) => {
        if (error instanceof Deno.errors.NotFound) return null;
        throw error;
      });
    }
    const result = await run("nsenter", [`--mount=${this.mountNs}`, "cat", path]);
    return result.code === 0 ? result.stdout : null;
  }

  /** `nsenter` options that enter the node (and its mount namespace, if any). */
  enter(): string[] {
    return [`--net=${this.netns.path}`, ...(this.mountNs === undefined ? [] : [`--mount=${this.mountNs}`])];
  }

  /** Creates a pod namespace removed with the node. */
  async pod(label: string): Promise<Netns> {
    return this.#cleanup.use(await createNetns(label));
  }

  /** Runs `dist/aws-cni` inside the node with `env` (CNI_*) and `stdin`. */
  plugin(env: Record<string, string>, stdin: string): Promise<RunResult> {
    return run("nsenter", [...this.enter(), BINARY], { stdin, env: this.#pluginEnv(env), clearEnv: true });
  }

  /** Spawns the plugin inside the node (to kill it); its stdin is written and closed. */
  spawnPlugin(env: Record<string, string>, stdin: string): Deno.ChildProcess {
    const child = new Deno.Command("nsenter", {
      args: [...this.enter(), BINARY],
      env: this.#pluginEnv(env),
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(stdin)).then(() => writer.close()).catch(() => {});
    return child;
  }

  /** The runtime's env for a plugin run, plus the test socket for run.ts --narrow's launcher. */
  #pluginEnv(env: Record<string, string>): Record<string, string> {
    return pluginEnv({ AWS_CNI_TEST_SOCKET: this.paths.socket, ...env });
  }

  /** A netconf for this node. */
  netconf(fields: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      cniVersion: "1.1.0",
      name: "aws-cni",
      type: "aws-cni",
      ipamdSocket: this.paths.socket,
      pluginLogFile: this.paths.pluginLog,
      pluginLogLevel: "info",
      ...fields,
    };
  }

  /** `aws-cni status --json` inside the node (the introspection endpoint's `/v1/pool`). */
  async pool(): Promise<Record<string, unknown>> {
    const result = await run("nsenter", [...this.enter(), BINARY, "status", "--json"], {
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
