/**
 * Hot-plugging: keeps the node's links in step with its ENI attachments, as an
 * instance's hypervisor does. An ENI's link appears when its attach completes
 * and goes when its detach completes. It reacts to every change of the account
 * and wakes itself when a pending attach or detach comes due on the
 * simulation's clock; link changes run one at a time.
 *
 * @module
 */
import { formatIpv4, type Logger, parseCidr, silentLogger } from "../../shared/mod.ts";
import type { Ec2SimState, Ec2Simulation } from "../ec2/mod.ts";
import type { EniLink, EniLinks } from "./veth_links.ts";

/** An ENI attached to the node right now. */
export interface AttachedNow {
  readonly mac: string;
  readonly deviceIndex: number;
}

/** Longest sleep between two looks (a held attach has no due time). */
const MAX_SLEEP_MS = 60_000;

/**
 * The ENIs attached to `instanceId` at `nowMs` (attaches that came due count,
 * detaches that did not yet come due still count), and when the next pending
 * one comes due (null when none does).
 */
export function attachedAt(
  state: Ec2SimState,
  instanceId: string,
  nowMs: number,
): { attached: AttachedNow[]; nextDueMs: number | null } {
  const attached: AttachedNow[] = [];
  let nextDueMs: number | null = null;
  for (const eni of state.networkInterfaces) {
    const a = eni.attachment;
    if (a === null || a.instanceId !== instanceId) continue;
    const pending = a.status !== "attached" && a.readyAtMs > nowMs;
    if (pending && a.readyAtMs < Number.MAX_SAFE_INTEGER) {
      nextDueMs = Math.min(nextDueMs ?? Infinity, a.readyAtMs);
    }
    const present = a.status === "attached" || (a.status === "attaching" ? !pending : pending);
    if (present) attached.push({ mac: eni.macAddress.toLowerCase(), deviceIndex: a.deviceIndex });
  }
  attached.sort((x, y) => x.deviceIndex - y.deviceIndex);
  return { attached, nextDueMs };
}

/** How the primary ENI's link is configured at start. */
export interface PrimaryLease {
  readonly mac: string;
  /** `a.b.c.d/n`. */
  readonly address: string;
  readonly gateway: string;
}

/** Keeps one instance's links in step with its attachments. */
export class HotPlug {
  readonly #sim: Ec2Simulation;
  readonly #instanceId: string;
  readonly #links: EniLinks;
  readonly #primary: PrimaryLease;
  readonly #log: Logger;
  readonly #plugged = new Map<string, number>();
  #unsubscribe: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> = Promise.resolve();
  #again = false;
  #busy = false;
  #closed = false;
  #failures = 0;

  constructor(
    sim: Ec2Simulation,
    options: { instanceId: string; links: EniLinks; primary: PrimaryLease; log?: Logger },
  ) {
    this.#sim = sim;
    this.#instanceId = options.instanceId;
    this.#links = options.links;
    this.#primary = { ...options.primary, mac: options.primary.mac.toLowerCase() };
    this.#log = options.log ?? silentLogger;
  }

  /** Plugs what is attached now (the primary with its lease) and starts watching. */
  async start(): Promise<void> {
    this.#unsubscribe = this.#sim.onMutation(() => this.#kick());
    this.#kick();
    await this.settled();
    if (this.#failures > 0) throw new Error("Cannot plug the node's ENI links (see the log)");
  }

  /** Resolves once no link change is running or due now. */
  async settled(): Promise<void> {
    while (this.#busy) await this.#running;
  }

  /** MAC → device index of the links plugged now. */
  plugged(): ReadonlyMap<string, number> {
    return this.#plugged;
  }

  /** How many link changes failed so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Stops watching and waits for the change in progress; the links stay (close the links to remove them). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    clearTimeout(this.#timer);
    await this.settled();
  }

  #kick(): void {
    if (this.#closed) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = true;
    this.#running = this.#loop().finally(() => this.#busy = false);
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      await this.#reconcile();
    } while (this.#again && !this.#closed);
  }

  async #reconcile(): Promise<void> {
    const nowMs = this.#sim.clock.now();
    const { attached, nextDueMs } = attachedAt(this.#sim.exportState(), this.#instanceId, nowMs);
    const wanted = new Map(attached.map((eni) => [eni.mac, eni.deviceIndex]));
    for (const [mac, deviceIndex] of [...this.#plugged]) {
      if (wanted.get(mac) === deviceIndex) continue;
      await this.#change("unplug", { mac, deviceIndex }, () => this.#links.unplug(mac));
      this.#plugged.delete(mac);
    }
    for (const eni of attached) {
      if (this.#plugged.has(eni.mac)) continue;
      const link: EniLink = eni.mac === this.#primary.mac
        ? { ...eni, address: this.#primary.address, gateway: this.#primary.gateway }
        : eni;
      if (await this.#change("plug", eni, () => this.#links.plug(link))) {
        this.#plugged.set(eni.mac, eni.deviceIndex);
      }
    }
    clearTimeout(this.#timer);
    if (nextDueMs !== null && !this.#closed) {
      const delayMs = Math.min(MAX_SLEEP_MS, Math.max(0, nextDueMs - this.#sim.clock.now()));
      this.#timer = setTimeout(() => this.#kick(), delayMs);
    }
  }

  async #change(what: string, eni: AttachedNow, run: () => Promise<string | void>): Promise<boolean> {
    try {
      const name = await run();
      this.#log.info(`ENI link ${what}ged`, {
        mac: eni.mac,
        deviceIndex: eni.deviceIndex,
        ifName: name ?? null,
      });
      return true;
    } catch (error) {
      this.#failures++;
      this.#log.error(`cannot ${what} an ENI link`, {
        mac: eni.mac,
        deviceIndex: eni.deviceIndex,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
  }
}

/** The router of a subnet: its first address. */
export function routerOf(cidr: string): string {
  const subnet = parseCidr(cidr);
  return `${formatIpv4(subnet.base + 1)}/${subnet.bits}`;
}
