/**
 * aws-cni's Deno permission set, documented: `deno.json` → `permissions.aws-cni`
 * (the flags baked into `dist/aws-cni`, shared by every role), entry by entry
 * with why it is there and which roles keep it once they narrow (shared/narrow.ts). least_privilege_test.ts checks that deno.json
 * grants exactly these entries, so the table and the flags cannot drift, and
 * that the binary is refused outside them.
 *
 * @module
 */
import { dropped, type NarrowedKind, type NarrowRole, ROLE_SHARES } from "../../shared/narrow.ts";
import { CHILD_PATH_DIRS } from "../../shared/child_env.ts";

/** One entry of a permission's allow-list and why it is there. */
export interface PermissionEntry {
  readonly value: string;
  readonly why: string;
}

/** The kinds of permission the set grants; every other kind is denied. */
export type PermissionKind = "read" | "write" | "run" | "net" | "env" | "sys";

/** The permission set, kind by kind; an entry "*" grants the whole kind (`true` in deno.json). */
/**
 * A program the binary runs, by absolute path in each directory of the children's PATH: Deno grants
 * `run` by path, and a bare name would resolve against whatever PATH the runtime started the plugin with.
 */
function program(name: string, why: string): PermissionEntry[] {
  return CHILD_PATH_DIRS.map((dir) => ({ value: `${dir}/${name}`, why }));
}

export const PERMISSIONS: Readonly<Record<PermissionKind, readonly PermissionEntry[]>> = {
  read: [
    {
      value: "/",
      why: "replay --trace FILE; install reads the binary wherever it was downloaded (or --binary FILE); " +
        "the plugin checks CNI_NETNS with it (a pod's namespace may be bound anywhere), then drops it",
    },
    { value: "/run/aws-node", why: "socket, checkpoint, release queue (ipamd and the plugin)" },
    { value: "/var/run/aws-node", why: "the same through /var/run (the defaults name this path)" },
    { value: "/var/log/aws-routed-eni", why: "log files (appended; the plugin makes the dir)" },
    { value: "/etc/cni/net.d", why: "ipamd --write-conflist looks at the conflist it replaces" },
    { value: "/opt/cni/bin", why: "ipamd chains portmap in the conflist when /opt/cni/bin/portmap exists" },
  ],
  write: [
    {
      value: "/",
      why: "replay --plot FILE; install and uninstall in /opt/cni/bin, /etc/systemd/system, /etc/aws-cni " +
        "and /etc/cni/net.d, or anywhere under --prefix DIR",
    },
    { value: "/run/aws-node", why: "socket, checkpoint (temp file + rename), release queue" },
    { value: "/var/run/aws-node", why: "the same through /var/run" },
    { value: "/var/log/aws-routed-eni", why: "ipamd and plugin logs" },
    { value: "/etc/cni/net.d", why: "ipamd writes 10-aws.conflist once it serves" },
  ],
  env: [
    {
      value: "*",
      why: "main.ts reads Deno.env.toObject() once; the AWS SDK reads HOME and many AWS_* names " +
        "(credentials, profile, region, endpoints, IMDS settings), and a denied read throws",
    },
  ],
  net: [
    { value: "169.254.169.254:80", why: "IMDS (IPv4)" },
    { value: "[fd00:ec2::254]:80", why: "IMDS (IPv6-only instances)" },
    { value: "*.amazonaws.com:443", why: "EC2 regional endpoint (region known only at run time)" },
    { value: "*.amazonaws.com.cn:443", why: "EC2 regional endpoint in the China regions" },
    {
      value: "127.0.0.1",
      why: "listeners on loopback (the default), aws-cni status; EC2 and IMDS endpoints on loopback " +
        "(the simulated cloud the tests run ipamd against)",
    },
    {
      value: "0.0.0.0/0:61678",
      why: "METRICS_BIND_ADDRESS on 0.0.0.0 or a node address, for a Prometheus off the node (Deno grants " +
        "listening and connecting alike: ipamd may also connect to port 61678)",
    },
    {
      value: "0.0.0.0/0:61679",
      why: "INTROSPECTION_BIND_ADDRESS on 0.0.0.0 or a node address; aws-cni status --introspection ADDR",
    },
    {
      value: "unix:/var/run/aws-node/ipamd.sock",
      why: "ipamd's gRPC server and the plugin's client (Deno needs the exact socket path; " +
        "--socket elsewhere is refused at start)",
    },
    { value: "unix:/run/aws-node/ipamd.sock", why: "the same socket through /run" },
  ],
  sys: [
    { value: "osRelease", why: "the AWS SDK's user agent (node:os release); nothing else is asked for" },
  ],
  run: [
    ...program("ip", "both roles: links, addresses, routes, rules"),
    ...program("nsenter", "plugin: the pod side of the wiring inside CNI_NETNS"),
    ...program("iptables-save", "ipamd: read the SNAT / connmark chains"),
    ...program("iptables-restore", "ipamd: apply them in one transaction"),
    ...program("sysctl", "ipamd: rp_filter and other net sysctls"),
    ...program("systemd-notify", "ipamd under systemd: READY=1 (Type=notify, NotifyAccess=all)"),
    ...program(
      "systemctl",
      "install over a running install: daemon-reload, then try-restart ipamd onto the new binary",
    ),
  ],
};

/** A permission set as deno.json's `permissions` spells it. */
export type DenoPermissionSet = Record<string, readonly string[] | boolean>;

/** The documented set as deno.json spells it: a kind whose only entry is "*" is `true`. */
export function denoPermissionSet(
  documented: Readonly<Record<string, readonly PermissionEntry[]>> = PERMISSIONS,
): DenoPermissionSet {
  return Object.fromEntries(
    Object.entries(documented).map(([kind, entries]) => {
      const values = entries.map((e) => e.value);
      return [kind, values.length === 1 && values[0] === "*" ? true : values];
    }),
  );
}

/** Reads `permissions.<name>` from a deno.json (default: the project's). */
export async function configuredPermissionSet(
  name = "aws-cni",
  config: string | URL = new URL("../../deno.json", import.meta.url),
): Promise<DenoPermissionSet> {
  const json = JSON.parse(await Deno.readTextFile(config)) as { permissions?: Record<string, unknown> };
  const set = json.permissions?.[name];
  if (typeof set !== "object" || set === null || Array.isArray(set)) {
    throw new Error(`deno.json has no permission set "${name}"`);
  }
  return set as DenoPermissionSet;
}

/** The roles that keep an entry once they have narrowed (shared/narrow.ts). */
export function keptBy(kind: string, value: string): string {
  const roles = (Object.keys(ROLE_SHARES) as NarrowRole[]).filter((role) =>
    !(kind === "read" || kind === "write" || kind === "net" || kind === "run") ||
    !dropped(role, kind as NarrowedKind).includes(value)
  );
  return roles.length === Object.keys(ROLE_SHARES).length ? "all" : roles.join(", ") || "none";
}

/** Run entries of one program in every PATH directory read as one row (`{/usr/local/sbin,…,/bin}/ip`). */
function grouped(
  kind: string,
  entries: readonly PermissionEntry[],
): { value: string; first: string; why: string }[] {
  if (kind !== "run") return entries.map((e) => ({ value: e.value, first: e.value, why: e.why }));
  const byName = new Map<string, PermissionEntry[]>();
  for (const entry of entries) {
    const name = entry.value.slice(entry.value.lastIndexOf("/") + 1);
    byName.set(name, [...byName.get(name) ?? [], entry]);
  }
  return [...byName].map(([name, group]) => ({
    value: `{${group.map((e) => e.value.slice(0, e.value.lastIndexOf("/"))).join(",")}}/${name}`,
    first: group[0]!.value,
    why: group[0]!.why,
  }));
}

/** The README's `permissions` block: one row per entry. */
export function permissionsTable(
  documented: Readonly<Record<string, readonly PermissionEntry[]>> = PERMISSIONS,
): string {
  const rows = Object.entries(documented).flatMap(([kind, entries]) =>
    grouped(kind, entries).map((e, i) =>
      `| ${i === 0 ? kind : ""} | \`${e.value}\` | ${keptBy(kind, e.first)} | ${e.why} |`
    )
  );
  return ["| permission | allowed | kept by | why |", "|---|---|---|---|", ...rows].join("\n") + "\n";
}

// `deno run -A tests/reliability/_permissions.ts README.md` rewrites the README's table.
if (import.meta.main) {
  const { writeBlock } = await import("../../tools/readme_blocks.ts");
  await writeBlock(Deno.args[0] ?? "README.md", "permissions", permissionsTable());
}
