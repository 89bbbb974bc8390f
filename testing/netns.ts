/**
 * Real network namespaces for tests (root only). Every namespace is made with
 * `ip netns add` under a unique name and removed on dispose, even when the
 * test fails. Tests only ever change namespaces they created.
 *
 * @module
 */

/** Result of running a program. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program with arguments (never a shell); `stdin` is written and closed. */
export async function run(
  program: string,
  args: readonly string[],
  options: { stdin?: string | Uint8Array; env?: Record<string, string>; clearEnv?: boolean } = {},
): Promise<RunResult> {
  const child = new Deno.Command(program, {
    args: [...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.clearEnv === true ? { clearEnv: true } : {}),
  }).spawn();
  const writer = child.stdin.getWriter();
  const input = typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin;
  await writer.write(input ?? new Uint8Array()).catch(() => {});
  await writer.close().catch(() => {});
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs a program and throws with its stderr when it fails. */
export async function mustRun(program: string, args: readonly string[], stdin?: string): Promise<string> {
  const result = await run(program, args, stdin === undefined ? {} : { stdin });
  if (result.code !== 0) {
    throw new Error(`Cannot run ${program} ${args.join(" ")}: exit ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/**
 * A tool's absolute path on this test process's PATH, so that a program run with
 * another environment (a runtime's PATH, say) is still entered the same way.
 */
export function hostTool(name: string): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // not in this directory
    }
  }
  return name;
}

/** A namespace the test owns. */
export interface Netns extends AsyncDisposable {
  readonly name: string;
  /** /run/netns/<name>. */
  readonly path: string;
  /** Runs `ip -batch -` in the namespace with one command per line. */
  ip(...lines: string[]): Promise<string>;
  /** Runs `ip -j <words>` in the namespace and parses the JSON. */
  ipJson(...words: string[]): Promise<Record<string, unknown>[]>;
  /** Runs a program inside the namespace (`ip netns exec`). */
  exec(program: string, args: readonly string[], options?: Parameters<typeof run>[2]): Promise<RunResult>;
}

let counter = 0;

/** Whether this process may create namespaces: root with a working `ip netns add`. */
export async function canCreateNetns(): Promise<boolean> {
  if (Deno.uid() !== 0) return false;
  try {
    await using _probe = await createNetns("probe");
    return true;
  } catch {
    return false;
  }
}

/**
 * The directories aws-cni's permission set lets it use (deno.json, `aws-cni`).
 * A test node gets its own empty tmpfs on each, in a mount namespace of its
 * own, so the binary runs there with its default paths and nothing else.
 */
export const NODE_STATE_DIRS = ["/run/aws-node", "/var/log/aws-routed-eni", "/etc/cni/net.d"] as const;

/** A mount namespace with private, empty `NODE_STATE_DIRS`, held open by a sleeping process. */
export interface NodeMounts extends AsyncDisposable {
  /** For `nsenter --mount=`. */
  readonly ns: string;
  /**
   * Where this process finds `path` as seen inside the namespace (through
   * /proc/<pid>/root). /var/run/… becomes /run/…: an absolute symlink there
   * would resolve against this process's root instead.
   */
  outside(path: string): string;
}

/**
 * Creates the mount namespace. Its mounts are slaves of the host's, so pod
 * namespaces added later under /run/netns show up inside; nothing mounted
 * inside shows outside. The mount points are created on the host if missing.
 */
export async function createNodeMounts(): Promise<NodeMounts> {
  for (const dir of NODE_STATE_DIRS) await Deno.mkdir(dir, { recursive: true });
  const mounts = NODE_STATE_DIRS.map((dir) => `mount -t tmpfs -o mode=0755 aws-cni-test ${dir}`);
  const holder = new Deno.Command("unshare", {
    args: [
      "--mount",
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
  const reader = holder.stdout.getReader();
  const first = await reader.read();
  reader.releaseLock();
  if (!new TextDecoder().decode(first.value ?? new Uint8Array()).includes("ready")) {
    const out = await holder.output();
    throw new Error(`Cannot make the node's mounts: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  const root = `/proc/${holder.pid}/root`;
  return {
    ns: `/proc/${holder.pid}/ns/mnt`,
    outside: (path) => root + path.replace(/^\/var\/run\//, "/run/"),
    async [Symbol.asyncDispose]() {
      try {
        holder.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await holder.stdout.cancel().catch(() => {});
      await holder.output().catch(() => {});
    },
  };
}

/** Whether this process may make node mounts: root with a working `unshare --mount`. */
export async function canCreateNodeMounts(): Promise<boolean> {
  if (Deno.uid() !== 0) return false;
  try {
    await using _probe = await createNodeMounts();
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads again until `read` finds nothing or `timeoutMs` has passed; returns the
 * last reading. For links a DEL leaves behind: it answers before the kernel has
 * finished deleting the pod's veth pair (15-30 ms), which the `ip` it started
 * finishes. Routes and rules are read once, before any link goes.
 */
export async function untilGone<T>(read: () => Promise<T[]>, timeoutMs = 2_000): Promise<T[]> {
  const until = Date.now() + timeoutMs;
  let found = await read();
  while (found.length > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    found = await read();
  }
  return found;
}

/**
 * Creates `awscni-<label>-<pid>-<n>`; disposing deletes it (and every link
 * inside). With `mounts`, `exec` runs programs in that mount namespace too.
 */
export async function createNetns(label: string, mounts?: NodeMounts): Promise<Netns> {
  const name = `awscni-${label}-${Deno.pid}-${counter++}`;
  await mustRun("ip", ["netns", "add", name]);
  const path = `/run/netns/${name}`;
  try {
    await mustRun("ip", ["-n", name, "link", "set", "lo", "up"]);
  } catch (error) {
    await run("ip", ["netns", "del", name]);
    throw error;
  }
  return {
    name,
    path,
    ip: (...lines) => mustRun("ip", ["-n", name, "-batch", "-"], lines.join("\n") + "\n"),
    ipJson: async (...words) => JSON.parse(await mustRun("ip", ["-n", name, "-j", ...words]) || "[]"),
    exec: (program, args, options) =>
      mounts === undefined
        ? run(hostTool("ip"), ["netns", "exec", name, program, ...args], options)
        : run(hostTool("nsenter"), [`--mount=${mounts.ns}`, `--net=${path}`, program, ...args], options),
    async [Symbol.asyncDispose]() {
      await run("ip", ["netns", "del", name]);
    },
  };
}

async function hasPing(): Promise<boolean> {
  return (await run("sh", ["-c", "command -v ping"])).code === 0;
}

/**
 * Checks that `from` reaches `address` in `to`: ICMP with `ping` when it is
 * installed, else a TCP round trip between two `deno eval` processes (one
 * listening inside `to`, one connecting from `from`). Returns how it probed.
 */
export async function reach(from: Netns, to: Netns, address: string): Promise<"icmp" | "tcp"> {
  if (await hasPing()) {
    const result = await from.exec("ping", ["-c", "1", "-W", "2", address]);
    if (result.code !== 0) throw new Error(`Cannot ping ${address} from ${from.name}: ${result.stdout}`);
    return "icmp";
  }
  if (await peerSeen(to, from, address, 5) === null) {
    throw new Error(`Cannot reach ${address} from ${from.name} over TCP`);
  }
  return "tcp";
}

/**
 * Starts a one-shot TCP server in `server` on `address` that answers with the
 * peer address it sees, connects from `client`, and returns that answer (null
 * when the client could not connect within `timeoutS`).
 */
export async function peerSeen(
  server: Netns,
  client: Netns,
  address: string,
  timeoutS = 10,
): Promise<string | null> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const target = JSON.stringify({ hostname: address, port });
  const serve = `const l = Deno.listen(${target}); console.log("ready"); const c = await l.accept();` +
    `await c.write(new TextEncoder().encode(c.remoteAddr.hostname)); c.close(); l.close();`;
  const listener = new Deno.Command("ip", {
    args: ["netns", "exec", server.name, "timeout", "20", Deno.execPath(), "eval", serve],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const reader = listener.stdout.getReader();
    const first = await reader.read();
    reader.releaseLock();
    if (!new TextDecoder().decode(first.value).includes("ready")) {
      throw new Error("The TCP server did not start");
    }
    const connect = `const c = await Deno.connect(${target}); const b = new Uint8Array(64);` +
      `const n = await c.read(b); c.close(); console.log(new TextDecoder().decode(b.subarray(0, n ?? 0)));`;
    const result = await client.exec("timeout", [String(timeoutS), Deno.execPath(), "eval", connect]);
    return result.code === 0 ? result.stdout.trim() : null;
  } finally {
    try {
      listener.kill();
    } catch {
      // It already exited after answering.
    }
    await listener.stdout.cancel().catch(() => {});
    await listener.output().catch(() => {});
  }
}

/** A temp directory removed on dispose. */
export async function createTempDir(prefix: string): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}) };
}
