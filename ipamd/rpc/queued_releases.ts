/**
 * The releases the plugin queued when it could not reach ipamd
 * (`shared/release_queue.ts`), applied through the same DelNetwork a live DEL
 * takes: once at start, before the socket serves, then every few seconds while
 * ipamd runs (a plugin may queue while ipamd starts or is slow to answer).
 * A drain that fails leaves the file whole for the next one.
 *
 * @module
 */
import { drainReleaseQueue, errorText, type Logger, PeriodicJob, type Timers } from "../../shared/mod.ts";
import { Status } from "../../shared/rpc/mod.ts";
import { RpcError } from "./errors.ts";
import type { CniBackend } from "./server.ts";

/** The plugin's queue of releases, applied through `backend`. */
export class QueuedReleases implements AsyncDisposable {
  readonly #path: string;
  readonly #backend: Pick<CniBackend, "delNetwork">;
  readonly #log: Logger;
  #draining: Promise<number> | null = null;
  #job: PeriodicJob | null = null;

  constructor(path: string, options: { backend: Pick<CniBackend, "delNetwork">; log: Logger }) {
    this.#path = path;
    this.#backend = options.backend;
    this.#log = options.log;
  }

  /** Applies every queued release now (or joins the drain under way); returns how many were applied. */
  drain(): Promise<number> {
    this.#draining ??= this.#drain().catch((error) => {
      this.#log.error("cannot apply queued releases; retrying later", { error: errorText(error) });
      return 0;
    }).finally(() => this.#draining = null);
    return this.#draining;
  }

  /** Drains every `intervalMs` on `timers` until disposed. */
  every(intervalMs: number, timers: Timers): void {
    this.#job ??= new PeriodicJob(timers, () => this.drain(), { intervalMs, onError: () => {} });
  }

  /** Stops draining and waits for a drain under way. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#job?.[Symbol.asyncDispose]();
    await this.#draining;
  }

  async #drain(): Promise<number> {
    const applied = await drainReleaseQueue(this.#path, async (queued) => {
      for (const { request } of queued) {
        await this.#backend.delNetwork(request).catch((error) => {
          // A line without a container ID or interface can never apply; anything else is retried.
          if (!(error instanceof RpcError && error.code === Status.INVALID_ARGUMENT)) throw error;
          this.#log.warn("dropped an invalid queued release", { error: errorText(error) });
        });
      }
    });
    if (applied.length > 0) this.#log.info("applied releases the plugin queued", { count: applied.length });
    return applied.length;
  }
}
