import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { createLogger } from "../../shared/log.ts";
import { parseIpamdConfig } from "../config/config.ts";
import { announceReady } from "./ready.ts";
import { notifyReady } from "./sd_notify.ts";

/** A stand-in systemd-notify that records its arguments, NOTIFY_SOCKET and what existed when it ran. */
async function stubNotify(dir: string, exitCode = 0): Promise<string> {
  const path = `${dir}/systemd-notify`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh
{
  echo "args=$*"
  echo "socket=$NOTIFY_SOCKET"
  if [ -f "${dir}/net.d/10-aws.conflist" ]; then echo conflist=yes; else echo conflist=no; fi
} >> "${dir}/record"
exit ${exitCode}
`,
    { mode: 0o755 },
  );
  return path;
}

function memoryLog() {
  const lines: string[] = [];
  return { lines, log: createLogger((line) => void lines.push(line), { level: "debug" }) };
}

Deno.test("notifyReady() runs systemd-notify --ready --pid with NOTIFY_SOCKET", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-notify-" });
  try {
    const command = await stubNotify(dir);
    const { log } = memoryLog();
    const result = await notifyReady({
      notifySocket: "/run/fake/notify",
      log,
      command,
      pid: 4242,
      status: "ok",
    });
    equal(result, "sent");
    deepStrictEqual((await Deno.readTextFile(`${dir}/record`)).trim().split("\n"), [
      "args=--ready --pid=4242 --status=ok",
      "socket=/run/fake/notify",
      "conflist=no",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("notifyReady() gives systemd-notify only PATH and NOTIFY_SOCKET, not the daemon's loader variables", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-notify-" });
  const saved = Deno.env.get("LD_LIBRARY_PATH");
  Deno.env.set("LD_LIBRARY_PATH", "/opt/containerd/lib:");
  try {
    const command = `${dir}/systemd-notify`;
    await Deno.writeTextFile(command, `#!/bin/sh\nenv > "${dir}/env"\n`, { mode: 0o755 });
    equal(await notifyReady({ notifySocket: "/run/fake/notify", log: memoryLog().log, command }), "sent");
    const names = (await Deno.readTextFile(`${dir}/env`)).trim().split("\n").map((line) =>
      line.split("=")[0]
    );
    // The shell adds PWD (and some shells SHLVL and _) itself.
    deepStrictEqual(names.filter((n) => !["PWD", "SHLVL", "_"].includes(n!)).sort(), [
      "NOTIFY_SOCKET",
      "PATH",
    ]);
  } finally {
    if (saved === undefined) Deno.env.delete("LD_LIBRARY_PATH");
    else Deno.env.set("LD_LIBRARY_PATH", saved);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("notifyReady() does nothing without NOTIFY_SOCKET and logs a failing or missing notifier", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-notify-" });
  try {
    const { lines, log } = memoryLog();
    equal(await notifyReady({ notifySocket: undefined, log, command: `${dir}/absent` }), "skipped");
    equal(await notifyReady({ notifySocket: "", log, command: `${dir}/absent` }), "skipped");
    equal(lines.length, 0);
    equal(await notifyReady({ notifySocket: "/x", log, command: `${dir}/absent` }), "failed");
    match(lines.join(""), /cannot run systemd-notify/);
    const failing = await stubNotify(dir, 3);
    equal(await notifyReady({ notifySocket: "/x", log, command: failing }), "failed");
    match(lines.join(""), /"code":3/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("announceReady() writes the conflist before it tells systemd, and fails when it cannot write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-ready-" });
  try {
    const notifyCommand = await stubNotify(dir);
    const config = parseIpamdConfig({}, { socket: `${dir}/ipamd.sock` });
    const { log } = memoryLog();
    const ready = await announceReady(config, {
      conflistDir: `${dir}/net.d`,
      notifySocket: "/run/fake/notify",
      log,
      binDir: dir,
      notifyCommand,
    });
    deepStrictEqual(ready, { ok: true, conflist: `${dir}/net.d/10-aws.conflist`, notified: "sent" });
    ok((await Deno.readTextFile(`${dir}/record`)).includes("conflist=yes"));
    await Deno.writeTextFile(`${dir}/file`, "");
    const { lines, log: log2 } = memoryLog();
    const blocked = await announceReady(config, {
      conflistDir: `${dir}/file/net.d`,
      notifySocket: "/run/fake/notify",
      log: log2,
      notifyCommand,
    });
    deepStrictEqual(blocked, { ok: false, conflist: null, notified: "skipped" });
    match(lines.join(""), /cannot write the CNI network configuration/);
    const quiet = await announceReady(config, { log, notifyCommand });
    deepStrictEqual(quiet, { ok: true, conflist: null, notified: "skipped" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
