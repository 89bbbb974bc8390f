/**
 * ADDs that find nothing assignable wait here, in arrival order, while the
 * reconciler grows the pool. A wait that runs out fails with the reason the pool
 * cannot serve it, which the plugin reports as CNI error 11 (try again later).
 *
 * @module
 */
import { type Clock, PoolExhaustedError, realTimers, type Timers } from "../../shared/mod.ts";
import type { Allocation, AllocationKey, AllocationMeta, Datastore } from "./datastore.ts";

/** Why no address could be given. */
export type NoAddressReason = "max-enis" | "max-pods" | "subnet-full" | "throttled" | "still-warming";

/** Texts for the reasons, as operators read them. */
export const NO_ADDRESS_TEXT: Readonly<Record<NoAddressReason, string>> = {
  "max-enis": "max ENIs reached",
  "max-pods": "max pods reached",
  "subnet-full": "subnet full",
  "throttled": "EC2 throttled",
  "still-warming": "still warming",
};

/** An ADD that waited for an address and got none (answered as RESOURCE_EXHAUSTED). */
export class NoAddressError extends PoolExhaustedError {
  override readonly name = "NoAddressError";
  readonly reason: NoAddressReason;
  /** When it is worth trying again, if known. */
  readonly retryAfterMs: number | null;

  constructor(
    reason: NoAddressReason,
    options: { waitedMs: number; retryAfterMs?: number | null; detail?: string },
  ) {
    const retry = options.retryAfterMs ? `; retry after ${Math.ceil(options.retryAfterMs / 1000)} s` : "";
    const detail = options.detail ? ` (${options.detail})` : "";
    super(`${NO_ADDRESS_TEXT[reason]}: no address after ${options.waitedMs} ms${retry}${detail}`);
    this.reason = reason;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

/** Why the pool cannot serve now, as the reconciler last saw it. */
export interface PoolBlock {
  readonly reason: NoAddressReason;
  readonly retryAfterMs?: number | null;
  readonly detail?: string;
}

interface Waiter {
  readonly key: AllocationKey;
  readonly meta: AllocationMeta;
  readonly resolve: (allocation: Allocation) => void;
  readonly reject: (error: Error) => void;
  done: boolean;
}

/** A waiting ADD whose pod was deleted before it got an address. */
export class AddCancelledError extends Error {
  override readonly name = "AddCancelledError";
}

function sameKey(a: AllocationKey, b: AllocationKey): boolean {
  return a.containerId === b.containerId && a.ifName === b.ifName && a.networkName === b.networkName;
}

/** The queue of ADDs waiting for an address. */
export class AddressQueue {
  readonly #datastore: Datastore;
  readonly #clock: Clock;
  readonly #wake: () => void;
  readonly #block: () => PoolBlock;
  readonly #queue: Waiter[] = [];
  readonly #timers: Timers;

  constructor(
    options: {
      datastore: Datastore;
      clock: Clock;
      wake: () => void;
      block: () => PoolBlock;
      timers?: Timers;
    },
  ) {
    this.#datastore = options.datastore;
    this.#clock = options.clock;
    this.#wake = options.wake;
    this.#block = options.block;
    this.#timers = options.timers ?? realTimers;
  }

  /** ADDs waiting now. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * An address for `key`: at once when one is free and nobody waits ahead, else
   * after the reconciler grows the pool, or a `NoAddressError` after `timeoutMs`.
   */
  acquire(key: AllocationKey, meta: AllocationMeta, timeoutMs: number): Promise<Allocation> {
    const held = this.#datastore.get(key);
    if (held !== null) return Promise.resolve(held);
    if (this.#queue.length === 0) {
      const allocation = this.#datastore.assign(key, meta, this.#clock.now());
      if (allocation !== null) return Promise.resolve(allocation);
    }
    const startMs = this.#clock.now();
    return new Promise<Allocation>((resolve, reject) => {
      const waiter: Waiter = {
        key,
        meta,
        done: false,
        resolve: (allocation) => {
          cancel();
          resolve(allocation);
        },
        reject: (error) => {
          cancel();
          reject(error);
        },
      };
      const cancel = this.#timers.after(timeoutMs, () => {
        if (waiter.done) return;
        waiter.done = true;
        this.#queue.splice(this.#queue.indexOf(waiter), 1);
        const block = this.#block();
        reject(new NoAddressError(block.reason, { ...block, waitedMs: this.#clock.now() - startMs }));
      });
      this.#queue.push(waiter);
      this.#wake();
    });
  }

  /** Ends the waits of ADDs for `key` (its DEL arrived first), so no address is given to a deleted pod. */
  cancel(key: AllocationKey): number {
    const gone = this.#queue.filter((waiter) => sameKey(waiter.key, key));
    for (const waiter of gone) {
      this.#queue.splice(this.#queue.indexOf(waiter), 1);
      waiter.done = true;
      waiter.reject(new AddCancelledError(`ADD of "${key.containerId}" cancelled by its DEL`));
    }
    return gone.length;
  }

  /** Hands free addresses to waiters, first come first served. */
  serve(): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const allocation = this.#datastore.assign(head.key, head.meta, this.#clock.now());
      if (allocation === null) return;
      this.#queue.shift();
      head.done = true;
      head.resolve(allocation);
    }
  }
}
