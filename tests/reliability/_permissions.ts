/**
 * aws-cni's Deno permission set, documented: `deno.json` → `permissions.aws-cni`
 * (the flags baked into `dist/aws-cni`, shared by the plugin and ipamd), entry
 * by entry with why it is there. least_privilege_test.ts checks that deno.json
 * grants exactly these entries, so the table and the flags cannot drift, and
 * that the binary is refused outside them.
 *
 * @module
 */

/** One entry of a permission's allow-list and why it is there. */
export interface PermissionEntry {
  readonly value: string;
  readonly why: string;
}

/** The kinds of permission the set grants; every other kind is denied. */
export type PermissionKind = "read" | "write" | "run" | "net" | "env" | "sys";

/** The permission set, kind by kind; an entry "*" grants the whole kind (`true` in deno.json). */
export const PERMISSIONS: Readonly<Record<PermissionKind, readonly PermissionEntry[]>> = {
  read: [
    { value: "/run/aws-node", why: "ipamd: checkpoint, socket dir; plugin: release queue beside the socket" },
    { value: "/var/run/aws-node", why: "the same through /var/run (the defaults name this path)" },
    { value: "/var/log/aws-routed-eni", why: "log files (appended; the plugin makes the dir)" },
    { value: "/run/netns", why: "plugin: CNI_NETNS lstat (containerd, CRI-O)" },
    { value: "/var/run/netns", why: "plugin: CNI_NETNS lstat through /var/run" },
    { value: "/etc/cni/net.d", why: "ipamd --write-conflist; install" },
    { value: "/opt/cni/bin", why: "conflist chains portmap when /opt/cni/bin/portmap exists; install" },
    { value: "/etc/aws-cni", why: "install keeps an edited ipamd.env" },
    { value: "/etc/systemd/system", why: "install / uninstall of aws-ipamd.service" },
  ],
  write: [
    { value: "/run/aws-node", why: "socket, checkpoint (temp file + rename), release queue" },
    { value: "/var/run/aws-node", why: "the same through /var/run" },
    { value: "/var/log/aws-routed-eni", why: "ipamd and plugin logs" },
    { value: "/etc/cni/net.d", why: "10-aws.conflist" },
    { value: "/opt/cni/bin", why: "install copies the binary" },
    { value: "/etc/aws-cni", why: "install writes ipamd.env" },
    { value: "/etc/systemd/system", why: "install writes the unit" },
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
    { value: "127.0.0.1", why: "metrics and introspection listeners, aws-cni status, --simulate's emulator" },
    {
      value: "unix:/var/run/aws-node/ipamd.sock",
      why: "ipamd's gRPC server and the plugin's client (Deno needs the exact socket path; " +
        "--socket elsewhere is refused)",
    },
    { value: "unix:/run/aws-node/ipamd.sock", why: "the same socket through /run" },
  ],
  sys: [
    { value: "osRelease", why: "the AWS SDK's user agent (node:os release); nothing else is asked for" },
  ],
  run: [
    { value: "ip", why: "both roles: links, addresses, routes, rules" },
    { value: "nsenter", why: "plugin: the pod side of the wiring inside CNI_NETNS" },
    { value: "iptables-save", why: "ipamd: read the SNAT / connmark chains" },
    { value: "iptables-restore", why: "ipamd: apply them in one transaction" },
    { value: "sysctl", why: "ipamd: rp_filter and other net sysctls" },
    { value: "systemd-notify", why: "ipamd under systemd: READY=1 (Type=notify, NotifyAccess=all)" },
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

/** The README's `permissions` block: one row per entry. */
export function permissionsTable(
  documented: Readonly<Record<string, readonly PermissionEntry[]>> = PERMISSIONS,
): string {
  const rows = Object.entries(documented).flatMap(([kind, entries]) =>
    entries.map((e, i) => `| ${i === 0 ? kind : ""} | \`${e.value}\` | ${e.why} |`)
  );
  return ["| permission | allowed | why |", "|---|---|---|", ...rows].join("\n") + "\n";
}

// `deno run -A tests/reliability/_permissions.ts README.md` rewrites the README's table.
if (import.meta.main) {
  const { writeBlock } = await import("../../tools/readme_blocks.ts");
  await writeBlock(Deno.args[0] ?? "README.md", "permissions", permissionsTable());
}
