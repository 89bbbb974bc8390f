/**
 * What the plugin checks about CNI_NETNS before it wires anything there. The
 * spec allows any path to a network namespace: a file under /run/netns
 * (containerd, CRI-O, podman), `/proc/<pid>/ns/net` (`ctr run --cni`,
 * cri-dockerd), or a namespace bind-mounted anywhere. So the check is about what
 * the file is, not where it is:
 *
 * - A `/proc/<pid>/ns/net` (or `/proc/<pid>/task/<tid>/ns/net`) kernel link is
 *   taken as what it is. `/proc/self` and `/proc/thread-self` name the plugin's
 *   own namespace, and other `/proc` paths are no network namespace link.
 * - Anywhere else the file itself must be a namespace file: an empty regular
 *   file on nsfs with a namespace inode number. A symbolic link is refused, so
 *   a link planted in place of a namespace file cannot lead elsewhere (say to the
 *   host's namespace through /proc/1/ns/net).
 * - The host's initial network namespace (its fixed inode number) is refused.
 *
 * Deno lets the plugin look only at what its read permission covers, and at
 * nothing under /proc without --allow-all. A path it may not look at is
 * accepted unlooked-at (`looked: false`): the kernel still refuses to enter a
 * file that is not a network namespace, and ADD then makes sure the pod end
 * did not land in the node's own namespace (cmd_add.ts).
 *
 * @module
 */

/** Namespace inode numbers start here (the kernel's PROC_DYNAMIC_FIRST). */
const FIRST_NAMESPACE_INODE = 0xf0000000;
/** The inode number of the initial network namespace (the kernel's PROC_NET_INIT_INO). */
const INIT_NET_INODE = 0xeffffff9;

/** `/proc/<pid>[/task/<tid>]/ns/<kind>`. */
const PROC_NS_LINK = /^\/proc\/(\d+|self|thread-self)(?:\/task\/\d+)?\/ns\/([a-z_]+)$/;

/** The file lookups the check makes; Deno's by default, fakes in tests. */
export interface NetnsFs {
  /** Follows symbolic links (for /proc kernel links). */
  stat(path: string): Promise<Deno.FileInfo>;
  /** Does not follow them (for every other path). */
  lstat(path: string): Promise<Deno.FileInfo>;
}

const DENO_FS: NetnsFs = { stat: (path) => Deno.stat(path), lstat: (path) => Deno.lstat(path) };

/** Why `info` is not another network namespace than the host's, or undefined when it may be one. */
function namespaceFileProblem(info: Deno.FileInfo): string | undefined {
  const major = Math.floor(info.dev / 256) & 0xfff;
  if (info.isDirectory) return "is a directory, not a network namespace";
  if (!info.isFile || info.size !== 0 || major !== 0) return "is not a network namespace";
  if (info.ino === INIT_NET_INODE) return "is the host's own (initial) network namespace";
  if ((info.ino ?? 0) < FIRST_NAMESPACE_INODE) return "is not a network namespace";
  return undefined;
}

/** Deno refused to look (outside the read permission, or /proc) or the OS did. */
function cannotLook(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;
}

/** What the path's spelling alone says is wrong, for paths under /proc; undefined elsewhere or for a link. */
export function procPathProblem(path: string): string | undefined {
  if (!path.startsWith("/proc/")) return undefined;
  const link = PROC_NS_LINK.exec(path);
  if (link === null) return "is under /proc but not a /proc/<pid>/ns/net link";
  if (link[1] === "self" || link[1] === "thread-self") return "names the plugin's own network namespace";
  if (link[2] !== "net") return `is a "${link[2]}" namespace link, not a network namespace`;
  return undefined;
}

/** What the check found: a problem, or none, having looked at the file or not. */
export interface NetnsVerdict {
  /** Why the path cannot be a pod's network namespace, as the end of `CNI_NETNS "<path>" <problem>`. */
  readonly problem: string | undefined;
  /** Whether the file itself was looked at (false: the permission set or the OS did not let the plugin). */
  readonly looked: boolean;
}

/** Checks `path` as a pod's network namespace (see the module doc). */
export async function checkNetns(path: string, fs: NetnsFs = DENO_FS): Promise<NetnsVerdict> {
  const spelled = procPathProblem(path);
  if (spelled !== undefined) return { problem: spelled, looked: false };
  const kernelLink = path.startsWith("/proc/");
  let info: Deno.FileInfo;
  try {
    info = kernelLink ? await fs.stat(path) : await fs.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { problem: kernelLink ? "does not exist (no such process)" : "does not exist", looked: true };
    }
    if (cannotLook(error)) return { problem: undefined, looked: false };
    return { problem: `cannot be checked: ${(error as Error).message}`, looked: false };
  }
  if (info.isSymlink) return { problem: "is a symbolic link, not a namespace file", looked: true };
  return { problem: namespaceFileProblem(info), looked: true };
}

/** Just the problem of `checkNetns`, or undefined. */
export async function netnsProblem(path: string, fs: NetnsFs = DENO_FS): Promise<string | undefined> {
  return (await checkNetns(path, fs)).problem;
}
