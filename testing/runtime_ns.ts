/**
 * The namespaces a container runtime runs in inside a test node: a PID and a
 * mount namespace (`unshare --pid --fork --mount-proc`) entered from the node's
 * mount and network namespaces, held by a sleeping PID 1. The runtime and all it
 * starts (shims, conmon, pod processes) live there, so killing that PID 1 kills
 * every one of them, whatever state a failed test left.
 *
 * The mount namespace has its own tmpfs on the directories runtimes write outside
 * their configured roots (/run/netns, /var/lib/cni, …), so pod namespaces and
 * CNI caches never reach the host, and on /opt, where /opt/cni/bin is the node's
 * plugin directory.
 *
 * @module
 */
import { type Netns, type NodeMounts, run, type RunResult } from "./netns.ts";

/** Directories the runtime's mount namespace gets a private tmpfs on. */
const RUNTIME_PRIVATE_DIRS = [
  "/run/netns",
  "/run/containerd",
  "/run/containers",
  "/run/libpod",
  "/var/lib/cni",
  "/var/lib/containers",
] as const;

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

/** The runtime's namespaces; disposing kills everything in them and removes the pods' cgroups. */
export class RuntimeNamespaces implements AsyncDisposable {
  readonly #binDir: string;
  /** The cgroup parent pods go under (removed on dispose). */
  readonly cgroupParent: string;
  #holder: Deno.ChildProcess | undefined;
  #initPid = 0;

  private constructor(binDir: string, cgroupParent: string) {
    this.#binDir = binDir;
    this.cgroupParent = cgroupParent;
  }

  /** Makes them inside the node (its mount namespace and `netns`); `binDir` becomes /opt/cni/bin there. */
  static async create(
    nodeMounts: NodeMounts,
    netns: Netns,
    options: { binDir: string },
  ): Promise<RuntimeNamespaces> {
    const made = new RuntimeNamespaces(options.binDir, `/aws-cni-test-${netns.name}`);
    try {
      await made.#start(nodeMounts, netns);
      return made;
    } catch (error) {
      await made[Symbol.asyncDispose]();
      throw error;
    }
  }

  /**
   * The runtime's namespaces: `unshare --pid --fork --mount-proc` inside the
   * node, whose PID 1 (a sleep) holds them; killing it kills every process in them.
   */
  async #start(nodeMounts: NodeMounts, netns: Netns): Promise<void> {
    const mounts = RUNTIME_PRIVATE_DIRS.map((dir) =>
      `mkdir -p ${dir} && mount -t tmpfs -o mode=0755 rt ${dir}`
    );
    // /opt/cni/bin, where tools without a plugin-dir setting (ctr run --cni) look, is binDir there.
    mounts.push(
      `mount -t tmpfs -o mode=0755 rt /opt && mkdir -p /opt/cni && ln -s '${this.#binDir}' /opt/cni/bin`,
    );
    this.#holder = new Deno.Command("nsenter", {
      args: [
        `--mount=${nodeMounts.ns}`,
        `--net=${netns.path}`,
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

  async [Symbol.asyncDispose](): Promise<void> {
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
    await removeCgroups(this.cgroupParent);
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
