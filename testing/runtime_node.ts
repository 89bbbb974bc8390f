/**
 * A simulated node for real container runtimes (root only): a network
 * namespace and private node mounts (`createNodeMounts`), ipamd running there as
 * on a node (`aws-cni --daemon --simulate … --host-network --write-conflist
 * /etc/cni/net.d`), and a PID + mount namespace inside the node for the runtime
 * and everything it starts (containerd or podman, shims, conmon, pod
 * processes). Disposing kills that namespace's init, which takes every process
 * in it along, then ipamd, then the namespaces: nothing survives a failed test.
 *
 * The runtime's mount namespace has its own tmpfs on the directories runtimes
 * write outside their configured roots (/run/netns, /var/lib/cni, …), so pod
 * namespaces and CNI caches never reach the host, and on /opt, where
 * /opt/cni/bin is the node's plugin directory.
 *
 * @module
 */
import { AWS_CNI, NODE_FILES, spawnNodeDaemon, waitServing } from "./ipamd_requests.ts";
import {
  createNetns,
  createNodeMounts,
  createTempDir,
  mustRun,
  type Netns,
  type NodeMounts,
  run,
  type RunResult,
} from "./netns.ts";

/** Where ipamd writes the conflist, and runtimes read it. */
export const CNI_CONF_DIR = "/etc/cni/net.d";
/** Debian's directory of the reference CNI plugins (containernetworking-plugins). */
export const SYSTEM_CNI_DIR = "/usr/lib/cni";
/** Directories the runtime's mount namespace gets a private tmpfs on. */
const RUNTIME_PRIVATE_DIRS = [
  "/run/netns",
  "/run/containerd",
  "/run/containers",
  "/run/libpod",
  "/var/lib/cni",
  "/var/lib/containers",
] as const;

/** Loader variables ipamd and (through the runtime) the plugin get, as containerd's opt plugin sets them. */
export const LOADER_ENV = {
  LD_LIBRARY_PATH: "/opt/containerd/lib:",
  LD_PRELOAD: "/nonexistent/libpreload.so",
} as const;

/** The environment a runtime service starts with (as under systemd), plus what the Deno launcher needs. */
export function serviceEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  };
  for (const name of ["HOME", "DENO_DIR", "XDG_CACHE_HOME", "DENO_NO_UPDATE_CHECK"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Waits until `probe` returns a value other than undefined; `what` names it in the timeout error. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** ipamd's pool as `aws-cni status --json` shows it. */
export interface PoolView {
  /** Every address on the node's ENIs (secondary /32s, prefixes expanded). */
  readonly addresses: ReadonlySet<string>;
  readonly assigned: number;
}

function expand(cidr: string): string[] {
  const [ip = "", bits = "32"] = cidr.split("/");
  const parts = ip.split(".").map(Number);
  const base = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  const size = 2 ** (32 - Number(bits));
  return Array.from({ length: size }, (_, i) => {
    const n = base + i;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
  });
}

/** The test node. */
export class RuntimeNode implements AsyncDisposable {
  readonly mounts: NodeMounts;
  readonly netns: Netns;
  /** A host directory for the runtime's roots and config (removed on dispose). */
  readonly dir: string;
  /** The CNI plugin directory runtimes are pointed at: aws-cni plus the reference plugins the runtime needs. */
  readonly binDir: string;
  readonly #stack: AsyncDisposableStack;
  readonly #instanceType: string;
  #ipamd: Deno.ChildProcess | undefined;
  #ipamdStderr = "";
  #ipamdDrained: Promise<void> = Promise.resolve();
  #holder: Deno.ChildProcess | undefined;
  #initPid = 0;

  private constructor(stack: AsyncDisposableStack, parts: {
    mounts: NodeMounts;
    netns: Netns;
    dir: string;
    instanceType: string;
  }) {
    this.#stack = stack;
    this.mounts = parts.mounts;
    this.netns = parts.netns;
    this.dir = parts.dir;
    this.binDir = `${parts.dir}/cni-bin`;
    this.#instanceType = parts.instanceType;
  }

  /** Builds the node and the runtime's namespace; ipamd is started with `startIpamd`. */
  static async create(label: string, options: { instanceType?: string } = {}): Promise<RuntimeNode> {
    const stack = new AsyncDisposableStack();
    try {
      const dir = stack.use(await createTempDir(`aws-cni-${label}-`)).path;
      const mounts = stack.use(await createNodeMounts());
      const netns = stack.use(await createNetns(label, mounts));
      // Pods reach each other through the node: forwarding on, in the node's namespace only.
      await mustRun("ip", ["netns", "exec", netns.name, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
      const node = new RuntimeNode(stack, {
        mounts,
        netns,
        dir,
        instanceType: options.instanceType ?? "c5.large",
      });
      stack.defer(() => node.#stopAll());
      await node.#linkPlugins(["loopback"]);
      await node.#startHolder();
      return node;
    } catch (error) {
      await stack.disposeAsync();
      throw error;
    }
  }

  /** aws-cni (the built binary) and the named reference plugins in `binDir`. */
  async #linkPlugins(others: readonly string[]): Promise<void> {
    await Deno.mkdir(this.binDir, { recursive: true });
    await Deno.symlink(AWS_CNI, `${this.binDir}/aws-cni`);
    for (const name of others) await Deno.symlink(`${SYSTEM_CNI_DIR}/${name}`, `${this.binDir}/${name}`);
  }

  /**
   * The runtime's namespaces: `unshare --pid --fork --mount-proc` inside the
   * node, whose PID 1 (a sleep) holds them; killing it kills every process in them.
   */
  async #startHolder(): Promise<void> {
    const mounts = RUNTIME_PRIVATE_DIRS.map((dir) =>
      `mkdir -p ${dir} && mount -t tmpfs -o mode=0755 rt ${dir}`
    );
    // /opt/cni/bin, where tools without a plugin-dir setting (ctr run --cni) look, is binDir there.
    mounts.push(
      `mount -t tmpfs -o mode=0755 rt /opt && mkdir -p /opt/cni && ln -s '${this.binDir}' /opt/cni/bin`,
    );
    this.#holder = new Deno.Command("nsenter", {
      args: [
        `--mount=${this.mounts.ns}`,
        `--net=${this.netns.path}`,
        "unshare",
        "--pid",
        "--fork",
        "--mount-proc",
        "--propagation",
        "slave",
        "sh",
        "-c",
        `${mounts.join(" && ")} && echo ready && exec sleep 86400`,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = this.#holder.stdout.getReader();
    const first = await reader.read();
    reader.releaseLock();
    if (!new TextDecoder().decode(first.value ?? new Uint8Array()).includes("ready")) {
      const out = await this.#holder.output();
      throw new Error(`Cannot make the runtime's namespaces: ${new TextDecoder().decode(out.stderr).trim()}`);
    }
    // nsenter execs unshare (same pid), which forks the namespace's init.
    const children = await Deno.readTextFile(`/proc/${this.#holder.pid}/task/${this.#holder.pid}/children`);
    this.#initPid = Number(children.trim().split(/\s+/)[0]);
    if (!(this.#initPid > 0)) throw new Error("Cannot find the runtime namespace's init");
  }

  /** `nsenter` arguments that enter the runtime's PID, mount and network namespaces. */
  enterArgs(): string[] {
    return ["--target", String(this.#initPid), "--pid", "--mount", "--net"];
  }

  /**
   * Starts a long-running program in the runtime's namespaces (it dies with
   * them), with exactly `env`, its output appended to `logFile`.
   */
  spawn(
    program: string,
    args: readonly string[],
    options: { env: Record<string, string>; logFile: string },
  ): Deno.ChildProcess {
    return new Deno.Command("nsenter", {
      args: [...this.enterArgs(), "sh", "-c", `exec "$0" "$@" >>'${options.logFile}' 2>&1`, program, ...args],
      clearEnv: true,
      env: options.env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  }

  /** Runs a program in the runtime's namespaces, with exactly `env` (default `serviceEnv()`). */
  exec(program: string, args: readonly string[], env = serviceEnv()): Promise<RunResult> {
    return run("nsenter", [...this.enterArgs(), program, ...args], { env, clearEnv: true });
  }

  /** Runs a program in a pod's network namespace, by its path as the runtime sees it. */
  podExec(netnsPath: string, program: string, args: readonly string[]): Promise<RunResult> {
    // The inner nsenter opens the path inside the runtime's mount namespace, where the runtime mounted it.
    return run("nsenter", [
      `--target=${this.#initPid}`,
      "--mount",
      "nsenter",
      `--net=${netnsPath}`,
      program,
      ...args,
    ]);
  }

  /** The cgroup parent pods of this node go under (removed on dispose). */
  get cgroupParent(): string {
    return `/aws-cni-test-${this.netns.name}`;
  }

  /**
   * Pings `address` from the node or from a pod's namespace until it answers
   * (30 s at most); throws with the last output when it never does.
   */
  async ping(address: string, fromNetns?: string): Promise<void> {
    const args = ["-c", "1", "-W", "2", address];
    let last = "";
    await waitFor(`an answer from ${address} (from ${fromNetns ?? "the node"})`, async () => {
      const result = fromNetns === undefined
        ? await this.netns.exec("ping", args)
        : await this.podExec(fromNetns, "ping", args);
      last = result.stdout + result.stderr;
      return result.code === 0 ? true : undefined;
    }, 30_000).catch((error) => {
      throw new Error(`${(error as Error).message}: ${last}`, { cause: error });
    });
  }

  /**
   * Starts ipamd as the node runs it: simulated EC2 and IMDS, host networking on
   * stand-in links in the node's namespace, the conflist written once it serves;
   * with containerd's loader variables in its environment. Resolves when it serves
   * and the conflist is there.
   */
  async startIpamd(): Promise<void> {
    if (this.#ipamd !== undefined) throw new Error("ipamd is running already");
    const daemon = spawnNodeDaemon(this.mounts, [
      "--simulate",
      this.#instanceType,
      "--simulate-state",
      NODE_FILES.simulateState,
      "--simulate-latency-ms",
      "20",
      "--host-network",
      "--write-conflist",
      CNI_CONF_DIR,
    ], {
      netns: this.netns,
      env: { AWS_VPC_K8S_CNI_LOG_FILE: NODE_FILES.log, ...LOADER_ENV },
      stderr: "piped",
    });
    this.#ipamd = daemon;
    this.#ipamdStderr = "";
    this.#ipamdDrained = (async () => {
      for await (const text of daemon.stderr.pipeThrough(new TextDecoderStream())) {
        this.#ipamdStderr = (this.#ipamdStderr + text).slice(-8192);
      }
    })().catch(() => {});
    const exited = daemon.status.then(async (status) => {
      await this.#ipamdDrained;
      throw new Error(`ipamd exited (${JSON.stringify(status)}) before it served: ${this.#ipamdStderr}`);
    });
    exited.catch(() => {});
    await Promise.race([waitServing(this.mounts.outside(NODE_FILES.socket), 60_000), exited]);
    await waitFor("the conflist", () => Deno.stat(this.mounts.outside(`${CNI_CONF_DIR}/10-aws.conflist`)));
  }

  /** Kills ipamd with SIGKILL, by its PID, and waits for it. */
  async killIpamd(): Promise<void> {
    const daemon = this.#ipamd;
    if (daemon === undefined) return;
    this.#ipamd = undefined;
    try {
      Deno.kill(daemon.pid, "SIGKILL");
    } catch {
      // It exited already.
    }
    await daemon.status;
    await this.#ipamdDrained;
  }

  /** The pool, from `aws-cni status --json` run in the node. */
  async pool(): Promise<PoolView> {
    const result = await this.netns.exec(AWS_CNI, ["status", "--json"]);
    if (result.code !== 0) throw new Error(`aws-cni status failed: ${result.stderr}`);
    const report = JSON.parse(result.stdout) as { pool: { assigned: number }; enis: { cidrs: string[] }[] };
    return {
      addresses: new Set(report.enis.flatMap((eni) => eni.cidrs.flatMap(expand))),
      assigned: report.pool.assigned,
    };
  }

  /** ipamd's checkpoint: container ID to address, for every pod it holds. */
  async allocations(): Promise<Map<string, string>> {
    const text = await Deno.readTextFile(this.mounts.outside(NODE_FILES.checkpoint));
    const saved = JSON.parse(text) as { allocations: { containerID: string; ipv4: string }[] };
    return new Map(saved.allocations.map((a) => [a.containerID, a.ipv4]));
  }

  /** What pods leave in the node's namespace: veths, pod rules (prio 512, 1536), /32 routes to `podIps`. */
  async podLeftovers(podIps: readonly string[]): Promise<string[]> {
    const links = await this.netns.ipJson("-d", "link", "show");
    const veths = links.filter((l) =>
      (l["linkinfo"] as { info_kind?: string } | undefined)?.info_kind === "veth"
    )
      .map((l) => `link ${l["ifname"]}`);
    const rules = (await this.netns.ipJson("rule", "show"))
      .filter((r) => r["priority"] === 512 || r["priority"] === 1536)
      .map((r) => `rule ${JSON.stringify(r)}`);
    const routes = (await this.netns.ipJson("route", "show", "table", "all"))
      .filter((r) => podIps.includes(String(r["dst"])))
      .map((r) => `route ${JSON.stringify(r)}`);
    return [...veths, ...rules, ...routes];
  }

  async #stopAll(): Promise<void> {
    if (this.#initPid > 0) {
      try {
        Deno.kill(this.#initPid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    if (this.#holder !== undefined) {
      await this.#holder.stdout.cancel().catch(() => {});
      await this.#holder.stderr.cancel().catch(() => {});
      await this.#holder.status;
    }
    await this.killIpamd();
    await removeCgroups(this.cgroupParent);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stack.disposeAsync();
  }
}

/** Removes `parent` (and the emptied cgroups under it) from every cgroup hierarchy; best effort. */
async function removeCgroups(parent: string): Promise<void> {
  const roots: string[] = ["/sys/fs/cgroup"];
  try {
    for await (const entry of Deno.readDir("/sys/fs/cgroup")) {
      if (entry.isDirectory) roots.push(`/sys/fs/cgroup/${entry.name}`);
    }
  } catch {
    return;
  }
  for (const root of roots) {
    const top = `${root}${parent}`;
    const dirs: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      try {
        for await (const entry of Deno.readDir(dir)) {
          if (entry.isDirectory) await walk(`${dir}/${entry.name}`);
        }
        dirs.push(dir);
      } catch {
        // Not in this hierarchy.
      }
    };
    await walk(top);
    for (const dir of dirs) await Deno.remove(dir).catch(() => {});
  }
}

/** Whether the runtime tests can run: root, namespaces, the built binary, Debian's CNI plugins and busybox. */
export async function runtimeTestsPossible(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "not root";
  if ((await run("test", ["-x", AWS_CNI])).code !== 0) return "dist/aws-cni is not built (make build)";
  if ((await run("test", ["-x", `${SYSTEM_CNI_DIR}/loopback`])).code !== 0) {
    return `${SYSTEM_CNI_DIR}/loopback is missing (apt-get install containernetworking-plugins)`;
  }
  if ((await run("sh", ["-c", "command -v ping"])).code !== 0) return "ping is missing (iputils-ping)";
  return undefined;
}
