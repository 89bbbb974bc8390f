/**
 * A small tmpfs mounted over a directory inside an existing mount namespace
 * (root only), e.g. over a test node's /run/aws-node: only the processes in
 * that namespace (`nsenter --mount=…`, the node's daemon and plugin) see it. It
 * can be made read-only, filled and emptied again; disposing unmounts it (and
 * the namespace's end takes it anyway).
 *
 * @module
 */
import { run } from "../../testing/netns.ts";

/** A tmpfs only the namespace's processes see. */
export interface SmallDisk extends AsyncDisposable {
  /** The namespace it is mounted in (`/proc/<pid>/ns/mnt`). */
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

/**
 * Mounts a tmpfs of `sizeKib` (mode 0700) on `dir`, which must exist inside
 * `mountNs`, hiding what was there until disposal.
 */
export async function createSmallDisk(mountNs: string, dir: string, sizeKib = 64): Promise<SmallDisk> {
  const exec = (program: string, args: readonly string[]) =>
    run("nsenter", [`--mount=${mountNs}`, program, ...args]);
  const must = async (program: string, args: readonly string[]) => {
    const result = await exec(program, args);
    if (result.code !== 0) throw new Error(`${program} ${args.join(" ")} failed: ${result.stderr}`);
  };
  await must("mount", ["-t", "tmpfs", "-o", `size=${sizeKib}k,mode=0700`, "aws-cni-small-disk", dir]);
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
      // Lazily: the node's daemon may still hold its socket there; the namespace may be gone already.
      await exec("umount", ["-l", dir]);
    },
  };
}
