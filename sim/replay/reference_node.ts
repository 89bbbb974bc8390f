/**
 * A faithful model of the reference's ipamd on one replay node (its `ipamd.go` pool loop),
 * sharing our datastore and the simulated account but none of our policy: start-up
 * (DescribeAllENIs, setupENI, one pre-scaling increase, then ready), the 5 s loop
 * (sleep 2.5 s, `updateIPPoolIfRequired`, sleep 2.5 s) with at most one increase
 * action, one decrease pass (30 s apart) and one ENI freed per cycle, cooling
 * addresses counted as available, random (seeded) choices where the reference walks
 * Go maps, and ADDs that fail at once when nothing is assignable.
 *
 * @module
 */
import { cidrContains, formatIpv4, parseCidr, parseIpv4 } from "../../shared/mod.ts";
import { type LaunchInstanceResult, SeededRandom } from "../ec2/mod.ts";
import { CloudError } from "../../ipamd/cloud/mod.ts";
import { Datastore, type InstanceLimits, type PoolSettings } from "../../ipamd/pool/mod.ts";
import { countingView, newTally, type ReplayAccount, type TimingModel } from "./account.ts";
import { ReferenceEc2 } from "./reference_ec2.ts";
import { type RefEni, ReferencePolicy, type RefStats } from "./reference_policy.ts";
import type { AddOutcome, AddressCounts, PodRef, ReplayNode } from "./replay_node.ts";
import type { Scheduler } from "./scheduler.ts";

/** How the reference node is set up. */
export interface ReferenceNodeOptions {
  readonly name: string;
  readonly account: ReplayAccount;
  readonly instance: LaunchInstanceResult;
  readonly scheduler: Scheduler;
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  readonly timing: TimingModel;
  readonly seed: number;
}

/** One pool action the model took, for tests and logs. */
export interface RefAction {
  readonly atMs: number;
  readonly kind: "assign" | "create-eni" | "release" | "free-eni";
  readonly ok: boolean;
}

const CYCLE_HALF_MS = 2_500;
const INSUFFICIENT_CIDR_COOLDOWN_MS = 120_000;
const RECONCILE_READD_MS = 60_000;

/** The reference's ipamd on one node. */
export class ReferenceNode implements ReplayNode {
  readonly name: string;
  readonly tally = newTally();
  readonly datastore: Datastore;
  readonly policy: ReferencePolicy;
  readonly actions: RefAction[] = [];
  readonly #o: ReferenceNodeOptions;
  readonly #ec2: ReferenceEc2;
  readonly #random: SeededRandom;
  #lastDecreaseAtMs = -Infinity;
  #noIncreaseUntilMs = -Infinity;
  /** Set while the last increase attempt failed because EC2 throttled it. */
  #throttled = false;
  /** Starts of aws-node that failed on a cloud error (kubelet restarted it). */
  startFailures = 0;

  constructor(options: ReferenceNodeOptions) {
    this.#o = options;
    this.name = options.name;
    this.datastore = new Datastore({ cooldownMs: options.settings.ipCooldownMs });
    this.policy = new ReferencePolicy(options.limits, options.settings);
    this.#random = new SeededRandom(options.seed, `reference/${options.name}`);
    this.#ec2 = new ReferenceEc2({
      sim: countingView(options.account.sim, this.tally),
      instanceId: options.instance.instanceId,
      subnetId: options.account.subnetId,
      scheduler: options.scheduler,
      random: this.#random,
      timing: options.timing,
    });
  }

  start(onReady: () => void): void {
    const { scheduler } = this.#o;
    scheduler.spawn(async () => {
      for (let restarts = 0;; restarts++) {
        try {
          await this.#nodeInit();
          break;
        } catch (error) {
          if (!(error instanceof CloudError)) throw error;
          this.startFailures++;
          // aws-node exits and kubelet restarts it: CrashLoopBackOff, 10 s doubling to 5 min.
          await scheduler.sleep(Math.min(10_000 * 2 ** restarts, 300_000));
        }
      }
      await this.#increase();
      scheduler.at(scheduler.now(), onReady);
      for (;;) {
        await scheduler.sleep(CYCLE_HALF_MS);
        await this.#updatePool();
        await scheduler.sleep(CYCLE_HALF_MS);
      }
    });
  }

  /** `AssignPodIPv4Address`: a random ENI, a random CIDR on it, its lowest usable address; else fail. */
  add(pod: PodRef, done: (outcome: AddOutcome) => void): void {
    const nowMs = this.#o.scheduler.now();
    const held = this.datastore.get(pod.key);
    if (held !== null) return done({ ok: true, ip: held.ip });
    const snapshot = this.datastore.snapshot(nowMs, { waitingAdds: 0, lastDecreaseAtMs: null });
    for (const eni of this.#shuffle(snapshot.enis)) {
      for (const cidr of this.#shuffle(eni.cidrs.filter((c) => c.prefix === this.policy.pd))) {
        const offset = cidr.addresses.findIndex((a) => a.kind === "free");
        if (offset < 0) continue;
        const ip = parseIpv4(cidr.cidr.split("/")[0]!) + offset;
        const record = {
          key: pod.key,
          meta: { podNamespace: "default", podName: pod.key.containerId },
          ip: formatIpv4(ip),
          assignedAtMs: nowMs,
        };
        const [kept] = this.datastore.restore([record], nowMs).kept;
        if (kept !== undefined) return done({ ok: true, ip: kept.ip });
      }
    }
    const why = this.#throttled ? " (last increase throttled)" : "";
    done({ ok: false, reason: `no available IP/Prefix addresses${why}` });
  }

  del(pod: PodRef): void {
    this.datastore.release(pod.key, this.#o.scheduler.now());
  }

  counts(nowMs: number): AddressCounts {
    const { total, assigned, cooling } = this.datastore.stats(nowMs);
    return { total, assigned, cooling };
  }

  /** `nodeInit`: the attached ENIs from IMDS and `DescribeAllENIs`, each through `setupENI`. */
  async #nodeInit(): Promise<void> {
    const { scheduler, instance, account } = this.#o;
    for (const eniId of this.datastore.enis().map((eni) => eni.eniId)) this.datastore.removeEni(eniId);
    for (const view of await this.#ec2.describeEnis([instance.networkInterfaceId])) {
      this.datastore.addEni({
        eniId: view.networkInterfaceId,
        deviceNumber: view.attachment?.deviceIndex ?? 0,
        primary: (view.attachment?.deviceIndex ?? 0) === 0,
        createdAtMs: scheduler.now(),
        mac: view.macAddress,
        primaryIp: view.privateIpAddress,
        subnetCidr: account.subnetCidr,
      });
      this.datastore.addCidrs(view.networkInterfaceId, [
        ...view.privateIpAddresses.filter((ip) => !ip.primary).map((ip) => `${ip.privateIpAddress}/32`),
        ...view.ipv4Prefixes.map((prefix) => prefix.ipv4Prefix),
      ]);
      await this.#ec2.checkSubnet();
    }
  }

  /** `updateIPPoolIfRequired`: one increase, or one decrease pass; then at most one ENI freed. */
  async #updatePool(): Promise<void> {
    const startMs = this.#o.scheduler.now();
    const { enis, stats } = this.#view();
    let decreased = false;
    if (this.policy.isLow(stats)) {
      await this.#increase();
    } else if (
      this.policy.isHigh(stats) && startMs - this.#lastDecreaseAtMs >= this.#o.settings.decreaseIntervalMs
    ) {
      await this.#decrease(this.policy.overCount(stats));
      decreased = true;
    }
    if (this.policy.shouldRemoveExtraEnis(stats, enis)) await this.#tryFreeEni();
    if (decreased) this.#lastDecreaseAtMs = this.#o.scheduler.now();
  }

  /** `increaseDatastorePool`: one Assign on a random ENI with room; if nothing was added, one new ENI. */
  async #increase(): Promise<void> {
    const { scheduler } = this.#o;
    if (scheduler.now() < this.#noIncreaseUntilMs) return;
    const { enis, stats } = this.#view();
    const { unitsPerEni, pd } = this.policy;
    const count = this.policy.assignCount(stats);
    const target = this.#shuffle(enis.filter((eni) => eni.cidrs.length < unitsPerEni))[0];
    if (count > 0 && target !== undefined) {
      try {
        const cidrs = await this.#ec2.assign(
          target.eniId,
          Math.min(unitsPerEni - target.cidrs.length, count),
          pd,
        );
        if (this.datastore.getEni(target.eniId) !== null) this.datastore.addCidrs(target.eniId, cidrs);
        this.#record("assign", true);
        return;
      } catch (error) {
        this.#record("assign", false, error);
        // With subnet discovery (the reference's default) an ENI whose subnet is full leads to a new ENI too.
        this.#insufficient(error);
      }
    }
    if (enis.length >= this.policy.maxEni) return;
    const size = this.policy.eniCount(stats);
    if (size <= 0) return;
    try {
      const eni = await this.#ec2.allocEni(size, pd);
      await this.#ec2.checkSubnet();
      this.datastore.addEni({
        ...eni,
        primary: false,
        createdAtMs: scheduler.now(),
        subnetCidr: this.#o.account.subnetCidr,
      });
      this.datastore.addCidrs(eni.eniId, eni.cidrs);
      this.#record("create-eni", true);
    } catch (error) {
      this.#record("create-eni", false, error);
      this.#insufficient(error);
    }
  }

  /** `tryUnassignCidrsFromAll`: up to `over` CIDRs with no assigned address (cooling ones too), one call per ENI. */
  async #decrease(over: number): Promise<void> {
    const { scheduler } = this.#o;
    let left = over;
    for (const eni of this.#shuffle(this.#view().enis)) {
      if (left <= 0) break;
      const free = this.#shuffle(eni.cidrs.filter((cidr) => cidr.assigned === 0)).slice(0, left);
      if (free.length === 0) continue;
      const cidrs = free.map((cidr) => cidr.cidr);
      this.#uncool(cidrs);
      const taken = this.datastore.takeForRelease(eni.eniId, cidrs, scheduler.now());
      left -= taken.length;
      try {
        await this.#ec2.unassign(eni.eniId, taken, this.policy.pd);
        this.#record("release", true);
      } catch {
        this.#record("release", false);
        // Still on the ENI in EC2: the reference's reconcile adds them back after its 60 s cooldown.
        scheduler.at(scheduler.now() + RECONCILE_READD_MS, () => {
          if (this.datastore.getEni(eni.eniId) !== null) this.datastore.addCidrs(eni.eniId, taken);
        });
      }
    }
  }

  /** `tryFreeENI`: the first deletable ENI in map order, out of the datastore, then `FreeENI`. */
  async #tryFreeEni(): Promise<void> {
    const nowMs = this.#o.scheduler.now();
    const { enis } = this.#view();
    const eni = this.policy.deletableEni(this.#shuffle(enis), enis, nowMs);
    if (eni === null || !this.datastore.takeEniForFree(eni.eniId, nowMs)) return;
    try {
      await this.#ec2.freeEni(eni.eniId);
      this.#record("free-eni", true);
    } catch {
      this.#record("free-eni", false);
    }
  }

  #view(): { enis: RefEni[]; stats: RefStats } {
    const nowMs = this.#o.scheduler.now();
    const snapshot = this.datastore.snapshot(nowMs, { waitingAdds: 0, lastDecreaseAtMs: null });
    const enis = this.policy.enisOf(snapshot, nowMs);
    return { enis, stats: this.policy.stats(enis) };
  }

  /** Ends the pod cooldown of addresses in `cidrs` (the reference releases them regardless). */
  #uncool(cidrs: readonly string[]): void {
    const nowMs = this.#o.scheduler.now();
    const blocks = cidrs.map((cidr) => parseCidr(cidr));
    for (const entry of this.datastore.coolingEntries(nowMs)) {
      const ip = parseIpv4(entry.ip);
      if (!blocks.some((block) => cidrContains(block, ip))) continue;
      const key = { networkName: "reference-release", containerId: entry.ip, ifName: "none" };
      const meta = { podNamespace: "", podName: "" };
      this.datastore.restore([{ key, meta, ip: entry.ip, assignedAtMs: nowMs }], nowMs);
      this.datastore.rollback(key);
    }
  }

  #insufficient(error: unknown): boolean {
    if (!(error instanceof CloudError && (error.kind === "subnet-full" || error.kind === "no-cidr-blocks"))) {
      return false;
    }
    this.#noIncreaseUntilMs = this.#o.scheduler.now() + INSUFFICIENT_CIDR_COOLDOWN_MS;
    return true;
  }

  #record(kind: RefAction["kind"], ok: boolean, error?: unknown): void {
    if (kind === "assign" || kind === "create-eni") {
      this.#throttled = !ok && error instanceof CloudError && error.kind === "throttled";
    }
    this.actions.push({ atMs: this.#o.scheduler.now(), kind, ok });
  }

  /** A seeded Fisher-Yates shuffle: the reference's Go map order. */
  #shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
