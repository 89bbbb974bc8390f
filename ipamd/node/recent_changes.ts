/**
 * What the pool changed in EC2 lately, for node reconciliation: which ENIs it
 * created or freed and which addresses it released, each remembered for a
 * cooldown (60 s, the reference's reconcile cooldown), and how many port calls
 * are in flight. IMDS and even EC2 may still show a just-released address, so
 * reconciliation must not add it back; a pool change in flight makes the
 * datastore briefly disagree with the cloud, so reconciliation waits for it.
 *
 * @module
 */
import type { Clock } from "../../shared/mod.ts";
import type { AddressRequest, AttachedEni, Ec2Port } from "../cloud/mod.ts";

/** The reference's reconcile cooldown for just-released addresses. */
export const RECONCILE_COOLDOWN_MS = 60_000;

/** Recent pool changes, each forgotten after the cooldown. */
export class RecentChanges {
  readonly #clock: Clock;
  readonly #cooldownMs: number;
  readonly #released = new Map<string, number>();
  readonly #enis = new Map<string, number>();
  #inFlight = 0;

  constructor(clock: Clock, cooldownMs = RECONCILE_COOLDOWN_MS) {
    this.#clock = clock;
    this.#cooldownMs = cooldownMs;
  }

  /** Port calls that have started and not yet settled. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Notes addresses given back to EC2 (before the call, as the datastore already dropped them). */
  released(cidrs: readonly string[]): void {
    for (const cidr of cidrs) this.#released.set(cidr, this.#clock.now());
  }

  /** Notes an ENI the pool created or is freeing. */
  touched(eniId: string): void {
    this.#enis.set(eniId, this.#clock.now());
  }

  /** Whether `cidr` was released within the cooldown. */
  recentlyReleased(cidr: string): boolean {
    return this.#recent(this.#released, cidr);
  }

  /** Whether the pool created or freed `eniId` within the cooldown. */
  recentlyTouched(eniId: string): boolean {
    return this.#recent(this.#enis, eniId);
  }

  /** Runs a port call, counted as in flight until it settles. */
  async track<T>(call: () => Promise<T>): Promise<T> {
    this.#inFlight++;
    try {
      return await call();
    } finally {
      this.#inFlight--;
    }
  }

  #recent(entries: Map<string, number>, key: string): boolean {
    const atMs = entries.get(key);
    if (atMs === undefined) return false;
    if (this.#clock.now() - atMs < this.#cooldownMs) return true;
    entries.delete(key);
    return false;
  }
}

/** `Ec2Port` that tells `RecentChanges` what the pool does. */
export class TrackedEc2Port implements Ec2Port {
  readonly #port: Ec2Port;
  readonly #changes: RecentChanges;

  constructor(port: Ec2Port, changes: RecentChanges) {
    this.#port = port;
    this.#changes = changes;
  }

  describeNode(): Promise<AttachedEni[]> {
    return this.#port.describeNode();
  }

  createEni(request: AddressRequest): Promise<AttachedEni> {
    return this.#changes.track(async () => {
      const eni = await this.#port.createEni(request);
      this.#changes.touched(eni.eniId);
      return eni;
    });
  }

  assignAddresses(eniId: string, request: AddressRequest): Promise<string[]> {
    return this.#changes.track(() => this.#port.assignAddresses(eniId, request));
  }

  releaseAddresses(eniId: string, cidrs: readonly string[]): Promise<void> {
    this.#changes.released(cidrs);
    return this.#changes.track(() => this.#port.releaseAddresses(eniId, cidrs));
  }

  freeEni(eniId: string): Promise<void> {
    this.#changes.touched(eniId);
    return this.#changes.track(() => this.#port.freeEni(eniId));
  }
}
