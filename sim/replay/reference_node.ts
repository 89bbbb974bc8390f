/**
 * A faithful model of the reference's ipamd on one replay node (its `ipamd.go` pool loop),
 * sharing our datastore and the simulated account but none of our policy: start-up
 * (`nodeInit`: DescribeAllENIs, TagENI, setupENI, then `handlePreScaling`'s one
 * increase; a failure of any makes kubelet restart aws-node), the 5 s loop (sleep 2.5 s,
 * `updateIPPoolIfRequired`, sleep 2.5 s) with at most one increase action, one
 * decrease pass (30 s apart) and one ENI freed per cycle, cooling addresses counted
 * as available, random (seeded) choices where the reference walks Go maps, and ADDs
 * that fail at once when nothing is assignable. A failed ADD says what happened in
 * our pool's vocabulary (ENI limit, max pods, throttled, still warming).
 *
 * @module
 */
import { cidrContains, formatIpv4, parseCidr, parseIpv4 } from "../../shared/mod.ts";
import { type LaunchInstanceResult, type NetworkInterfaceView, SeededRandom } from "../ec2/mod.ts";
import { CloudError } from "../../ipamd/cloud/mod.ts";
import {
  Datastore,
  type GrowthBlockReason,
  type InstanceLimits,
  type PoolSettings,
} from "../../ipamd/pool/mod.ts";
import { countingView, newTally, type ReplayAccount, type TimingModel } from "./account.ts";
import { ReferenceEc2, type RefNewEni } from "./reference_ec2.ts";
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
/** `maxRetryCheckENI` and `eniAttachTime`: nodeInit's setupENI tries, 10 s apart. */
const SETUP_ENI_TRIES = 6;
const SETUP_ENI_RETRY_MS = 10_000;

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
          // `handlePreScaling`: an increase whose Assign failed fails nodeInit (ipamd.go).
          if (this.policy.isLow(this.#view().stats)) await this.#increase();
          break;
        } catch (error) {
          if (!(error instanceof CloudError)) throw error;
          this.startFailures++;
          // aws-node exits and kubelet restarts it: CrashLoopBackOff, 10 s doubling to 5 min.
          await scheduler.sleep(Math.min(10_000 * 2 ** restarts, 300_000));
        }
      }
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
    // The reference says "no available IP/Prefix addresses"; this says why.
    done({ ok: false, reason: this.#whyNoAddress() });
  }

  /** Why an ADD found nothing: a limit, the last increase throttled, or the pool not grown yet. */
  #whyNoAddress(): GrowthBlockReason {
    const { enis, stats } = this.#view();
    if (stats.total >= this.#o.limits.maxPods) return "max-pods";
    const full = enis.length >= this.policy.maxEni &&
      enis.every((eni) => eni.cidrs.length >= this.policy.unitsPerEni);
    if (full) return "max-enis";
    return this.#throttled ? "throttled" : "still-warming";
  }

  del(pod: PodRef): void {
    this.datastore.release(pod.key, this.#o.scheduler.now());
  }

  counts(nowMs: number): AddressCounts {
    const { total, assigned, cooling } = this.datastore.stats(nowMs);
    return { total, assigned, cooling };
  }

  /**
   * `nodeInit`: the attached ENIs from IMDS and `DescribeAllENIs`; for each, `TagENI`
   * (CreateTags for the tags it lacks; a failure fails nodeInit) and `setupENI`,
   * tried up to 6 times 10 s apart (`maxRetryCheckENI`, `eniAttachTime`).
   */
  async #nodeInit(): Promise<void> {
    const { scheduler, instance } = this.#o;
    for (const eniId of this.datastore.enis().map((eni) => eni.eniId)) this.datastore.removeEni(eniId);
    for (const view of await this.#ec2.describeEnis([instance.networkInterfaceId])) {
      await this.#ec2.tagEni(view.networkInterfaceId, view.tagSet);
      const eni = {
        eniId: view.networkInterfaceId,
        deviceNumber: view.attachment?.deviceIndex ?? 0,
        mac: view.macAddress,
        primaryIp: view.privateIpAddress,
        cidrs: cidrsOf(view),
      };
      for (let tries = 1;; tries++) {
        if (await this.#setupEni(eni, eni.deviceNumber === 0)) break;
        if (tries >= SETUP_ENI_TRIES) {
          this.#reconcileLater(eni.eniId, eni.cidrs);
          break;
        }
        await scheduler.sleep(SETUP_ENI_RETRY_MS);
      }
    }
  }

  /**
   * `setupENI`: the ENI joins the datastore first (`AddENI`), then the subnet check
   * (`IsSubnetExcluded`, one DescribeSubnets), then its addresses. False when the
   * check failed: the ENI stays in the datastore without its addresses.
   */
  async #setupEni(eni: RefNewEni, primary: boolean): Promise<boolean> {
    const { scheduler, account } = this.#o;
    if (this.datastore.getEni(eni.eniId) === null) {
      this.datastore.addEni({
        eniId: eni.eniId,
        deviceNumber: eni.deviceNumber,
        primary,
        createdAtMs: scheduler.now(),
        mac: eni.mac,
        primaryIp: eni.primaryIp,
        subnetCidr: account.subnetCidr,
      });
    }
    try {
      await this.#ec2.checkSubnet();
    } catch (error) {
      if (error instanceof CloudError) return false;
      throw error;
    }
    this.datastore.addCidrs(eni.eniId, eni.cidrs);
    return true;
  }

  /**
   * `nodeIPPoolReconcile`: IMDS lists addresses the datastore lacks, so one
   * DescribeNetworkInterfaces confirms them and they join; it runs once no pool
   * action happened for 60 s, checked every cycle.
   */
  #reconcileLater(eniId: string, cidrs: readonly string[]): void {
    const { scheduler } = this.#o;
    scheduler.spawn(async () => {
      await scheduler.sleep(RECONCILE_READD_MS);
      for (;;) {
        if (this.datastore.getEni(eniId) === null) return;
        try {
          await this.#ec2.describeEnis([eniId], { tries: 1 });
          this.datastore.addCidrs(eniId, cidrs);
          return;
        } catch (error) {
          if (!(error instanceof CloudError)) throw error;
        }
        await scheduler.sleep(2 * CYCLE_HALF_MS);
      }
    });
  }

  /** `updateIPPoolIfRequired`: one increase, or one decrease pass; then at most one ENI freed. */
  async #updatePool(): Promise<void> {
    const startMs = this.#o.scheduler.now();
    const { enis, stats } = this.#view();
    let decreased = false;
    if (this.policy.isLow(stats)) {
      await this.#increase().catch((error) => {
        if (!(error instanceof CloudError)) throw error; // logged by the reference; the next cycle tries again
      });
    } else if (
      this.policy.isHigh(stats) && startMs - this.#lastDecreaseAtMs >= this.#o.settings.decreaseIntervalMs
    ) {
      await this.#decrease(this.policy.overCount(stats));
      decreased = true;
    }
    if (this.policy.shouldRemoveExtraEnis(stats, enis)) await this.#tryFreeEni();
    if (decreased) this.#lastDecreaseAtMs = this.#o.scheduler.now();
  }

  /**
   * `increaseDatastorePool`: `tryAssignCidrs` walks the ENIs with room in map order
   * and makes one Assign on the first; an Assign that failed (after the SDK's
   * retries and one more asking for 1) ends the increase with its error, which only
   * pre-scaling passes on (ipamd.go, `tryAssignIPs`/`tryAssignPrefixes`); an
   * insufficient-address failure moves on to the next ENI (subnet discovery is on).
   * If nothing was added, one new ENI; its failure is logged and swallowed.
   */
  async #increase(): Promise<void> {
    const { scheduler } = this.#o;
    if (scheduler.now() < this.#noIncreaseUntilMs) return;
    const { enis, stats } = this.#view();
    const { unitsPerEni, pd } = this.policy;
    const count = this.policy.assignCount(stats);
    if (count > 0) {
      for (const target of this.#shuffle(enis.filter((eni) => eni.cidrs.length < unitsPerEni))) {
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
          if (error instanceof CloudError && error.kind === "ip-limit") {
            // "the data store is out of sync": GetIPv4sFromEC2 and take what EC2 says the ENI holds.
            const [view] = await this.#ec2.describeEnis([target.eniId], { tries: 1 });
            if (view !== undefined && this.datastore.getEni(target.eniId) !== null) {
              this.datastore.addFitting(target.eniId, cidrsOf(view));
            }
            this.#record("assign", true);
            return;
          }
          this.#record("assign", false, error);
          if (!insufficient(error)) throw error;
        }
      }
    }
    if (enis.length >= this.policy.maxEni) return;
    const size = this.policy.eniCount(stats);
    if (size <= 0) return;
    try {
      const eni = await this.#ec2.allocEni(size, pd);
      this.#record("create-eni", true);
      if (!await this.#setupEni(eni, false)) this.#reconcileLater(eni.eniId, eni.cidrs);
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

  /** An insufficient-address failure starts the 120 s pause of increases. */
  #insufficient(error: unknown): void {
    if (insufficient(error)) {
      this.#noIncreaseUntilMs = this.#o.scheduler.now() + INSUFFICIENT_CIDR_COOLDOWN_MS;
    }
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

function insufficient(error: unknown): boolean {
  return error instanceof CloudError && (error.kind === "subnet-full" || error.kind === "no-cidr-blocks");
}

/** An ENI's secondary IPs (as /32s) and prefixes, as EC2 describes them. */
function cidrsOf(view: NetworkInterfaceView): string[] {
  return [
    ...view.privateIpAddresses.filter((ip) => !ip.primary).map((ip) => `${ip.privateIpAddress}/32`),
    ...view.ipv4Prefixes.map((prefix) => prefix.ipv4Prefix),
  ];
}
