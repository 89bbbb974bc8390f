/**
 * A small tmpfs in a private mount namespace (root only): `unshare -m
 * --propagation slave` holds the namespace, the tmpfs is mounted there on a
 * directory that exists outside too, so only processes entered into the
 * namespace (`nsenter --mount=…`) see it. It can be made read-only, filled and
 * emptied again; disposing ends the holder, which takes the mount with it.
 *
 * @module
 */
import { run } from "../netns.ts";

/** A tmpfs only the namespace's processes see. */
export interface SmallDisk extends AsyncDisposable {
  /** `/proc/<pid>/ns/mnt` of the holder, for `nsenter --mount=`. */
  readonly mountNs: string;
  readonly dir: string;
  /** Runs a program inside the mount namespace. */
  exec(program: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Remounts read-only (true) or read-write (false). */
  readOnly(on: boolean): Promise<void>;
  /** Fills every free byte with a filler file. */
  fill(): Promise<void>;
  /** Removes the filler. */
  unfill(): Promise<void>;
  /** Reads a file on the disk ("" when it is missing). */
  read(path: string): Promise<string>;
}

/** Whether `unshare -m` and tmpfs mounts work here. */
export async function canMountTmpfs(): Promise<boolean> {
  if (Deno.uid() !== 0) return false;
  const result = await run("unshare", [
    "-m",
    "--propagation",
    "private",
    "mount",
    "-t",
    "tmpfs",
    "tmpfs",
    "/mnt",
  ]);
  return result.code === 0;
}

/** Mounts a tmpfs of `sizeKib` on `dir` (created if missing) in a new mount namespace. */
export async function createSmallDisk(dir: string, sizeKib = 64): Promise<SmallDisk> {
  await Deno.mkdir(dir, { recursive: true });
  const script =
    `mount -t tmpfs -o size=${sizeKib}k,mode=0700 tmpfs "$1" && echo ready && exec sleep infinity`;
  const holder = new Deno.Command("unshare", {
    args: ["-m", "--propagation", "slave", "sh", "-c", script, "sh", dir],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = holder.stdout.getReader();
  const first = await reader.read();
  reader.releaseLock();
  if (!new TextDecoder().decode(first.value).includes("ready")) {
    const status = await holder.status;
    throw new Error(`Cannot mount a tmpfs on ${dir}: the holder exited with ${status.code}`);
  }
  const mountNs = `/proc/${holder.pid}/ns/mnt`;
  const exec = (program: string, args: readonly string[]) =>
    run("nsenter", [`--mount=${mountNs}`, program, ...args]);
  const must = async (program: string, args: readonly string[]) => {
    const result = await exec(program, args);
    if (result.code !== 0) throw new Error(`${program} ${args.join(" ")} failed: ${result.stderr}`);
  };
  return {
    mountNs,
    dir,
    exec,
    readOnly: (on) => must("mount", ["-o", `remount,${on ? "ro" : "rw"}`, dir]),
    // dd stops at ENOSPC and says so; that is the point.
    fill: async () => void await exec("dd", ["if=/dev/zero", `of=${dir}/filler`, "bs=1k"]),
    unfill: () => must("rm", ["-f", `${dir}/filler`]),
    read: async (path) => (await exec("cat", [path])).stdout,
    async [Symbol.asyncDispose]() {
      try {
        holder.kill("SIGKILL");
      } catch {
        // already gone
      }
      await holder.stdout.cancel().catch(() => {});
      await holder.status;
    },
  };
}
