/**
 * The warm pool as one object, assembled here and nowhere else: the datastore
 * (addresses, pods and their cooldown), the growth state (why the pool cannot
 * grow), the queue of waiting ADDs, the scale-down window and the reconciler that
 * applies the policy's plans through the EC2 port. The daemon, replay and the
 * simulated nodes all run this. Nothing is wired after construction: the queue
 * reads the growth state, the reconciler reads the queue's demand and writes the
 * growth state, and observers hear what happened.
 *
 * @module
 */
import { type Clock, errorText, type Logger, silentLogger, type Timers } from "../../shared/mod.ts";
import type { AccountPressure, Ec2Port } from "../cloud/mod.ts";
import {
  type Allocation,
  type AllocationKey,
  type AllocationMeta,
  Datastore,
  type EniInput,
} from "./datastore.ts";
import { GrowthState } from "./growth.ts";
import { scaleDownWindowMs } from "./policy.ts";
import { type EniHooks, type PassOutcome, Reconciler } from "./reconciler.ts";
import { ScaleDownWindow } from "./scale_down_window.ts";
import type { SubnetRoom } from "./subnet_room.ts";
import type { InstanceLimits, PoolSettings } from "./types.ts";
import { type AddObserver, AddressQueue } from "./waiters.ts";

/** What a pool works with. */
export interface PoolOptions {
  readonly ec2: Ec2Port;
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  readonly clock: Clock;
  /** How the pool waits (default: real timers). */
  readonly timers?: Timers | undefined;
  readonly log?: Logger | undefined;
  /** Host networking, told of every ENI the pool creates or frees. */
  readonly enis?: EniHooks | undefined;
  /** The subnets' free addresses, for subnet-aware targets. */
  readonly room?: SubnetRoom | undefined;
  /** Growth pause after a full subnet (default 120 s, as the reference). */
  readonly subnetFullHoldMs?: number | undefined;
  /** When EC2 last throttled the node's requests (the request budget), so spare growth waits for pods. */
  readonly pressure?: AccountPressure | undefined;
  /** Draws the jitter of pauses (default Math.random). */
  readonly random?: (() => number) | undefined;
  /** How long a non-urgent wake-up may wait to be folded into the next pass (default 50 ms). */
  readonly settleMs?: number | undefined;
}

/** Told what the pool did. */
export interface PoolObserver extends AddObserver {
  /** A reconciler pass ended. */
  passed?(outcome: PassOutcome): void;
  /** The pool changed: a pass ended, or `changed()` was called. */
  changed?(): void;
}

/** A running reconciler loop; disposing it stops the loop. */
export interface PoolLoop extends AsyncDisposable {
  /** Settles when the loop has stopped. */
  readonly done: Promise<void>;
}

/** An ENI found on the node, with the addresses it holds. */
export type FoundEni = Omit<EniInput, "createdAtMs"> & { readonly cidrs: readonly string[] };

/** One node's warm pool. */
export class Pool implements AsyncDisposable {
  readonly datastore: Datastore;
  readonly growth: GrowthState;
  readonly queue: AddressQueue;
  readonly reconciler: Reconciler;
  /** Host networking, told of every ENI that joins or leaves the pool. */
  readonly enis: EniHooks | undefined;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #observers = new Set<PoolObserver>();
  readonly #loops = new Set<PoolLoop>();

  constructor(options: PoolOptions) {
    const { clock, timers, settings } = options;
    const observers = this.#observers;
    this.#clock = clock;
    this.#log = options.log ?? silentLogger;
    this.enis = options.enis;
    this.datastore = new Datastore({ cooldownMs: settings.ipCooldownMs });
    this.growth = new GrowthState(clock, {
      subnetFullHoldMs: options.subnetFullHoldMs,
      pressure: options.pressure,
      random: options.random,
    });
    this.queue = new AddressQueue({
      datastore: this.datastore,
      growth: this.growth,
      clock,
      timers,
      observer: {
        served: (waitedMs, queued) => observers.forEach((o) => o.served?.(waitedMs, queued)),
        timedOut: (reason, waitedMs) => observers.forEach((o) => o.timedOut?.(reason, waitedMs)),
      },
    });
    this.reconciler = new Reconciler({
      datastore: this.datastore,
      demand: this.queue,
      growth: this.growth,
      window: new ScaleDownWindow(scaleDownWindowMs(settings)),
      ec2: options.ec2,
      limits: options.limits,
      settings,
      clock,
      timers,
      log: this.#log.with({ op: "reconcile" }),
      settleMs: options.settleMs,
      enis: options.enis,
      room: options.room,
      onPass: (outcome) => observers.forEach((o) => (o.passed?.(outcome), o.changed?.())),
    });
  }

  /** Adds ENIs found on the node, with their addresses, to the datastore. */
  adopt(enis: readonly FoundEni[]): void {
    for (const eni of enis) this.datastore.adoptEni({ ...eni, createdAtMs: this.#clock.now() });
  }

  /**
   * An address for `key`: at once when one is free, else once the pool grew, or a
   * `NoAddressError` after `timeoutMs` saying why it could not grow.
   */
  acquire(key: AllocationKey, meta: AllocationMeta, timeoutMs: number): Promise<Allocation> {
    const before = this.queue.waiting;
    const allocation = this.queue.acquire(key, meta, timeoutMs);
    if (this.queue.waiting > before) this.reconciler.wake(true);
    return allocation;
  }

  /**
   * Frees what `key` holds (its address cools down from now) and ends its waiting
   * ADDs; null when it held nothing. ADDs still waiting get the address when its
   * cooldown ends, unless the pool grew first.
   */
  release(key: AllocationKey): Allocation | null {
    this.queue.cancel(key);
    const released = this.datastore.release(key, this.#clock.now());
    if (released !== null) this.queue.serve();
    return released;
  }

  /** The datastore changed outside a pass (an ADD, a DEL, the node's ENIs): observers hear it, the loop looks again. */
  changed(): void {
    for (const observer of this.#observers) observer.changed?.();
    this.reconciler.wake();
  }

  /** Whether an ADD can be served: an address is free now, or nothing stops the pool from growing. */
  get canServe(): boolean {
    return this.datastore.stats(this.#clock.now()).free > 0 || this.growth.current === null;
  }

  /** Adds an observer until the returned function is called. */
  observe(observer: PoolObserver): () => void {
    this.#observers.add(observer);
    return () => void this.#observers.delete(observer);
  }

  /**
   * Runs the reconciler loop, a pass every `intervalMs` and on every wake-up, until
   * the returned handle (or the pool) is disposed. Then ADDs still waiting end, since
   * nothing will serve them.
   */
  run(intervalMs: number): PoolLoop {
    const abort = new AbortController();
    const done = this.reconciler.run(abort.signal, intervalMs).catch((error) => {
      this.#log.error("reconciler stopped", { error: errorText(error) });
    });
    const handle: PoolLoop = {
      done,
      [Symbol.asyncDispose]: async () => {
        this.#loops.delete(handle);
        abort.abort();
        await done;
        this.queue.cancelAll("ADD cancelled: ipamd is stopping");
      },
    };
    this.#loops.add(handle);
    return handle;
  }

  /** Stops the loop, drops a pending wake-up and ends the waiting ADDs. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all([...this.#loops].map((loop) => loop[Symbol.asyncDispose]()));
    this.reconciler[Symbol.dispose]();
    this.queue.cancelAll("ADD cancelled: ipamd is stopping");
  }
}
