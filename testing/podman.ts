/**
 * podman from the distribution (4.3, CNI backend) in a test node's runtime
 * namespaces: its storage and run dirs in a temp directory, the CNI network
 * being the conflist ipamd writes, the plugin directory holding aws-cni.
 * Containers get podman's generated names ("eager_hopper"), which podman passes
 * to the plugin as K8S_POD_NAME.
 *
 * @module
 */
import type { TestImage } from "./oci_image.ts";
import { CNI_CONF_DIR, type RuntimeNode, serviceEnv } from "./runtime_node.ts";
import type { RuntimeDriver, RuntimePod } from "./runtime_scenario.ts";

/** The network podman attaches containers to: the conflist's name. */
export const NETWORK = "aws-cni";

/** podman's configuration files and the environment that points it at them. */
export interface Podman {
  readonly env: Record<string, string>;
  readonly version: string;
  /** Runs `podman …args` in the node's runtime namespaces; throws with its stderr on failure. */
  run(args: readonly string[]): Promise<string>;
}

/** containers.conf: the CNI backend on our dirs, cgroupfs, file events, ulimits this machine may set. */
export function containersConf(dir: string, binDir: string): string {
  return `[containers]
# podman's default nofile and nproc limits are above what a process without CAP_SYS_RESOURCE may set.
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[network]
network_backend = "cni"
cni_plugin_dirs = ["${binDir}"]
network_config_dir = "${CNI_CONF_DIR}"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${dir}/events.log"
runtime = "runc"
tmp_dir = "${dir}/tmp"
`;
}

/** storage.conf: the vfs driver (a 2 MB image) under the temp directory. */
export function storageConf(dir: string): string {
  return `[storage]
driver = "vfs"
graphroot = "${dir}/storage"
runroot = "${dir}/runroot"
`;
}

/** Configures podman for `node` and loads `image`. */
export async function setUpPodman(node: RuntimeNode, image: TestImage): Promise<Podman> {
  const dir = `${node.dir}/podman`;
  await Deno.mkdir(`${dir}/tmp`, { recursive: true });
  await Deno.writeTextFile(`${dir}/containers.conf`, containersConf(dir, node.binDir));
  await Deno.writeTextFile(`${dir}/storage.conf`, storageConf(dir));
  const env = {
    ...serviceEnv(),
    CONTAINERS_CONF: `${dir}/containers.conf`,
    CONTAINERS_STORAGE_CONF: `${dir}/storage.conf`,
  };
  const run = async (args: readonly string[]): Promise<string> => {
    const result = await node.runtime.exec("podman", args, env);
    if (result.code !== 0) throw new Error(`podman ${args.join(" ")} failed: ${result.stderr.trim()}`);
    return result.stdout;
  };
  const version = (await run(["version", "--format", "{{.Client.Version}}"])).trim();
  await run(["load", "--quiet", "--input", image.archive]);
  return { env, version, run };
}

interface Inspected {
  readonly Id: string;
  readonly Name: string;
  readonly NetworkSettings: { SandboxKey: string; Networks: Record<string, { IPAddress: string }> };
}

async function inspect(podman: Podman, id: string): Promise<Inspected> {
  const [found] = JSON.parse(await podman.run(["container", "inspect", id])) as Inspected[];
  if (found === undefined) throw new Error(`podman does not know container ${id}`);
  return found;
}

/** Containers on the aws-cni network with podman's generated names: `podman run -d`, `podman stop`, `podman rm`. */
export function podmanDriver(node: RuntimeNode, podman: Podman, image: TestImage): RuntimeDriver & {
  /** The name podman gave a container. */
  name(id: string): Promise<string>;
} {
  return {
    async start(): Promise<RuntimePod> {
      const id = (await podman.run([
        "run",
        "--detach",
        "--network",
        NETWORK,
        "--cgroup-parent",
        node.runtime.cgroupParent,
        image.name,
      ])).trim();
      const found = await inspect(podman, id);
      const ip = found.NetworkSettings.Networks[NETWORK]?.IPAddress ?? "";
      return { id: found.Id, ip, netns: found.NetworkSettings.SandboxKey };
    },
    async ip(id: string): Promise<string> {
      return (await inspect(podman, id)).NetworkSettings.Networks[NETWORK]?.IPAddress ?? "";
    },
    async remove(id: string): Promise<void> {
      await podman.run(["stop", "--time", "0", id]);
      await podman.run(["rm", id]);
    },
    async name(id: string): Promise<string> {
      return (await inspect(podman, id)).Name;
    },
  };
}
