/**
 * Each role's share of the binary's permission set. `deno compile -P=aws-cni`
 * bakes one set into the binary (deno.json → `permissions.aws-cni`), wide
 * enough for every role: `/` for the commands that read and write the user's
 * own paths. A role drops what it does not use as soon as it starts, with
 * `Deno.permissions.revokeSync`: revoking a listed path removes that entry (and
 * any listed ancestor), so the plugin and ipamd keep exactly the node's own
 * directories. `narrow_test.ts` proves these semantics on the pinned Deno.
 *
 * @module
 */
import config from "../deno.json" with { type: "json" };
import { CHILD_PATH_DIRS } from "./child_env.ts";

/** The kinds of permission a role narrows; `env` and `sys` stay as baked. */
export type NarrowedKind = "read" | "write" | "net" | "run";

/** What a role keeps of one kind: the listed entries of the baked set, or all of them. */
export type Share = readonly string[] | "all";

/** A role's share, kind by kind. */
export type RoleShare = Readonly<Record<NarrowedKind, Share>>;

/** The node's runtime directories: socket, checkpoint, release queue, logs. */
const NODE_RUNTIME = ["/run/aws-node", "/var/run/aws-node", "/var/log/aws-routed-eni"] as const;

/** ipamd's socket, under both spellings of /run. */
const SOCKETS = ["unix:/var/run/aws-node/ipamd.sock", "unix:/run/aws-node/ipamd.sock"] as const;

/** Run permissions are granted by absolute path, for each directory of the children's PATH. */
function programs(...names: string[]): string[] {
  return names.flatMap((name) => CHILD_PATH_DIRS.map((dir) => `${dir}/${name}`));
}

/** What each role keeps; everything else of the baked set is revoked when it starts. */
export const ROLE_SHARES = {
  /** The socket, the release queue beside it and the plugin log; `ip` and `nsenter` wire the pod. */
  plugin: { read: NODE_RUNTIME, write: NODE_RUNTIME, net: SOCKETS, run: programs("ip", "nsenter") },
  /** Also the conflist directory, and /opt/cni/bin to see whether portmap is installed. */
  daemon: {
    read: [...NODE_RUNTIME, "/etc/cni/net.d", "/opt/cni/bin"],
    write: [...NODE_RUNTIME, "/etc/cni/net.d"],
    net: "all",
    run: programs("ip", "nsenter", "iptables-save", "iptables-restore", "sysctl", "systemd-notify"),
  },
  /** ipamd's introspection endpoint only. */
  status: { read: [], write: [], net: ["127.0.0.1", "0.0.0.0/0:61679"], run: [] },
  plan: { read: [], write: [], net: [], run: [] },
  "max-pods": { read: [], write: [], net: [], run: [] },
  help: { read: [], write: [], net: [], run: [] },
  /** `--trace` and `--plot` name any path the user may use. */
  replay: { read: ["/"], write: ["/"], net: [], run: [] },
  /** The binary wherever it was downloaded; `--prefix` anywhere; `systemctl` restarts ipamd after an upgrade. */
  install: { read: ["/"], write: ["/"], net: [], run: programs("systemctl") },
} as const satisfies Record<string, RoleShare>;

/** A role that narrows. */
export type NarrowRole = keyof typeof ROLE_SHARES;

/** The baked set's entries of `kind` (deno.json); `true` grants the whole kind. */
export function bakedEntries(kind: NarrowedKind): readonly string[] | true {
  const set = config.permissions["aws-cni"] as Record<string, readonly string[] | boolean>;
  const entries = set[kind];
  return entries === true ? true : Array.isArray(entries) ? entries : [];
}

/** Whether path `entry` grants `path`: the same path or a directory above it. */
export function pathCovers(entry: string, path: string): boolean {
  return entry === path || entry === "/" || path.startsWith(`${entry}/`);
}

/** A query that the entry answers, for `revokeSync`: a CIDR by its first address, a wildcard by its domain. */
function netDescriptor(entry: string): Deno.NetPermissionDescriptor {
  const cidr = /^([0-9.]+)\/[0-9]+(:[0-9]+)?$/.exec(entry);
  if (cidr) return { name: "net", host: `${cidr[1]}${cidr[2] ?? ""}` };
  return { name: "net", host: entry.replace(/^\*\./, "") };
}

/** What revoking `entry` of `kind` asks Deno. */
function descriptor(kind: NarrowedKind, entry: string): Deno.PermissionDescriptor {
  if (kind === "net") return netDescriptor(entry);
  if (kind === "run") return { name: "run", command: entry };
  return { name: kind, path: entry };
}

/** The entries of the baked set a role gives up: those it does not keep, nor holds through a kept directory. */
export function dropped(role: NarrowRole, kind: NarrowedKind): readonly string[] {
  const share = ROLE_SHARES[role][kind] as Share;
  const baked = bakedEntries(kind);
  if (share === "all" || baked === true) return [];
  const kept = share as readonly string[];
  return baked.filter((entry) =>
    !kept.includes(entry) &&
    !((kind === "read" || kind === "write") && kept.some((dir) => pathCovers(dir, entry)))
  );
}

/** Revokes, for the rest of this process, every entry of the baked set that `role` does not keep. */
export function narrow(role: NarrowRole): void {
  for (const kind of ["read", "write", "net", "run"] as const) {
    for (const entry of dropped(role, kind)) Deno.permissions.revokeSync(descriptor(kind, entry));
  }
}

/** `path` without "." and ".." parts, as Deno checks it. */
function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "" && part !== ".") parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/** Whether `role`, once narrowed, may `kind` (read or write) the absolute `path`: for settings another role uses. */
export function roleMayUse(role: NarrowRole, kind: "read" | "write", path: string): boolean {
  const share = ROLE_SHARES[role][kind] as Share;
  const entries = share === "all" ? bakedEntries(kind) : share;
  return entries === true || entries.some((entry) => pathCovers(entry, normalize(path)));
}

/**
 * The plugin's start: a pod's network namespace may be bound anywhere, so its
 * path is checked with the whole set, then the plugin narrows to its share.
 * Returns the check to use from then on: the same answer for that path.
 */
export async function narrowPlugin<T>(
  netns: string,
  check: (path: string) => Promise<T>,
): Promise<(path: string) => Promise<T>> {
  const answer = netns === "" ? null : { value: await check(netns) };
  narrow("plugin");
  return (path) => answer !== null && path === netns ? Promise.resolve(answer.value) : check(path);
}
