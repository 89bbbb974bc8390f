/**
 * ipamd assembled: datastore restored from the checkpoint and reconciled with the
 * ENIs found on the node, the reconciler loop, and the RPC server. `stop()` is the
 * orderly shutdown: no more ENI changes, in-flight RPCs finish, the checkpoint is
 * written and the socket removed.
 *
 * @module
 */
import { type Clock, drainReleaseQueue, errorText, type Logger, releaseQueuePath } from "../shared/mod.ts";
import {
  AWS_NODE_HEALTH_SERVICE,
  clearStaleSocket,
  HealthStatus,
  IpamBackend,
  RpcError,
  type RpcServer,
  ServingStatus,
  startRpcServer,
} from "./rpc/mod.ts";
import type { Ec2Port } from "./cloud/mod.ts";
import type { IpamdConfig } from "./config/mod.ts";
import {
  type AddressQueue,
  checkpointFromDatastore,
  CheckpointJournal,
  type CheckpointStore,
  Datastore,
  type InstanceLimits,
  Reconciler,
  restoreFromCheckpoint,
} from "./pool/mod.ts";
import { discoverManagedEnis, type NodeLifecycle, type NodeNetwork } from "./node/mod.ts";
import { type BudgetWaits, DaemonOps, MeteredAddressQueue } from "./ops/mod.ts";
import { Status } from "../shared/rpc/mod.ts";

/** The ports a daemon runs on. */
export interface DaemonDeps {
  readonly ec2: Ec2Port;
  readonly limits: InstanceLimits;
  readonly checkpoint: CheckpointStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** Host networking (per-ENI tables and rules, SNAT); none leaves the host alone. */
  readonly network?: NodeNetwork;
  /** Time EC2 calls waited for the adapter's request budget, for the metrics. */
  readonly budget?: BudgetWaits;
  /** Reconciliation with IMDS and EC2 and leaked-ENI cleanup, in the background. */
  readonly node?: NodeLifecycle;
  /** Growth pause after a full subnet (default: the reconciler's, 120 s as the reference). */
  readonly subnetFullHoldMs?: number;
}

/** A running daemon. */
export interface Daemon {
  readonly datastore: Datastore;
  readonly reconciler: Reconciler;
  readonly queue: AddressQueue;
  readonly server: RpcServer;
  readonly journal: CheckpointJournal;
  /** Metrics, introspection and recent cloud failures. */
  readonly ops: DaemonOps;
  /** Orderly shutdown; waits up to `graceMs` for RPCs in flight. Safe to call twice. */
  stop(graceMs: number): Promise<void>;
}

/** How often host networking is re-applied, in case another tool flushed it. */
const NETWORK_REFRESH_MS = 60_000;

/** How often the running daemon looks for releases the plugin queued. */
const RELEASE_QUEUE_POLL_MS = 2_000;

/** The health service that says whether an ADD can be served (the plugin's STATUS). */
export const POOL_HEALTH_SERVICE = "aws-cni.pool";

/** Starts ipamd; resolves once the socket serves. */
export async function startDaemon(config: IpamdConfig, deps: DaemonDeps): Promise<Daemon> {
  const { limits, clock, log } = deps;
  // Another ipamd serving this socket owns the checkpoint and the release queue: refuse before touching them.
  await clearStaleSocket(config.socketPath);
  const ops = new DaemonOps(config, { limits, clock, log, budget: deps.budget });
  const ec2 = ops.meterEc2(deps.node?.track(deps.ec2) ?? deps.ec2);
  const datastore = new Datastore({ cooldownMs: config.pool.ipCooldownMs });
  for (const eni of await discoverManagedEnis(ec2, { log, clock })) {
    datastore.addEni({ ...eni, createdAtMs: clock.now() });
    datastore.addCidrs(eni.eniId, [...eni.cidrs]);
  }
  const saved = await deps.checkpoint.load();
  if (saved !== null) {
    const { kept, dropped } = restoreFromCheckpoint(datastore, saved, clock.now());
    for (const { allocation, reason } of dropped) {
      log.warn("dropped a checkpointed allocation", {
        containerId: allocation.key.containerId,
        ifName: allocation.key.ifName,
        ip: allocation.ip,
        reason,
      });
    }
    log.info("restored allocations from the checkpoint", { kept: kept.length, dropped: dropped.length });
  }
  const journal = new CheckpointJournal(
    deps.checkpoint,
    () => checkpointFromDatastore(datastore, clock.now()),
  );
  const queuePath = releaseQueuePath(config.socketPath);
  await drainReleaseQueue(queuePath, async (queued) => {
    for (const { request } of queued) {
      const key = {
        networkName: request.networkName || "aws-cni",
        containerId: request.containerId,
        ifName: request.ifName,
      };
      const released = datastore.release(key, clock.now());
      log.info("applied a release the plugin queued while ipamd was down", {
        containerId: key.containerId,
        ifName: key.ifName,
        ip: released?.ip ?? null,
      });
    }
    await journal.flush();
  }).catch((error) =>
    log.error("cannot apply queued releases now; retrying while serving", { error: errorText(error) })
  );
  await journal.flush();

  const health = new HealthStatus({
    "": ServingStatus.NOT_SERVING,
    [AWS_NODE_HEALTH_SERVICE]: ServingStatus.NOT_SERVING,
    [POOL_HEALTH_SERVICE]: ServingStatus.NOT_SERVING,
  });
  /** The pool serves when an address is free now or the pool can still grow. */
  const updatePoolHealth = () => {
    const free = datastore.stats(clock.now()).free > 0;
    const stuck = reconciler.hold !== null || (reconciler.last?.blocked ?? null) !== null;
    health.set(POOL_HEALTH_SERVICE, free || !stuck ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  };
  const reconciler: Reconciler = new Reconciler({
    datastore,
    ec2,
    limits,
    settings: config.pool,
    clock,
    log: log.with({ op: "reconcile" }),
    ...(deps.subnetFullHoldMs === undefined ? {} : { subnetFullHoldMs: deps.subnetFullHoldMs }),
    // The queue below is built before the first pass can call these.
    waitingAdds: () => queue.waiting,
    onAddresses: () => queue.serve(),
    onPass: (outcome) => {
      updatePoolHealth();
      ops.onPass(outcome);
    },
    ...(deps.network === undefined ? {} : {
      onEniCreated: (eni) => deps.network!.added(eni),
      onEniFreed: (eni) => deps.network!.removed(eni),
    }),
  });
  const queue: AddressQueue = new MeteredAddressQueue(ops.metrics, {
    datastore,
    clock,
    wake: () => reconciler.wake(true),
    block: () => reconciler.block,
  });
  const backend = new IpamBackend({
    datastore,
    queue,
    journal,
    clock,
    log: log.with({ op: "rpc" }),
    addWaitMs: config.addWaitTimeoutMs,
    changed: () => {
      updatePoolHealth();
      reconciler.wake();
    },
    useExternalSnat: config.externalSnat,
  });
  await deps.network?.refresh(datastore.enis());
  const server = await startRpcServer({
    socketPath: config.socketPath,
    backend: ops.meterBackend(backend),
    health,
    onInternalError: (error) => log.error("RPC failed", { error: errorText(error) }),
  });
  // A plugin that found the socket not yet serving (or ipamd too slow) queued its release after the drain above.
  const releases = drainQueueEvery(queuePath, RELEASE_QUEUE_POLL_MS, { backend, log });
  const refresher = deps.network === undefined
    ? undefined
    : setInterval(() => void deps.network!.refresh(datastore.enis()), NETWORK_REFRESH_MS);
  const abort = new AbortController();
  const loop = reconciler.run(abort.signal, config.reconcileIntervalMs).catch((error) => {
    log.error("reconciler stopped", { error: errorText(error) });
  });
  ops.serve({ datastore, reconciler, queue });
  deps.node?.start({
    datastore,
    changed: () => {
      updatePoolHealth();
      reconciler.wake();
    },
    ...(deps.network === undefined ? {} : {
      onEniAdded: (eni) => deps.network!.added(eni),
      onEniRemoved: (eni) => deps.network!.removed(eni),
    }),
  });
  health.set("", ServingStatus.SERVING);
  health.set(AWS_NODE_HEALTH_SERVICE, ServingStatus.SERVING);
  updatePoolHealth();
  log.info("ipamd serving", { socket: config.socketPath, maxEnis: limits.maxEnis, maxPods: limits.maxPods });

  let stopping: Promise<void> | null = null;
  const stop = (graceMs: number) =>
    stopping ??= (async () => {
      health.setAll(ServingStatus.NOT_SERVING);
      abort.abort();
      clearInterval(refresher);
      await releases.stop();
      await deps.node?.stop();
      await loop;
      await server.close(graceMs);
      await ops.close();
      await journal.flush();
      log.info("ipamd stopped");
    })();
  return { datastore, reconciler, queue, server, journal, ops, stop };
}

/** Drains the release queue through the backend every `intervalMs`, one drain at a time, until `stop()`. */
function drainQueueEvery(
  path: string,
  intervalMs: number,
  options: { backend: IpamBackend; log: Logger },
): { stop(): Promise<void> } {
  const { backend, log } = options;
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  const drain = async () => {
    const applied = await drainReleaseQueue(path, async (queued) => {
      for (const { request } of queued) {
        await backend.delNetwork(request).catch((error) => {
          // A line without a container ID or interface can never apply; anything else is retried.
          if (!(error instanceof RpcError && error.code === Status.INVALID_ARGUMENT)) throw error;
          log.warn("dropped an invalid queued release", { error: errorText(error) });
        });
      }
    });
    if (applied.length > 0) log.info("applied releases the plugin queued", { count: applied.length });
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = drain().catch((error) => log.error("cannot apply queued releases", { error: errorText(error) }))
      .finally(() => busy = false);
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
