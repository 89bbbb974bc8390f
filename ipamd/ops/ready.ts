/**
 * What the daemon does once its socket serves, in order: write the conflist when
 * told to (`--write-conflist DIR`), so kubelet sees the network as ready only
 * now, then tell systemd (READY=1). A conflist that cannot be written is fatal:
 * kubelet would wait forever.
 *
 * @module
 */
import { errorText, type Logger } from "../../shared/mod.ts";
import type { IpamdConfig } from "../config/mod.ts";
import { type ConflistSettings, writeConflist } from "./conflist.ts";
import { notifyReady, type NotifyResult } from "./sd_notify.ts";

/** Where kubelet looks for CNI plugins; portmap is chained when it is installed here. */
export const CNI_BIN_DIR = "/opt/cni/bin";

/** What `announceReady` is told. */
export interface ReadyOptions {
  /** Write the conflist here; none leaves the conflist alone. */
  readonly conflistDir?: string | undefined;
  /** `NOTIFY_SOCKET` from the environment. */
  readonly notifySocket?: string | undefined;
  readonly log: Logger;
  /** For tests: the CNI bin dir and the notify program. */
  readonly binDir?: string;
  readonly notifyCommand?: string;
}

/** What happened; `ok` is false when the conflist could not be written. */
export interface ReadyResult {
  readonly ok: boolean;
  readonly conflist: string | null;
  readonly notified: NotifyResult;
}

/** Writes the conflist if asked, then notifies systemd. */
export async function announceReady(
  config: ConflistSettings & Pick<IpamdConfig, "socketPath">,
  options: ReadyOptions,
): Promise<ReadyResult> {
  const { log } = options;
  let conflist: string | null = null;
  if (options.conflistDir !== undefined && options.conflistDir !== "") {
    try {
      conflist = await writeConflist(options.conflistDir, config, { binDir: options.binDir ?? CNI_BIN_DIR });
      log.info("wrote the CNI network configuration", { path: conflist });
    } catch (error) {
      log.error("cannot write the CNI network configuration", {
        dir: options.conflistDir,
        error: errorText(error),
      });
      return { ok: false, conflist: null, notified: "skipped" };
    }
  }
  const notified = await notifyReady({
    notifySocket: options.notifySocket,
    log,
    status: `serving on ${config.socketPath}`,
    ...(options.notifyCommand === undefined ? {} : { command: options.notifyCommand }),
  });
  return { ok: true, conflist, notified };
}
