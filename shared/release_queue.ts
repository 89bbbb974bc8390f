/**
 * The durable queue of releases DEL could not hand to ipamd. One JSON object
 * per line, appended with O_APPEND and fsynced, next to the ipamd socket
 * (`<dir of ipamdSocket>/pending-releases.jsonl`). ipamd replays each line's
 * `request` as a DelNetwork at startup, and again every few seconds while it
 * runs (a plugin may queue while ipamd is starting or slow to answer), and then
 * truncates the file. Appends and drains hold an exclusive `flock` on the file,
 * so a line appended while ipamd drains is never truncated away unread.
 *
 * Line format (version 1):
 * `{"v":1,"queuedAt":"<ISO time>","ipv4Addrs":["10.0.0.12"],"request":{<DelNetworkRequest fields>}}`
 *
 * @module
 */
import type { DelNetworkRequest } from "./rpc/mod.ts";

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
      await file.lock(true);
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

/**
 * Applies and removes every queued release, holding the queue's lock so that no
 * append lands between the read and the truncation. `apply` gets every line, in
 * order, and must make them durable; if it throws, the file is left whole
 * (releases are idempotent, so the next drain applies them again) and the error
 * is rethrown. Returns the releases applied.
 */
export async function drainReleaseQueue(
  path: string,
  apply: (releases: PendingRelease[]) => Promise<void>,
): Promise<PendingRelease[]> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  try {
    if ((await file.stat()).size === 0) return [];
    await file.lock(true);
    const releases = await readReleaseQueue(path);
    if (releases.length > 0) await apply(releases);
    await file.truncate(0);
    await file.sync();
    return releases;
  } finally {
    file.close();
  }
}
