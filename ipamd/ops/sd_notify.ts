/**
 * Readiness for systemd (`Type=notify`). Sending to `NOTIFY_SOCKET` needs a Unix
 * datagram socket, which stable Deno cannot open, so ipamd runs
 * `systemd-notify --ready --pid=<ipamd>`; the unit sets `NotifyAccess=all` so
 * systemd takes the message from that child. systemd-notify waits until systemd
 * has read it (its barrier), so the child exiting early loses nothing.
 *
 * @module
 */
import { childCommand, errorText, type Logger, mayRun } from "../../shared/mod.ts";

/** How to notify. */
export interface NotifyOptions {
  /** The `NOTIFY_SOCKET` systemd gave the service; none means not run by systemd. */
  readonly notifySocket: string | undefined;
  readonly log: Logger;
  /** The main PID to report (default this process). */
  readonly pid?: number;
  /** The program to run (default "systemd-notify" on PATH). */
  readonly command?: string;
  /** A status line for `systemctl status`. */
  readonly status?: string;
  /** Gives up after this long (default 10 s). */
  readonly timeoutMs?: number;
}

/** What happened: sent, skipped (no NOTIFY_SOCKET) or failed (logged). */
export type NotifyResult = "sent" | "skipped" | "failed";

/** Tells systemd the service is ready. Never throws; a failure is logged. */
export async function notifyReady(options: NotifyOptions): Promise<NotifyResult> {
  const { notifySocket, log } = options;
  if (notifySocket === undefined || notifySocket === "") return "skipped";
  const command = options.command ?? "systemd-notify";
  if (!mayRun(command)) {
    log.error("cannot tell systemd ipamd is ready: running systemd-notify is not permitted", {
      command,
      hint: 'add "systemd-notify" to the run permissions the binary is compiled with',
    });
    return "failed";
  }
  const args = ["--ready", `--pid=${options.pid ?? Deno.pid}`];
  if (options.status !== undefined) args.push(`--status=${options.status}`);
  try {
    const output = await childCommand(command, {
      args,
      env: { NOTIFY_SOCKET: notifySocket },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    }).output();
    if (!output.success) {
      const stderr = new TextDecoder().decode(output.stderr).trim();
      log.error("systemd-notify failed", { command, code: output.code, stderr });
      return "failed";
    }
    log.info("told systemd ipamd is ready", { notifySocket });
    return "sent";
  } catch (error) {
    log.error("cannot run systemd-notify", { command, error: errorText(error) });
    return "failed";
  }
}
