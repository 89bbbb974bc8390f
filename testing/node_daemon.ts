/**
 * `dist/aws-cni --daemon` on a test node, a process the test starts, kills and
 * restarts: inside the node's mount and network namespaces, with a clean
 * environment that holds the simulated cloud's endpoints and credentials, the
 * node's settings and the test's.
 *
 * @module
 */
import type { CloudProcess } from "./cloud_process.ts";
import { AWS_CNI, pluginEnv } from "./binary.ts";
import { waitServing } from "./ipamd_requests.ts";

/** The settings every test node's daemon starts with, besides its log at the node's log path (a test's `env` wins). */
export const NODE_DAEMON_ENV: Readonly<Record<string, string>> = Object.freeze({
  AWS_VPC_K8S_CNI_LOGLEVEL: "INFO",
  POOL_RECONCILE_INTERVAL: "1",
});

/** How a daemon run ended. */
export interface DaemonExit {
  readonly code: number;
  readonly signal: string | null;
  readonly stderr: string;
}

/** What the daemon needs of its node. */
export interface DaemonHost {
  readonly cloud: CloudProcess | null;
  readonly paths: { readonly socket: string; readonly log: string };
  /** `nsenter` options that enter the node. */
  enter(): string[];
  /** Where this process finds a node path. */
  outside(path: string): string;
  readFile(path: string): Promise<string | null>;
}

/** `dist/aws-cni --daemon` on a node: started, killed and restarted by the test. */
export class NodeDaemon {
  readonly #node: DaemonHost;
  readonly #env: Readonly<Record<string, string>>;
  readonly #args: readonly string[];
  #child: Deno.ChildProcess | null = null;
  #stderr: Promise<string> = Promise.resolve("");
  #starts = 0;
  #alive = false;

  constructor(node: DaemonHost, env: Readonly<Record<string, string>>, args: readonly string[]) {
    this.#node = node;
    this.#env = env;
    this.#args = args;
  }

  /** How many times the daemon was started. */
  get starts(): number {
    return this.#starts;
  }

  /** Whether the process this object started last has not exited (whoever ended it). */
  get alive(): boolean {
    return this.#alive;
  }

  /** Whether a daemon process is running as far as this object knows (not yet reaped). */
  get running(): boolean {
    return this.#child !== null;
  }

  /** The pid of the running daemon. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /**
   * Spawns the daemon inside the node without waiting for it; `env` adds to its settings.
   * `program` is the binary to run (default `dist/aws-cni`; an installed copy, say).
   */
  spawn(
    env: Record<string, string> = {},
    args: readonly string[] = [],
    program = AWS_CNI,
  ): Deno.ChildProcess {
    if (this.#child !== null) throw new Error("ipamd is already running");
    const cloud = this.#node.cloud;
    if (cloud === null) throw new Error("A node without a cloud runs no daemon");
    const child = new Deno.Command("nsenter", {
      args: [...this.#node.enter(), program, "--daemon", ...this.#args, ...args],
      env: pluginEnv({
        ...cloud.daemonEnv,
        ...NODE_DAEMON_ENV,
        AWS_VPC_K8S_CNI_LOG_FILE: this.#node.paths.log,
        ...this.#env,
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

  /** Starts the daemon (`program`, default `dist/aws-cni`) and waits until its socket serves. */
  async start(
    env: Record<string, string> = {},
    args: readonly string[] = [],
    program = AWS_CNI,
  ): Promise<void> {
    const child = this.spawn(env, args, program);
    const exited = child.status.then((s) => {
      throw new Error(`ipamd exited (code ${s.code}, signal ${s.signal}) before serving`);
    });
    try {
      await Promise.race([waitServing(this.#node.outside(this.#node.paths.socket), 60_000), exited]);
    } catch (error) {
      const stderr = await this.kill9().then((e) => e?.stderr ?? "");
      const log = await this.#node.readFile(this.#node.paths.log) ?? "";
      const cloud = this.#node.cloud?.log().slice(-2000) ?? "";
      throw new Error(
        `${(error as Error).message}\nstderr: ${stderr}\nlog tail: ${log.slice(-2000)}\ncloud: ${cloud}`,
      );
    }
    exited.catch(() => {});
  }

  /** Waits for the daemon to exit on its own. */
  async exit(): Promise<DaemonExit> {
    const child = this.#child;
    if (child === null) throw new Error("ipamd is not running");
    const status = await child.status;
    this.#child = null;
    return { code: status.code, signal: status.signal, stderr: await this.#stderr };
  }

  /** SIGKILL, as a crash; resolves once it is gone (undefined when none ran). */
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
    try {
      this.#child?.kill("SIGTERM");
    } catch {
      // already exited
    }
    return await this.exit();
  }
}
