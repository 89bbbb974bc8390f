/**
 * Our daemon on one replay node, paying what it pays on a real node: the daemon's
 * own `Pool` (datastore, policy, reconciler loop, waiting-ADD queue) over the real
 * EC2 adapter (`SdkEc2Port`: device index from IMDS, kept ENIs, the IMDS wait for
 * a new ENI) whose requests go through the node's own request budget (client-side
 * buckets, full-jitter retries of throttled calls) to the shared account; IMDS lags
 * the account as the timing model says. Start-up is the daemon's: the subnet and
 * the node's ENIs from IMDS (EC2 only for secondary ENIs), retried with back-off,
 * never a restart; node reconciliation runs every 60 s. Everything waits on the
 * replay's scheduler.
 *
 * @module
 */
import { RateBudget, SdkEc2Port } from "../../ipamd/cloud/mod.ts";
import {
  discoverManagedEnis,
  NodeReconciler,
  RecentChanges,
  retryStartup,
  subnetOf,
  TrackedEc2Port,
} from "../../ipamd/node/mod.ts";
import { type InstanceLimits, NoAddressError, Pool, type PoolSettings } from "../../ipamd/pool/mod.ts";
import { createLogger, silentLogger, type Timers } from "../../shared/mod.ts";
import { SeededRandom } from "../ec2/mod.ts";
import { countingView, newTally, type ReplayAccount, type TimingModel } from "./account.ts";
import type { AddOutcome, AddressCounts, PodRef, ReplayNode } from "./replay_node.ts";
import type { Scheduler } from "./scheduler.ts";
import { SimImds } from "./sim_imds.ts";
import { SimEc2Requests } from "./sim_requests.ts";
import { ourPlacement, PlacedSimRequests, replaySubnetId } from "./subnets.ts";
import type { EniPlacement } from "../../ipamd/node/mod.ts";

/** How a new ENI is awaited: in IMDS (the daemon's way), or until its link shows on the node. */
export type AttachWait = "imds" | "link";

/** How our node is set up. */
export interface OurNodeOptions {
  readonly name: string;
  readonly account: ReplayAccount;
  readonly instanceId: string;
  readonly instanceType: string;
  readonly scheduler: Scheduler;
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  readonly timing: TimingModel;
  readonly seed: number;
  /** How long an ADD waits in ipamd for an address (ADD_WAIT_TIMEOUT, default 60 s). */
  readonly addWaitMs?: number;
  /** The pool loop's interval (POOL_RECONCILE_INTERVAL, default 5 s). */
  readonly intervalMs?: number;
  /** Default "imds". */
  readonly attachWait?: AttachWait;
}

/** Between node reconciliations (NODE_RECONCILE_INTERVAL's default). */
const NODE_RECONCILE_MS = 60_000;

/** The scheduler as the daemon's timers. */
function schedulerTimers(scheduler: Scheduler): Timers {
  return {
    nap: (ms) => scheduler.nap(ms),
    after: (ms, fn) => {
      const timer = scheduler.at(scheduler.now() + ms, fn);
      return () => timer.cancel();
    },
    settleAll: (works) => scheduler.settleAll(works),
  };
}

/** Our daemon on one node. */
export class OurNode implements ReplayNode {
  readonly name: string;
  readonly tally = newTally();
  readonly pool: Pool;
  readonly port: SdkEc2Port;
  readonly budget: RateBudget;
  /** Our daemon never exits on a cloud error at start: it retries (see `startRetries`). */
  readonly startFailures = 0;
  /** Start-up steps tried again after a throttled or unavailable cloud. */
  startRetries = 0;
  readonly #o: OurNodeOptions;
  readonly #imds: SimImds;
  readonly #requests: SimEc2Requests;
  readonly #changes: RecentChanges;
  readonly #random: () => number;
  readonly #placement: Promise<EniPlacement>;
  #placed: EniPlacement | null = null;

  constructor(options: OurNodeOptions) {
    this.#o = options;
    this.name = options.name;
    const { scheduler, settings, limits, account } = options;
    const clock = scheduler.clock;
    const sleep = (ms: number) => scheduler.sleep(ms);
    const random = new SeededRandom(options.seed, `aws-cni/${options.name}`);
    this.#random = () => random.next();
    const sim = countingView(account.sim, this.tally);
    this.budget = new RateBudget({ clock, sleep, random: this.#random });
    const requests = new PlacedSimRequests(sim, { budget: this.budget, sleep, state: account.state });
    this.#requests = requests;
    this.#imds = new SimImds({
      state: account.state,
      clock,
      vpcId: account.sim.vpcId,
      instanceId: options.instanceId,
      instanceType: options.instanceType,
      vpcCidr: account.vpcCidr,
      seed: options.seed,
      lag: options.attachWait === "link" ? "link" : options.timing.imdsLag,
    });
    this.port = new SdkEc2Port(this.#requests, this.#imds, {
      node: {
        instanceId: options.instanceId,
        subnetId: account.subnetId,
        subnetCidr: account.subnetCidr,
        securityGroupIds: account.securityGroupIds,
      },
      clock,
      sleep,
      random: this.#random,
    });
    // The daemon's placement: subnet discovery for new ENIs, the subnets' free addresses for the targets.
    const primary = account.instances.find((instance) => instance.instanceId === options.instanceId)!;
    const eni = { eniId: primary.networkInterfaceId, mac: primary.macAddress, settings };
    this.#placement = requests.placement = ourPlacement(requests, {
      vpcId: account.sim.vpcId,
      securityGroupIds: account.securityGroupIds,
    }, eni);
    this.#placement.then((placement) => this.#placed = placement);
    const idOf = new Map(account.subnets.map((subnet, i) => [subnet.cidr, replaySubnetId(i)]));
    const room = {
      total: () => this.#placed?.total ?? Infinity,
      free: (eniId: string | null) => {
        const cidr = eniId === null ? null : this.pool.datastore.getEni(eniId)?.subnetCidr ?? "";
        return this.#placed?.free(cidr === null ? null : idOf.get(cidr) ?? "?") ?? Infinity;
      },
    };
    this.#changes = new RecentChanges(clock);
    this.pool = new Pool({
      room,
      ec2: new TrackedEc2Port(this.port, this.#changes),
      limits,
      settings,
      clock,
      timers: schedulerTimers(scheduler),
      pressure: this.budget,
      random: this.#random,
    });
  }

  /** The daemon's look at the subnets and the primary ENI's groups: at start, then every 30 s. */
  async #refreshSubnets(): Promise<void> {
    const placement = await this.#placement;
    for (;;) {
      try {
        await placement.refresh([], () => Promise.resolve(), this.#o.settings.subnetAware);
      } catch {
        // Throttled: the next run tries again.
      }
      await this.#o.scheduler.sleep(30_000);
    }
  }

  start(onReady: () => void): void {
    const { scheduler } = this.#o;
    const clock = scheduler.clock;
    const retry = {
      log: createLogger(() => void this.startRetries++, { level: "warn" }),
      clock,
      sleep: (ms: number) => scheduler.sleep(ms),
      random: this.#random,
    };
    scheduler.spawn(async () => {
      const instance = await this.#imds.instance();
      const primary = await this.#imds.eni(instance.primaryMac);
      if (primary === null) throw new RangeError(`IMDS does not list the primary ENI of "${this.name}"`);
      await retryStartup(
        "describe the node's subnet",
        () => subnetOf(primary, this.#requests, silentLogger),
        retry,
      );
      this.pool.adopt(await discoverManagedEnis(new TrackedEc2Port(this.port, this.#changes), retry));
      scheduler.at(scheduler.now(), onReady);
      scheduler.spawn(() => this.#refreshSubnets());
      await this.pool.run(this.#o.intervalMs ?? 5_000).done;
    });
    scheduler.spawn(async () => {
      const reconciler = new NodeReconciler({
        imds: this.#imds,
        directory: this.#requests,
        datastore: this.pool.datastore,
        changes: this.#changes,
        instanceId: this.#o.instanceId,
        clock,
        log: silentLogger,
        changed: () => this.pool.changed(),
      });
      for (;;) {
        await scheduler.sleep(NODE_RECONCILE_MS);
        await reconciler.pass().catch(() => {});
      }
    });
  }

  add(pod: PodRef, done: (outcome: AddOutcome) => void): void {
    const meta = { podNamespace: "default", podName: pod.key.containerId };
    this.pool.acquire(pod.key, meta, this.#o.addWaitMs ?? 60_000).then(
      (allocation) => {
        this.pool.changed();
        done({ ok: true, ip: allocation.ip });
      },
      (error) =>
        done({ ok: false, reason: error instanceof NoAddressError ? error.reason : "still-warming" }),
    );
  }

  del(pod: PodRef): void {
    if (this.pool.release(pod.key) !== null) this.pool.changed();
  }

  counts(nowMs: number): AddressCounts {
    const { total, assigned, cooling } = this.pool.datastore.stats(nowMs);
    return { total, assigned, cooling };
  }
}
