/**
 * The test node (root only), one harness for every test that runs aws-cni on
 * a node: a network namespace and a mount namespace with private, empty
 * /run/aws-node, /var/log/aws-routed-eni and /etc/cni/net.d
 * (`createNodeMounts`); the simulated cloud as a process inside the node's
 * namespace (sim/cloud), whose control socket the test drives; ipamd as
 * `dist/aws-cni --daemon`, a process the test may SIGKILL and restart, run
 * exactly as on a node (its permission set, default paths, host networking,
 * the cloud reached through `AWS_EC2_ENDPOINT` and
 * `AWS_EC2_METADATA_SERVICE_ENDPOINT`); pod namespaces; the plugin exec'd
 * inside the node as kubelet's runtime runs it; and ipamd's introspection read
 * through a window onto the node's loopback. With `ipamd: "fake"` an in-memory
 * ipamd serves the node's socket instead, and no cloud runs.
 *
 * ```ts
 * await using node = await startNode({ cloud: { instanceType: "t3.small" }, env: { WARM_IP_TARGET: "2" } });
 * const result = await node.plugin(podEnv("ADD", pod.path, "c1"), JSON.stringify(node.netconf()));
 * await node.cloud.control.failNext("AttachNetworkInterface", { code: "InternalError", httpStatus: 500 });
 * await node.daemon.kill9();
 * ```
 *
 * Disposing stops the daemon, the cloud and the bridge and removes every
 * namespace, mount and temp file, also when the test failed.
 *
 * @module
 */
import { NETCONF_DEFAULTS } from "../cni/netconf.ts";
import { parseIpamdConfig } from "../ipamd/config/config.ts";
import type { PoolReport } from "../ipamd/ops/pool_report.ts";
import { HealthStatus, ServingStatus } from "../ipamd/rpc/health.ts";
import { type RpcServer, startRpcServer } from "../ipamd/rpc/server.ts";
import { drainReleaseQueue, releaseQueuePath } from "../shared/release_queue.ts";
import { type CloudProcess, type CloudProcessOptions, startCloudProcess } from "./cloud_process.ts";
import { MemoryBackend } from "./fake_ipamd.ts";
import { AWS_CNI, binaryBuilt as builtHere, pluginEnv } from "./binary.ts";
import { NodeDaemon } from "./node_daemon.ts";
import { type LoopbackBridge, startLoopbackBridge } from "./loopback_bridge.ts";
import {
  canCreateNetns,
  canCreateNodeMounts,
  createNetns,
  createNodeMounts,
  createTempDir,
  type Netns,
  type NodeMounts,
  type RunResult,
} from "./netns.ts";

export { AWS_CNI, binaryBuilt, pluginEnv, pluginJson, podEnv } from "./binary.ts";
export { type DaemonExit, NODE_DAEMON_ENV, NodeDaemon } from "./node_daemon.ts";

/** The files of a node, as the node sees them (`TestNode.outside` maps them for this process). */
export interface NodePaths {
  /** ipamd's socket: its default, which the plugin's netconf default names too. */
  readonly socket: string;
  /** ipamd's default checkpoint. */
  readonly checkpoint: string;
  /** The plugin's release queue, beside the socket. */
  readonly queue: string;
  /** ipamd's log (`AWS_VPC_K8S_CNI_LOG_FILE`; its default is stderr). */
  readonly log: string;
  /** The plugin's default log. */
  readonly pluginLog: string;
}

const DEFAULTS = parseIpamdConfig({});

/** Where every node keeps its files: the product's defaults, and the log beside the plugin's. */
export const NODE_PATHS: NodePaths = Object.freeze({
  socket: DEFAULTS.socketPath,
  checkpoint: DEFAULTS.checkpointPath,
  queue: releaseQueuePath(DEFAULTS.socketPath),
  log: "/var/log/aws-routed-eni/ipamd.log",
  pluginLog: NETCONF_DEFAULTS.pluginLogFile,
});

/** The directory systemd makes for ipamd (`RuntimeDirectory=aws-node`, `RuntimeDirectoryMode=0700`). */
export const RUNTIME_DIR = "/run/aws-node";

/** What to run on the node. */
export interface NodeOptions {
  /** Part of the namespaces' names (default "node"). */
  readonly label?: string;
  /** "daemon" (default): the cloud process and `dist/aws-cni --daemon`; "fake": an in-memory ipamd, no cloud. */
  readonly ipamd?: "daemon" | "fake";
  /** The simulated cloud's flags (default: a t3.small, 50 ms attaches and detaches). */
  readonly cloud?: CloudProcessOptions;
  /** ipamd's settings, over `NODE_DAEMON_ENV`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra daemon flags. */
  readonly args?: readonly string[];
  /** Start the daemon and wait until it serves (default true). */
  readonly start?: boolean;
  /** Run on another node's files (its mount namespace), with a namespace and cloud of its own. */
  readonly filesOf?: TestNode;
  /** ipamd's log file (`AWS_VPC_K8S_CNI_LOG_FILE`), as the node sees it; default `NODE_PATHS.log`. */
  readonly log?: string;
}

/** Whether test nodes can be made here: root, namespaces, mounts and a built `dist/aws-cni`. */
export async function nodesReady(): Promise<boolean> {
  return await canCreateNetns() && await canCreateNodeMounts() && await builtHere();
}

/** A node: namespaces, mounts, the cloud, ipamd (real or fake), pods. */
export class TestNode implements AsyncDisposable {
  readonly netns: Netns;
  readonly mounts: NodeMounts;
  readonly paths: NodePaths;
  /** The simulated cloud, or null with `ipamd: "fake"`. */
  readonly cloud: CloudProcess | null;
  /** The in-memory ipamd with `ipamd: "fake"`, else null. */
  readonly fake: MemoryBackend | null;
  readonly daemon: NodeDaemon;
  readonly #bridge: LoopbackBridge;
  readonly #pods: AsyncDisposableStack;
  readonly #introspectionPort: number;
  readonly #metricsPort: number;
  readonly #cleanup: AsyncDisposableStack;
  #fakeServer: RpcServer | null = null;

  private constructor(parts: {
    netns: Netns;
    mounts: NodeMounts;
    paths: NodePaths;
    cloud: CloudProcess | null;
    fake: MemoryBackend | null;
    bridge: LoopbackBridge;
    pods: AsyncDisposableStack;
    env: Readonly<Record<string, string>>;
    args: readonly string[];
    cleanup: AsyncDisposableStack;
  }) {
    this.netns = parts.netns;
    this.mounts = parts.mounts;
    this.paths = parts.paths;
    this.cloud = parts.cloud;
    this.fake = parts.fake;
    this.#bridge = parts.bridge;
    this.#pods = parts.pods;
    this.#cleanup = parts.cleanup;
    const port = (name: string, fallback: string) => Number((parts.env[name] ?? fallback).split(":").at(-1));
    this.#introspectionPort = port("INTROSPECTION_BIND_ADDRESS", DEFAULTS.introspectionBindAddress);
    this.#metricsPort = port("METRICS_BIND_ADDRESS", DEFAULTS.metricsBindAddress);
    this.daemon = new NodeDaemon(this, parts.env, parts.args);
  }

  /** Builds the node; with the default `start`, the daemon serves when it resolves. */
  static async start(options: NodeOptions = {}): Promise<TestNode> {
    const stack = new AsyncDisposableStack();
    try {
      const dir = stack.use(await createTempDir("aws-cni-node-"));
      let mounts = options.filesOf?.mounts;
      if (mounts === undefined) {
        mounts = stack.use(await createNodeMounts());
        // What systemd's RuntimeDirectoryMode=0700 makes of it on a real node.
        await Deno.chmod(mounts.outside(RUNTIME_DIR), 0o700);
      }
      const netns = stack.use(await createNetns(options.label ?? "node", mounts));
      const pods = stack.use(new AsyncDisposableStack());
      const fake = options.ipamd === "fake" ? new MemoryBackend() : null;
      const cloud = fake !== null
        ? null
        : stack.use(await startCloudProcess(netns.path, dir.path, options.cloud));
      const bridge = stack.use(await startLoopbackBridge(netns.path, dir.path));
      const paths: NodePaths = { ...NODE_PATHS, ...(options.log === undefined ? {} : { log: options.log }) };
      const node = new TestNode({
        netns,
        mounts,
        paths,
        cloud,
        fake,
        bridge,
        pods,
        env: options.env ?? {},
        args: options.args ?? [],
        cleanup: stack.move(),
      });
      node.#cleanup.defer(async () => void await node.daemon.kill9());
      node.#cleanup.defer(() => node.stopFake());
      try {
        if (fake !== null) await node.#startFake(fake);
        else if (options.start !== false) await node.daemon.start();
      } catch (error) {
        await node[Symbol.asyncDispose]();
        throw error;
      }
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

  /** Reads a file as the node sees it; null when missing. */
  async readFile(path: string): Promise<string | null> {
    return await Deno.readTextFile(this.outside(path)).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    });
  }

  /** `nsenter` options that enter the node: its mount and network namespaces. */
  enter(): string[] {
    return [`--mount=${this.mounts.ns}`, `--net=${this.netns.path}`];
  }

  /** Creates a pod namespace, removed with the node (it shows inside the node's mounts too). */
  async pod(label: string): Promise<Netns> {
    return this.#pods.use(await createNetns(label));
  }

  /** Runs `dist/aws-cni` inside the node as a runtime runs the plugin: `env` (CNI_*) and `stdin`. */
  plugin(env: Record<string, string>, stdin: string | Uint8Array): Promise<RunResult> {
    return this.netns.exec(AWS_CNI, [], { stdin, env: pluginEnv(env), clearEnv: true });
  }

  /** Spawns the plugin inside the node (to kill it); its stdin is written and closed. */
  spawnPlugin(env: Record<string, string>, stdin: string): Deno.ChildProcess {
    const child = new Deno.Command("nsenter", {
      args: [...this.enter(), AWS_CNI],
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

  /** A netconf as ipamd's conflist has it (the default socket), the plugin's log named. */
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

  /** GET of `path` on the node's loopback `port`, from this process. */
  fetchLoopback(port: number, path: string, init?: RequestInit): Promise<Response> {
    return this.#bridge.fetch(port, path, init);
  }

  /** ipamd's `/v1/pool` from its introspection endpoint (what `aws-cni status --json` prints). */
  async pool(): Promise<PoolReport> {
    const response = await this.fetchLoopback(this.#introspectionPort, "/v1/pool");
    if (!response.ok) throw new Error(`GET /v1/pool: ${response.status} ${await response.text()}`);
    return await response.json() as PoolReport;
  }

  /**
   * Waits until the pool has settled: the next reconcile pass has nothing to do,
   * and every ENI's link is up in the node (the cloud plugged it, ipamd set it
   * up) and has its IPv6 link-local address, as a NIC has a moment after it is up.
   */
  async settled(timeoutMs = 60_000): Promise<PoolReport> {
    const until = Date.now() + timeoutMs;
    let last: PoolReport | undefined;
    for (;;) {
      last = await this.pool().catch(() => undefined);
      if (last !== undefined && last.next.actions.length === 0 && await this.#linksUp(last)) return last;
      if (Date.now() > until) {
        throw new Error(`The pool did not settle within ${timeoutMs} ms: ${JSON.stringify(last?.next)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Every ENI's link is up, and done with duplicate address detection (its IPv6 link-local address). */
  async #linksUp(report: PoolReport): Promise<boolean> {
    const links = await this.netns.ipJson("addr", "show");
    const up = links.filter((link) => (link["flags"] as string[]).includes("UP"));
    const tentative = up.some((link) =>
      (link["addr_info"] as { tentative?: boolean }[]).some((address) => address.tentative === true)
    );
    return up.length >= report.enis.length + 1 && !tentative;
  }

  /** ipamd's Prometheus metrics. */
  async metrics(): Promise<string> {
    const response = await this.fetchLoopback(this.#metricsPort, "/metrics");
    if (!response.ok) throw new Error(`GET /metrics: ${response.status} ${await response.text()}`);
    return await response.text();
  }

  /** `aws-cni status ARGS` inside the node, as an operator runs it. */
  status(args: readonly string[] = []): Promise<RunResult> {
    return this.netns.exec(AWS_CNI, ["status", ...args], { env: pluginEnv({}), clearEnv: true });
  }

  /**
   * Applies the releases the plugin queued for the fake ipamd, as the daemon does
   * (a DEL whose call ipamd did not answer in time hands its release to the queue);
   * returns how many there were.
   */
  async applyQueuedReleases(): Promise<number> {
    const fake = this.fake;
    if (fake === null) throw new TypeError("Cannot apply queued releases: the node runs the real daemon");
    const applied = await drainReleaseQueue(this.outside(this.paths.queue), async (releases) => {
      for (const { request } of releases) await fake.delNetwork(request);
    });
    return applied.length;
  }

  /** Stops the fake ipamd (the plugin then finds no server at the socket). */
  async stopFake(): Promise<void> {
    await this.#fakeServer?.close(1000);
    this.#fakeServer = null;
  }

  async #startFake(backend: MemoryBackend): Promise<void> {
    await addStandInEni(this.netns, "eth0", "10.0.0.5/24");
    await addStandInEni(this.netns, "eth1", "10.0.1.5/24");
    await this.netns.ip("route add 10.0.1.0/24 dev eth1 table 2");
    this.#fakeServer = await startRpcServer({
      socketPath: this.outside(this.paths.socket),
      backend,
      health: new HealthStatus({ "": ServingStatus.SERVING }),
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#cleanup.disposeAsync();
  }
}

/** A stand-in ENI link for a node without a cloud: a dummy link, or a bridge where the kernel lacks dummy. */
async function addStandInEni(netns: Netns, name: string, cidr: string): Promise<void> {
  try {
    await netns.ip(`link add ${name} type dummy`);
  } catch {
    await netns.ip(`link add ${name} type bridge`);
  }
  await netns.ip(`addr add ${cidr} dev ${name}`, `link set ${name} up`);
}

/** Builds a test node (see the module's doc). */
export function startNode(options: NodeOptions = {}): Promise<TestNode> {
  return TestNode.start(options);
}
