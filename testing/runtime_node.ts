/**
 * A test node for real container runtimes (root only): the test node of
 * testing/node.ts (namespaces, private node mounts, the simulated cloud, ipamd
 * as `aws-cni --daemon --write-conflist /etc/cni/net.d` against it), and the
 * runtime's namespaces inside it (`RuntimeNamespaces`). Disposing kills
 * everything in those, then ipamd and the cloud, then removes the namespaces:
 * nothing survives a failed test. ipamd is started in one place, `startIpamd`.
 *
 * @module
 */
import {
  canCreateNetns,
  canCreateNodeMounts,
  createTempDir,
  mustRun,
  type Netns,
  type NodeMounts,
  run,
  untilGone,
} from "./netns.ts";
import { AWS_CNI, startNode, type TestNode } from "./node.ts";
import { RuntimeNamespaces } from "./runtime_ns.ts";

export { serviceEnv } from "./runtime_ns.ts";

/** Where ipamd writes the conflist, and runtimes read it. */
export const CNI_CONF_DIR = "/etc/cni/net.d";
/** Debian's directory of the reference CNI plugins (containernetworking-plugins). */
export const SYSTEM_CNI_DIR = "/usr/lib/cni";
/** Loader variables ipamd and (through the runtime) the plugin get, as containerd's opt plugin sets them. */
export const LOADER_ENV = {
  LD_LIBRARY_PATH: "/opt/containerd/lib:",
  LD_PRELOAD: "/nonexistent/libpreload.so",
} as const;

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

/** The test node and the runtime's namespaces in it. */
export class RuntimeNode implements AsyncDisposable {
  readonly node: TestNode;
  /** A host directory for the runtime's roots and config (removed on dispose). */
  readonly dir: string;
  /** The CNI plugin directory runtimes are pointed at: aws-cni plus the reference plugins the runtime needs. */
  readonly binDir: string;
  readonly #stack: AsyncDisposableStack;
  /** The runtime's PID and mount namespaces inside the node. */
  runtime!: RuntimeNamespaces;

  private constructor(stack: AsyncDisposableStack, node: TestNode, dir: string) {
    this.#stack = stack;
    this.node = node;
    this.dir = dir;
    this.binDir = `${dir}/cni-bin`;
  }

  /** The node's private mounts. */
  get mounts(): NodeMounts {
    return this.node.mounts;
  }

  /** The node's network namespace. */
  get netns(): Netns {
    return this.node.netns;
  }

  /** Builds the node (its cloud a c5.large by default) and the runtime's namespace; ipamd is started with `startIpamd`. */
  static async create(label: string, options: { instanceType?: string } = {}): Promise<RuntimeNode> {
    const stack = new AsyncDisposableStack();
    try {
      const dir = stack.use(await createTempDir(`aws-cni-${label}-`)).path;
      const node = stack.use(
        await startNode({
          label,
          cloud: {
            instanceType: options.instanceType ?? "c5.large",
            attachLatencyMs: 20,
            detachLatencyMs: 20,
          },
          start: false,
        }),
      );
      // Pods reach each other through the node: forwarding on, in the node's namespace only.
      await mustRun("ip", ["netns", "exec", node.netns.name, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
      const made = new RuntimeNode(stack, node, dir);
      await made.#linkPlugins(["loopback"]);
      made.runtime = stack.use(
        await RuntimeNamespaces.create(node.mounts, node.netns, { binDir: made.binDir }),
      );
      return made;
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
   * Pings `address` from the node or from a pod's namespace until it answers
   * (30 s at most); throws with the last output when it never does.
   */
  async ping(address: string, fromNetns?: string): Promise<void> {
    const args = ["-c", "1", "-W", "2", address];
    let last = "";
    await waitFor(`an answer from ${address} (from ${fromNetns ?? "the node"})`, async () => {
      const result = fromNetns === undefined
        ? await this.netns.exec("ping", args)
        : await this.runtime.podExec(fromNetns, "ping", args);
      last = result.stdout + result.stderr;
      return result.code === 0 ? true : undefined;
    }, 30_000).catch((error) => {
      throw new Error(`${(error as Error).message}: ${last}`, { cause: error });
    });
  }

  /**
   * Starts ipamd as the node runs it: against the cloud, host networking in the
   * node's namespace, the conflist written once it serves; with containerd's
   * loader variables in its environment. Resolves when it serves and the conflist is there.
   */
  async startIpamd(): Promise<void> {
    await this.node.daemon.start({ ...LOADER_ENV }, ["--write-conflist", CNI_CONF_DIR]);
    await waitFor("the conflist", () => Deno.stat(this.mounts.outside(`${CNI_CONF_DIR}/10-aws.conflist`)));
  }

  /** Kills ipamd with SIGKILL, by its PID, and waits for it. */
  async killIpamd(): Promise<void> {
    await this.node.daemon.kill9();
  }

  /** The pool, from ipamd's introspection (what `aws-cni status --json` prints). */
  async pool(): Promise<PoolView> {
    const report = await this.node.pool();
    return {
      addresses: new Set(report.enis.flatMap((eni) => eni.cidrs.flatMap(expand))),
      assigned: report.pool.assigned,
    };
  }

  /** ipamd's checkpoint: container ID to address, for every pod it holds. */
  async allocations(): Promise<Map<string, string>> {
    const text = await this.node.readFile(this.node.paths.checkpoint) ?? "{}";
    const saved = JSON.parse(text) as { allocations?: { containerID: string; ipv4: string }[] };
    return new Map((saved.allocations ?? []).map((a) => [a.containerID, a.ipv4]));
  }

  /**
   * What pods leave in the node's namespace: pod rules (prio 512, 1536), /32 routes to `podIps`, and
   * veths once they settle (`untilGone`).
   */
  async podLeftovers(podIps: readonly string[]): Promise<string[]> {
    const rules = (await this.netns.ipJson("rule", "show"))
      .filter((r) => r["priority"] === 512 || r["priority"] === 1536)
      .map((r) => `rule ${JSON.stringify(r)}`);
    const routes = (await this.netns.ipJson("route", "show", "table", "all"))
      .filter((r) => podIps.includes(String(r["dst"])))
      .map((r) => `route ${JSON.stringify(r)}`);
    // The ENIs' own links (eth<device>, plugged by the cloud) are veths too: they are not the pods'.
    const veths = await untilGone(async () =>
      (await this.netns.ipJson("-d", "link", "show")).filter((l) =>
        (l["linkinfo"] as { info_kind?: string } | undefined)?.info_kind === "veth" &&
        !/^eth\d+$/.test(String(l["ifname"]))
      ).map((l) => `link ${l["ifname"]}`)
    );
    return [...veths, ...rules, ...routes];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stack.disposeAsync();
  }
}

/** Whether the runtime tests can run: root, namespaces, the built binary, Debian's CNI plugins and busybox. */
export async function runtimeTestsPossible(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "not root";
  if (!await canCreateNetns() || !await canCreateNodeMounts()) {
    return "cannot make namespaces (ip netns add, unshare)";
  }
  if ((await run("test", ["-x", AWS_CNI])).code !== 0) return "dist/aws-cni is not built (make build)";
  if ((await run("test", ["-x", `${SYSTEM_CNI_DIR}/loopback`])).code !== 0) {
    return `${SYSTEM_CNI_DIR}/loopback is missing (apt-get install containernetworking-plugins)`;
  }
  if ((await run("sh", ["-c", "command -v ping"])).code !== 0) return "ping is missing (iputils-ping)";
  return undefined;
}
