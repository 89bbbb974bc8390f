/**
 * ADDs that find nothing assignable wait here, in arrival order, while the
 * reconciler grows the pool or a released address ends its cooldown (the queue
 * keeps a timer on the first cooldown's end while ADDs wait). A wait that runs out
 * fails with the reason the pool cannot serve it, which the plugin reports as CNI
 * error 11 (try again later).
 *
 * @module
 */
import { type Clock, PoolExhaustedError, realTimers, type Timers } from "../../shared/mod.ts";
import type { Allocation, AllocationKey, AllocationMeta, Datastore } from "./datastore.ts";
import { GROWTH_BLOCK_TEXT, type GrowthBlock, type GrowthBlockReason } from "./growth.ts";

/** An ADD that waited for an address and got none (answered as RESOURCE_EXHAUSTED). */
export class NoAddressError extends PoolExhaustedError {
  override readonly name = "NoAddressError";
  readonly reason: GrowthBlockReason;
  /** When it is worth trying again, if known. */
  readonly retryAfterMs: number | null;

  /** `block` as the pool saw it at `nowMs`, after a wait of `waitedMs`. */
  constructor(block: GrowthBlock, options: { waitedMs: number; nowMs: number }) {
    const retryAfterMs = block.untilMs === null ? null : Math.max(block.untilMs - options.nowMs, 0);
    const retry = retryAfterMs ? `; retry after ${Math.ceil(retryAfterMs / 1000)} s` : "";
    const detail = block.detail ? ` (${block.detail})` : "";
    super(`${GROWTH_BLOCK_TEXT[block.reason]}: no address after ${options.waitedMs} ms${retry}${detail}`);
    this.reason = block.reason;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A waiting ADD whose pod was deleted (or whose ipamd stopped) before it got an address. */
export class AddCancelledError extends Error {
  override readonly name = "AddCancelledError";
}

/** Told how each ADD ended, for the metrics. */
export interface AddObserver {
  /** An ADD got an address after `waitedMs`; `queued` when none was free on arrival. */
  served?(waitedMs: number, queued: boolean): void;
  /** An ADD waited its time out. */
  timedOut?(reason: GrowthBlockReason, waitedMs: number): void;
}

/** What a queue works with. */
export interface AddressQueueOptions {
  readonly datastore: Datastore;
  /** Why a wait that runs out got nothing. */
  readonly growth: { readonly whyNoAddress: GrowthBlock };
  readonly clock: Clock;
  readonly timers?: Timers | undefined;
  readonly observer?: AddObserver | undefined;
}

interface Waiter {
  readonly key: AllocationKey;
  readonly meta: AllocationMeta;
  readonly startMs: number;
  readonly resolve: (allocation: Allocation) => void;
  readonly reject: (error: Error) => void;
}

function sameKey(a: AllocationKey, b: AllocationKey): boolean {
  return a.containerId === b.containerId && a.ifName === b.ifName && a.networkName === b.networkName;
}

/** The queue of ADDs waiting for an address. */
export class AddressQueue {
  readonly #o: AddressQueueOptions;
  readonly #queue: Waiter[] = [];
  readonly #timers: Timers;
  /** The timer on the first cooldown's end while ADDs wait, and when it fires. */
  #cooldown: { readonly atMs: number; readonly cancel: () => void } | null = null;

  constructor(options: AddressQueueOptions) {
    this.#o = options;
    this.#timers = options.timers ?? realTimers;
  }

  /** ADDs waiting now. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * An address for `key`: at once when one is free and nobody waits ahead, else
   * once `serve()` finds one, or a `NoAddressError` after `timeoutMs` (Infinity:
   * no limit).
   */
  acquire(key: AllocationKey, meta: AllocationMeta, timeoutMs: number): Promise<Allocation> {
    const { datastore, clock, observer } = this.#o;
    const now = datastore.get(key) ??
      (this.#queue.length === 0 ? datastore.assign(key, meta, clock.now()) : null);
    if (now !== null) {
      observer?.served?.(0, false);
      return Promise.resolve(now);
    }
    return new Promise<Allocation>((resolve, reject) => {
      let cancel = () => {};
      const waiter: Waiter = {
        key,
        meta,
        startMs: clock.now(),
        resolve: (allocation) => {
          cancel();
          resolve(allocation);
        },
        reject: (error) => {
          cancel();
          reject(error);
        },
      };
      if (Number.isFinite(timeoutMs)) {
        cancel = this.#timers.after(timeoutMs, () => {
          const index = this.#queue.indexOf(waiter);
          if (index < 0) return;
          this.#queue.splice(index, 1);
          this.#watchCooldown();
          const nowMs = clock.now();
          const waitedMs = nowMs - waiter.startMs;
          const error = new NoAddressError(this.#o.growth.whyNoAddress, { waitedMs, nowMs });
          observer?.timedOut?.(error.reason, waitedMs);
          reject(error);
        });
      }
      this.#queue.push(waiter);
      this.#watchCooldown();
    });
  }

  /** Ends the waits of ADDs for `key` (its DEL arrived first), so no address is given to a deleted pod. */
  cancel(key: AllocationKey): number {
    const gone = this.#queue.filter((waiter) => sameKey(waiter.key, key));
    for (const waiter of gone) {
      this.#queue.splice(this.#queue.indexOf(waiter), 1);
      waiter.reject(new AddCancelledError(`ADD of "${key.containerId}" cancelled by its DEL`));
    }
    this.#watchCooldown();
    return gone.length;
  }

  /** Ends every wait (ipamd is stopping). */
  cancelAll(why: string): void {
    for (const waiter of this.#queue.splice(0)) waiter.reject(new AddCancelledError(why));
    this.#watchCooldown();
  }

  /**
   * Hands free addresses to waiters, first come first served; call it whenever
   * addresses joined the pool or were released. ADDs left waiting are served again
   * when the first cooldown ends.
   */
  serve(): void {
    const { datastore, clock, observer } = this.#o;
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const allocation = datastore.assign(head.key, head.meta, clock.now());
      if (allocation === null) break;
      this.#queue.shift();
      observer?.served?.(clock.now() - head.startMs, true);
      head.resolve(allocation);
    }
    this.#watchCooldown();
  }

  /** Keeps one timer on the first cooldown's end while ADDs wait, and none otherwise. */
  #watchCooldown(): void {
    const atMs = this.#queue.length === 0 ? null : this.#o.datastore.coolingEndsAtMs(this.#o.clock.now());
    if (this.#cooldown?.atMs === atMs) return;
    this.#cooldown?.cancel();
    this.#cooldown = null;
    if (atMs === null) return;
    const cancel = this.#timers.after(atMs - this.#o.clock.now(), () => {
      this.#cooldown = null;
      this.serve();
    });
    this.#cooldown = { atMs, cancel };
  }
}
