/**
 * The narrowed Deno permission set proposed for `deno.json` → `permissions.aws-cni`
 * (the flags baked into the compiled binary, shared by both roles), and a
 * launcher that runs `main.ts` with exactly those flags plus what the test
 * setup adds, so the whole suite can run against it (`run.ts --narrow`).
 *
 * @module
 */

/** One permission's allow-list and why each entry is there. */
export interface PermissionEntry {
  readonly value: string;
  readonly why: string;
}

/** The proposal, flag by flag. */
export const PROPOSED: Readonly<
  Record<"read" | "write" | "run" | "net" | "env" | "sys", readonly PermissionEntry[]>
> = {
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
  run: [
    { value: "ip", why: "both roles: links, addresses, routes, rules" },
    { value: "nsenter", why: "plugin: the pod side of the wiring inside CNI_NETNS" },
    { value: "iptables-save", why: "ipamd: read the SNAT / connmark chains" },
    { value: "iptables-restore", why: "ipamd: apply them in one transaction" },
    { value: "sysctl", why: "ipamd: rp_filter and other net sysctls" },
    { value: "systemd-notify", why: "ipamd under systemd: READY=1 (Type=notify); missing today" },
  ],
  net: [
    { value: "169.254.169.254:80", why: "IMDS (IPv4)" },
    { value: "[fd00:ec2::254]:80", why: "IMDS (IPv6-only instances)" },
    { value: "*.amazonaws.com:443", why: "EC2 regional endpoint (region known only at run time)" },
    { value: "127.0.0.1", why: "metrics and introspection listeners, aws-cni status, --simulate's emulator" },
    {
      value: "unix:/var/run/aws-node/ipamd.sock",
      why:
        "ipamd's gRPC server (grpc-js over node:net needs the exact socket path; --socket elsewhere needs it too)",
    },
    { value: "unix:/run/aws-node/ipamd.sock", why: "the same socket through /run" },
  ],
  env: [
    {
      value: "*",
      why: "main.ts reads Deno.env.toObject(); see the report for AWS_*, CNI_* and the settings' names",
    },
  ],
  sys: [
    { value: "osRelease", why: "the AWS SDK's user agent (node:os release); nothing else is asked for" },
  ],
};

/** Deno flags for a set: `--allow-read=a,b` …; an entry "*" grants the whole kind. */
export function permissionFlags(
  set: Readonly<Record<string, readonly PermissionEntry[]>>,
  extra: Readonly<Record<string, readonly string[]>> = {},
): string[] {
  const kinds = new Set([...Object.keys(set), ...Object.keys(extra)]);
  return [...kinds].map((kind) => {
    const values = [...(set[kind] ?? []).map((e) => e.value), ...(extra[kind] ?? [])];
    return values.includes("*") ? `--allow-${kind}` : `--allow-${kind}=${values.join(",")}`;
  });
}

/**
 * Writes a launcher script (like `make build`'s) that runs main.ts with the
 * proposed flags plus `extra`; returns its path.
 */
export async function writeNarrowLauncher(
  dir: string,
  extra: Readonly<Record<string, readonly string[]>>,
): Promise<string> {
  const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
  // A test daemon's socket is in a temp dir: the harness names it in AWS_CNI_TEST_SOCKET.
  const flags = permissionFlags(PROPOSED, extra).map((f) =>
    f.startsWith("--allow-net=") ? `"${f}\${AWS_CNI_TEST_SOCKET:+,unix:\$AWS_CNI_TEST_SOCKET}"` : `'${f}'`
  ).join(" ");
  const path = `${dir}/aws-cni`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh
# aws-cni with the narrowed permission set proposed by tests/reliability/_permissions.ts.
export DENO_NO_UPDATE_CHECK=1
exec "${Deno.execPath()}" run --quiet --frozen --no-prompt --config "${root}/deno.json" ${flags} "${root}/main.ts" "$@"
`,
    { mode: 0o755 },
  );
  return path;
}

/** What running main.ts from source under test needs besides the proposal (not the compiled binary). */
export function testExtras(): Record<string, string[]> {
  const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
  const denoDir = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`;
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  return {
    // The sources, npm packages and module cache (a compiled binary embeds them), and the tests' temp dirs.
    read: [root, denoDir, tmp],
    write: [tmp],
  };
}
