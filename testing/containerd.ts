/**
 * containerd from the distribution, run in a test node's runtime namespaces with
 * its default plugins (the `opt` plugin too, which puts LD_LIBRARY_PATH into its
 * environment and so into every CNI plugin it runs), its roots in a temp
 * directory, and CRI pointed at the conflist ipamd writes. Pods are started the
 * way kubelet starts them, over CRI (`CriClient`).
 *
 * @module
 */
import { CriClient } from "./cri/client.ts";
import type { TestImage } from "./oci_image.ts";
import { CNI_CONF_DIR, type RuntimeNode, serviceEnv, waitFor } from "./runtime_node.ts";
import type { RuntimeDriver, RuntimePod } from "./runtime_scenario.ts";

/** A running containerd. */
export interface Containerd {
  readonly socket: string;
  readonly logFile: string;
  readonly cri: CriClient;
  /** The runtime's name and version, from CRI Version. */
  readonly version: string;
}

/** containerd's config: its own roots, CRI with our CNI dirs and sandbox image, no OOM score changes. */
export function containerdConfig(dir: string, binDir: string, sandboxImage: string): string {
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"

[grpc]
  address = "${dir}/containerd.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${sandboxImage}"
  # Without CAP_SYS_RESOURCE a sandbox may not lower its OOM score adjustment.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${binDir}"
    conf_dir = "${CNI_CONF_DIR}"
    max_conf_num = 1
`;
}

/** Starts containerd in `node`'s runtime namespaces, waits for CRI, and imports `image` for CRI. */
export async function startContainerd(node: RuntimeNode, image: TestImage): Promise<Containerd> {
  const dir = `${node.dir}/containerd`;
  await Deno.mkdir(dir, { recursive: true });
  const config = `${dir}/config.toml`;
  await Deno.writeTextFile(config, containerdConfig(dir, node.binDir, image.name));
  const logFile = `${dir}/containerd.log`;
  node.runtime.spawn("containerd", ["--config", config], { env: serviceEnv(), logFile });
  const socket = `${dir}/containerd.sock`;
  const cri = new CriClient(socket, { deadlineMs: 120_000 });
  const version = await waitFor("containerd's CRI", async () => {
    using probe = new CriClient(socket, { deadlineMs: 2_000 });
    const v = await probe.version();
    return `${v.runtimeName} ${v.runtimeVersion} (CRI ${v.runtimeApiVersion})`;
  });
  const imported = await node.runtime.exec("ctr", [
    "--address",
    socket,
    "--namespace",
    "k8s.io",
    "images",
    "import",
    image.archive,
  ]);
  if (imported.code !== 0) throw new Error(`Cannot import the test image: ${imported.stderr}`);
  return { socket, logFile, cri, version };
}

/** What `ctr run --rm --cni` printed and the container ID it gave the plugin. */
export interface CtrRun {
  /** CNI_CONTAINERID: ctr's "<namespace>-<id>". */
  readonly containerId: string;
  readonly stdout: string;
}

/**
 * Runs `command` in a container with `ctr run --rm --cni`: ctr itself calls the
 * plugins from /opt/cni/bin with CNI_NETNS=/proc/<pid>/ns/net, and DEL when the
 * task has ended. The image is imported into ctr's "default" namespace first.
 */
export async function ctrRunCni(
  node: RuntimeNode,
  containerd: Containerd,
  options: { image: TestImage; id: string; command: readonly string[] },
): Promise<CtrRun> {
  const ctr = ["--address", containerd.socket, "--namespace", "default"];
  const imported = await node.runtime.exec("ctr", [...ctr, "images", "import", options.image.archive]);
  if (imported.code !== 0) throw new Error(`Cannot import the test image: ${imported.stderr}`);
  const ran = await node.runtime.exec("ctr", [
    ...ctr,
    "run",
    "--rm",
    "--cni",
    options.image.name,
    options.id,
    ...options.command,
  ]);
  if (ran.code !== 0) throw new Error(`ctr run --cni failed: ${ran.stderr}`);
  return { containerId: `default-${options.id}`, stdout: ran.stdout };
}

/** Network namespace path of a sandbox, from containerd's verbose status (its runtime spec). */
function netnsOf(info: Readonly<Record<string, string>>): string {
  const parsed = JSON.parse(info["info"] ?? "{}") as {
    runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } };
  };
  const ns = parsed.runtimeSpec?.linux?.namespaces?.find((n) => n.type === "network");
  if (ns?.path === undefined) throw new Error("containerd's sandbox status names no network namespace");
  return ns.path;
}

/** Pods as kubelet runs them: RunPodSandbox, PodSandboxStatus, StopPodSandbox, RemovePodSandbox. */
export function criDriver(node: RuntimeNode, containerd: Containerd): RuntimeDriver {
  let count = 0;
  return {
    async start(): Promise<RuntimePod> {
      const name = `pod-${count++}`;
      const id = await containerd.cri.runPodSandbox({
        metadata: { name, uid: crypto.randomUUID(), namespace: "default", attempt: 0 },
        hostname: name,
        logDirectory: `${node.dir}/logs/${name}`,
        labels: { app: "aws-cni-test" },
        cgroupParent: node.runtime.cgroupParent,
      });
      const status = await containerd.cri.podSandboxStatus(id, true);
      return { id, ip: status.ip, netns: netnsOf(status.info) };
    },
    async ip(id: string): Promise<string> {
      return (await containerd.cri.podSandboxStatus(id)).ip;
    },
    async remove(id: string): Promise<void> {
      await containerd.cri.stopPodSandbox(id);
      await containerd.cri.removePodSandbox(id);
    },
  };
}
