/**
 * ipamd assembled from its parts, and nothing else: the socket claimed, the pool
 * with the node's ENIs and the checkpoint, the queued releases, host networking,
 * the RPC server, the reconciler loop, the node's background jobs and the health
 * the plugin's STATUS reads. Every part is disposable and joins one stack, so a
 * start that fails midway releases what it had started, and disposing the daemon
 * is the orderly shutdown: health says NOT_SERVING, no more ENI changes, the socket
 * stops taking calls (its file goes) while those in flight finish, then the
 * checkpoint is written.
 *
 * @module
 */
import {
  type Clock,
  errorText,
  type Logger,
  realTimers,
  releaseQueuePath,
  type Timers,
} from "../shared/mod.ts";
import {
  claimSocket,
  DaemonHealth,
  IpamBackend,
  QueuedReleases,
  type RpcServer,
  startRpcServer,
} from "./rpc/mod.ts";
import type { AccountPressure, Ec2Port } from "./cloud/mod.ts";
import type { IpamdConfig } from "./config/mod.ts";
import {
  type CheckpointJournal,
  type CheckpointStore,
  type InstanceLimits,
  openJournal,
  Pool,
} from "./pool/mod.ts";
import { discoverManagedEnis, type EniPlacement, type NodeLifecycle, type NodeNetwork } from "./node/mod.ts";
import { type BudgetWaits, DaemonOps } from "./ops/mod.ts";
import { StartupError } from "./startup_error.ts";

/** The ports a daemon runs on. */
export interface DaemonDeps {
  readonly ec2: Ec2Port;
  readonly limits: InstanceLimits;
  readonly checkpoint: CheckpointStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** How the daemon's periodic jobs wait (default: real timers). */
  readonly timers?: Timers;
  /** Host networking (per-ENI tables and rules, SNAT); none leaves the host alone. */
  readonly network?: NodeNetwork;
  /**
   * The adapter's request budget: time EC2 calls waited, for the metrics, and when
   * EC2 last throttled a request, so spare growth waits for pods.
   */
  readonly budget?: BudgetWaits & Partial<AccountPressure>;
  /** Reconciliation with IMDS and EC2 and leaked-ENI cleanup, in the background. */
  readonly node?: NodeLifecycle;
  /** The subnets' free addresses, for subnet-aware targets. */
  readonly subnets?: Pick<EniPlacement, "room">;
  /** Growth pause after a full subnet (default: the pool's, 120 s as the reference). */
  readonly subnetFullHoldMs?: number;
  /** How long RPCs in flight may finish at shutdown (default 5 s). */
  readonly shutdownGraceMs?: number;
}

/** A running daemon; disposing it is the orderly shutdown (safe to do twice). */
export interface Daemon extends AsyncDisposable {
  readonly pool: Pool;
  readonly server: RpcServer;
  readonly journal: CheckpointJournal;
  /** Metrics, introspection and recent cloud failures. */
  readonly ops: DaemonOps;
}

/** How often the running daemon looks for releases the plugin queued. */
const RELEASE_QUEUE_POLL_MS = 2_000;

/**
 * Starts ipamd; resolves once the socket serves. A failed start rejects (with a
 * `StartupError` naming the step it refused at) after releasing what it had started.
 */
export async function startDaemon(config: IpamdConfig, deps: DaemonDeps): Promise<Daemon> {
  const { limits, clock, log, network, node } = deps;
  const timers = deps.timers ?? realTimers;
  await using stack = new AsyncDisposableStack();
  const step = StartupError.step;
  // Another ipamd serving this socket owns the checkpoint and the release queue: refuse before touching them.
  stack.use(await step("claim the socket", () => claimSocket(config.socketPath)));
  const ops = stack.use(new DaemonOps(config, { limits, clock, log, budget: deps.budget }));
  const ec2 = ops.meterEc2(node?.track(deps.ec2) ?? deps.ec2);
  const { subnetFullHoldMs } = deps;
  const pressure = deps.budget?.lastThrottledAtMs === undefined ? undefined : deps.budget as AccountPressure;
  const room = deps.subnets?.room((eniId) => ops.subnetOf(eniId));
  const parts = { ec2, limits, clock, timers, log, enis: network, subnetFullHoldMs, pressure, room };
  const pool = stack.use(new Pool({ ...parts, settings: config.pool }));
  const health = new DaemonHealth(pool);
  pool.adopt(await step("discover the node's ENIs", () => discoverManagedEnis(ec2, { log, clock })));
  const journal = stack.use(
    await step("restore the checkpoint", () => openJournal(pool.datastore, deps.checkpoint, { clock, log })),
  );
  const backend = new IpamBackend({
    pool,
    journal,
    clock,
    log: log.with({ op: "rpc" }),
    addWaitMs: config.addWaitTimeoutMs,
    useExternalSnat: config.externalSnat,
  });
  const releases = stack.use(new QueuedReleases(releaseQueuePath(config.socketPath), { backend, log }));
  await releases.drain();
  stack.use(await network?.maintain(() => pool.datastore.enis(), timers));
  const server = stack.use(
    await step("serve the socket", () =>
      startRpcServer({
        socketPath: config.socketPath,
        backend: ops.meterBackend(backend),
        health: health.status,
        graceMs: deps.shutdownGraceMs ?? 5_000,
        timers,
        onInternalError: (error) => log.error("RPC failed", { error: errorText(error) }),
      })),
  );
  ops.serve(pool);
  // A plugin that found the socket not yet serving (or ipamd too slow) queues its release after the drain above.
  releases.every(RELEASE_QUEUE_POLL_MS, timers);
  stack.use(pool.run(config.reconcileIntervalMs));
  stack.use(node?.start(pool));
  stack.use(health.serving());
  log.info("ipamd serving", { socket: config.socketPath, maxEnis: limits.maxEnis, maxPods: limits.maxPods });
  const running = stack.move();
  const stop = async () => {
    await running.disposeAsync();
    log.info("ipamd stopped");
  };
  let stopping: Promise<void> | null = null;
  return { pool, server, journal, ops, [Symbol.asyncDispose]: () => stopping ??= stop() };
}
