/**
 * The durable queue of releases DEL could not hand to ipamd. One JSON object
 * per line, appended with O_APPEND and fsynced, next to the ipamd socket
 * (`<dir of ipamdSocket>/pending-releases.jsonl`). ipamd replays each line's
 * `request` as a DelNetwork at startup and then truncates the file.
 *
 * Line format (version 1):
 * `{"v":1,"queuedAt":"<ISO time>","ipv4Addrs":["10.0.0.12"],"request":{<DelNetworkRequest fields>}}`
 *
 * @module
 */
import type { DelNetworkRequest } from "./rpc/messages.ts";

/** File name of the queue, beside the socket. */
export const RELEASE_QUEUE_FILE = "pending-releases.jsonl";

/** One queued release. */
export interface PendingRelease {
  readonly v: 1;
  readonly queuedAt: string;
  /** The addresses the pod held as far as the plugin knows (from prevResult); may be empty. */
  readonly ipv4Addrs: readonly string[];
  readonly request: DelNetworkRequest;
}

/** Where releases go when ipamd cannot take them. */
export interface ReleaseQueue {
  append(release: PendingRelease): Promise<void>;
}

/** The queue path for a socket path: the same directory. */
export function releaseQueuePath(ipamdSocket: string): string {
  const slash = ipamdSocket.lastIndexOf("/");
  return `${slash <= 0 ? "" : ipamdSocket.slice(0, slash)}/${RELEASE_QUEUE_FILE}`;
}

/** The file-backed queue. Concurrent plugins are safe: each line is one write on an O_APPEND descriptor. */
export class FileReleaseQueue implements ReleaseQueue {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async append(release: PendingRelease): Promise<void> {
    const line = new TextEncoder().encode(JSON.stringify(release) + "\n");
    const file = await Deno.open(this.path, { append: true, create: true, mode: 0o600 });
    try {
      let written = 0;
      while (written < line.length) written += await file.write(line.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
  }
}

/** Reads every line of a queue file (for ipamd and tests); a torn last line is skipped. */
export async function readReleaseQueue(path: string): Promise<PendingRelease[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const releases: PendingRelease[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      releases.push(JSON.parse(line) as PendingRelease);
    } catch {
      // A crash mid-write can leave a partial last line; the release is lost, not the file.
    }
  }
  return releases;
}
