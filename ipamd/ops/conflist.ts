/**
 * The network configuration kubelet reads, `10-aws.conflist`, rendered from the
 * daemon's settings as the reference's entrypoint does: the `aws-cni` plugin
 * with vethPrefix, MTU and plugin logging, then `portmap` when its binary is
 * installed. Its appearance is what tells kubelet the network is ready, so it is
 * written atomically (temp file + rename) and only once ipamd serves.
 *
 * @module
 */
import { DEFAULT_SOCKET_PATH, type IpamdConfig } from "../config/mod.ts";

/** The file name, as the reference's. */
export const CONFLIST_NAME = "10-aws.conflist";

/** The settings the conflist carries. */
export type ConflistSettings = Pick<
  IpamdConfig,
  "vethPrefix" | "podMtu" | "pluginLogFile" | "pluginLogLevel" | "socketPath" | "conflistVersion"
>;

/** The conflist text; `portmap` chains the portmap plugin (hostPort support). */
export function renderConflist(settings: ConflistSettings, options: { portmap: boolean }): string {
  const plugin: Record<string, unknown> = {
    type: "aws-cni",
    vethPrefix: settings.vethPrefix,
    mtu: String(settings.podMtu),
    pluginLogFile: settings.pluginLogFile,
    pluginLogLevel: settings.pluginLogLevel.toUpperCase(),
  };
  if (settings.socketPath !== DEFAULT_SOCKET_PATH) plugin["ipamdSocket"] = settings.socketPath;
  const plugins: Record<string, unknown>[] = [plugin];
  if (options.portmap) plugins.push({ type: "portmap", capabilities: { portMappings: true }, snat: true });
  return JSON.stringify({ cniVersion: settings.conflistVersion, name: "aws-cni", plugins }, null, 2) + "\n";
}

/** Whether `path` exists. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Writes `text` to `path` through a temp file in the same directory and a rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const temp = `${path}.${Deno.pid}.tmp`;
  try {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    await Deno.writeFile(temp, bytes, { mode });
    await Deno.chmod(temp, mode);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/** Writes `<dir>/10-aws.conflist` (creating `dir`), chaining portmap when `<binDir>/portmap` exists. */
export async function writeConflist(
  dir: string,
  settings: ConflistSettings,
  options: { binDir: string },
): Promise<string> {
  const path = `${dir.replace(/\/+$/, "")}/${CONFLIST_NAME}`;
  const portmap = await pathExists(`${options.binDir}/portmap`);
  await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
  await writeFileAtomic(path, renderConflist(settings, { portmap }), 0o644);
  return path;
}
