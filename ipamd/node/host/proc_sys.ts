/**
 * Kernel settings under /proc/sys. Files under /proc/sys/net belong to the
 * network namespace of the process that opens them, so the daemon changes only
 * its own namespace.
 *
 * @module
 */
import { childCommand } from "../../../shared/mod.ts";

/** The port: one write per setting. */
export interface ProcSysPort {
  /** Writes `value` to /proc/sys/`key`, e.g. `net/ipv4/conf/eth0/rp_filter`. */
  set(key: string, value: string): Promise<void>;
}

const KEY = /^[A-Za-z0-9_]+(\/[A-Za-z0-9_.:@-]+)+$/;

/** Refuses keys that could leave /proc/sys. */
export function checkProcSysKey(key: string): string {
  if (!KEY.test(key) || key.split("/").some((part) => part === "." || part === "..")) {
    throw new TypeError(`Invalid /proc/sys key "${key}"`);
  }
  return key;
}

/** The adapter over the /proc/sys files. */
export class FileProcSys implements ProcSysPort {
  readonly #root: string;

  /** `root` is for tests; default /proc/sys. */
  constructor(root = "/proc/sys") {
    this.#root = root;
  }

  async set(key: string, value: string): Promise<void> {
    const path = `${this.#root}/${checkProcSysKey(key)}`;
    try {
      await Deno.writeTextFile(path, `${value}\n`, { create: false });
    } catch (error) {
      throw new Error(`Cannot set "${path}" to "${value}": ${(error as Error).message}`, { cause: error });
    }
  }
}

/**
 * Sets keys with `sysctl -w`. Deno grants writes under /proc only with
 * --allow-all, so the daemon, which runs with a narrow permission set, goes
 * through `sysctl` (on its run allow-list) instead.
 */
export class SysctlProcSys implements ProcSysPort {
  async set(key: string, value: string): Promise<void> {
    const setting = `${checkProcSysKey(key)}=${value}`;
    const out = await childCommand("sysctl", {
      args: ["-q", "-w", setting],
      stdout: "null",
      stderr: "piped",
    })
      .output();
    if (out.code !== 0) {
      throw new Error(`Cannot set "${key}" to "${value}": ${new TextDecoder().decode(out.stderr).trim()}`);
    }
  }
}
