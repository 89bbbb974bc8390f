/**
 * `aws-cni --daemon` as systemd runs it (root only): a process in a network
 * namespace of its own, against the simulated cloud serving there (sim/cloud),
 * with NOTIFY_SOCKET set and a stand-in `systemd-notify`
 * over /usr/local/sbin, the first directory of the PATH it gives children. The conflist must exist before READY=1 is sent, READY=1 must
 * come only once the socket serves, and the log must be JSON lines in the file
 * AWS_VPC_K8S_CNI_LOG_FILE names. The process runs main.ts with `-A`: the
 * compiled permission set does not allow systemd-notify yet.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { startCloudProcess } from "../testing/cloud_process.ts";
import { canCreateNetns, createNetns, createTempDir } from "../testing/netns.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const ready = await canCreateNetns();
if (!ready) {
  // deno-lint-ignore no-console
  console.warn("ops_ready_test: skipped (needs root and `ip netns add`)");
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

Deno.test({
  name: "aws-cni --daemon writes the conflist once it serves, then sends READY=1, and logs JSON lines",
  ignore: !ready,
  async fn() {
    await using netns = await createNetns("ready");
    await using dir = await createTempDir("aws-cni-ready-");
    const d = dir.path;
    await using cloud = await startCloudProcess(netns.path, d, { instanceType: "t3.small" });
    await Deno.mkdir(`${d}/bin`);
    await Deno.writeTextFile(
      `${d}/bin/systemd-notify`,
      `#!/bin/sh
{
  echo "args=$*"
  echo "socket=$NOTIFY_SOCKET"
  [ -f "${d}/net.d/10-aws.conflist" ] && echo conflist=yes || echo conflist=no
  [ -S "${d}/ipamd.sock" ] && echo sock=yes || echo sock=no
} > "${d}/record.tmp" && mv "${d}/record.tmp" "${d}/record"
`,
      { mode: 0o755 },
    );
    // The daemon starts programs with a fixed PATH (shared/child_env.ts), so the stand-in is bind-mounted over
    // its first directory, /usr/local/sbin, in a mount namespace of the daemon's own.
    const child = new Deno.Command("unshare", {
      args: [
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount --bind "$0" /usr/local/sbin && exec "$@"',
        `${d}/bin`,
        "ip",
        "netns",
        "exec",
        netns.name,
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        "--frozen",
        "--config",
        `${ROOT}/deno.json`,
        `${ROOT}/main.ts`,
        "--daemon",
        "--socket",
        `${d}/ipamd.sock`,
        "--checkpoint",
        `${d}/ipam.json`,
        "--write-conflist",
        `${d}/net.d`,
      ],
      env: {
        ...cloud.daemonEnv,
        PATH: `${d}/bin:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
        NOTIFY_SOCKET: `${d}/notify.sock`,
        AWS_VPC_K8S_CNI_LOG_FILE: `${d}/ipamd.log`,
        AWS_VPC_K8S_CNI_LOGLEVEL: "INFO",
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let status: Deno.CommandStatus | undefined;
    try {
      const notified = await waitFor(() => Deno.stat(`${d}/record`).then(() => true, () => false), 30_000);
      ok(notified, "systemd-notify ran within 30 s");
      const record = (await Deno.readTextFile(`${d}/record`)).trim().split("\n");
      deepStrictEqual(record, [
        `args=--ready --pid=${child.pid} --status=serving on ${d}/ipamd.sock`,
        `socket=${d}/notify.sock`,
        "conflist=yes",
        "sock=yes",
      ]);
      const conflist = JSON.parse(await Deno.readTextFile(`${d}/net.d/10-aws.conflist`));
      equal(conflist.plugins[0].ipamdSocket, `${d}/ipamd.sock`);
    } finally {
      child.kill("SIGTERM");
      status = await child.status;
      await child.stderr.cancel();
    }
    equal(status.code, 0, "SIGTERM is an orderly stop");
    const lines = (await Deno.readTextFile(`${d}/ipamd.log`)).trim().split("\n").map((l) => JSON.parse(l));
    const messages = lines.map((l) => l.msg);
    const order = [
      "ipamd starting",
      "ipamd serving",
      "wrote the CNI network configuration",
      "told systemd ipamd is ready",
    ]
      .map((msg) => messages.indexOf(msg));
    ok(order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1]!)), messages.join(" | "));
    equal(messages.at(-1), "ipamd stopped");
    // The settings are a JSON object on the line, not an escaped string.
    const settings = lines[0].settings;
    equal(typeof settings, "object");
    equal(settings.pool.warmEniTarget, 1);
    equal(settings.socketPath, `${d}/ipamd.sock`);
    ok(lines.every((l) => ["info", "warn", "error"].includes(l.level)), "no debug lines at INFO");
    for (const line of lines) match(line.ts, /^\d{4}-\d\d-\d\dT/);
  },
});
