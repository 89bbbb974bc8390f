/**
 * `dist/aws-cni` as tests run it: where it is, whether it is built, and the
 * environment and stdout of the plugin as a runtime sees them.
 *
 * @module
 */
import { run, type RunResult } from "./netns.ts";

/** The built binary (`make build`), by absolute path: `nsenter --mount` starts programs in `/`. */
export const AWS_CNI = new URL("../dist/aws-cni", import.meta.url).pathname;

/** Whether `dist/aws-cni` exists (it comes from `make build`). */
export async function binaryBuilt(): Promise<boolean> {
  return (await run("test", ["-x", AWS_CNI])).code === 0;
}

/** The env a runtime gives a plugin: CNI_* plus what Deno itself needs. */
export function pluginEnv(cni: Record<string, string>): Record<string, string> {
  const keep: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "DENO_NO_UPDATE_CHECK", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) keep[name] = value;
  }
  return { ...keep, ...cni };
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
