/**
 * `aws-cni --daemon`: ipamd as a host service.
 *
 * ```
 * aws-cni --daemon [--socket PATH] [--checkpoint PATH] [--write-conflist DIR]
 * ```
 *
 * One code path: IMDS at `AWS_EC2_METADATA_SERVICE_ENDPOINT`, EC2 at
 * `AWS_EC2_ENDPOINT` or `AWS_ENDPOINT_URL_EC2` (else the region's endpoint),
 * credentials from the AWS SDK's default chain, and host networking in the
 * daemon's network namespace. Tests run it so against the simulated cloud
 * (sim/cloud), a process of its own standing in for the instance.
 *
 * @module
 */
import { createLogger, flagErrorText, type Io, parseFlags, systemClock } from "../shared/mod.ts";
import { ConfigError, describeConfig, type IpamdConfig, parseIpamdConfig } from "./config/mod.ts";
import { outsidePermissions, type PermissionQueries } from "./permitted.ts";
import { roleMayUse } from "../shared/mod.ts";
import { startDaemon } from "./daemon.ts";
import { instanceLimits } from "./limits/mod.ts";
import { FileCheckpointStore } from "./pool/mod.ts";
import { NodeNetwork, openAwsNode } from "./node/mod.ts";
import { HostNetwork } from "./node/host/mod.ts";
import { announceReady, permissionsLogLine } from "./ops/mod.ts";
import { StartupError } from "./startup_error.ts";

/** The permission set as this process holds it, and as the plugin will. */
const PERMISSIONS: PermissionQueries = {
  self: (descriptor) => Deno.permissions.querySync(descriptor).state === "granted",
  pluginMayWrite: (path) => roleMayUse("plugin", "write", path),
};

/** Time in-flight RPCs get to finish at shutdown. */
const SHUTDOWN_GRACE_MS = 5_000;

/** Runs ipamd until SIGTERM or SIGINT; returns the exit code. */
export async function runDaemon(io: Io): Promise<number> {
  let values;
  try {
    values = parseFlags(io.args, {
      socket: { type: "string" },
      checkpoint: { type: "string" },
      "write-conflist": { type: "string" },
    }).values;
  } catch (error) {
    io.stderr(`aws-cni --daemon: ${flagErrorText(error)}; aws-cni --daemon --help lists the flags\n`);
    return 2;
  }
  let config: IpamdConfig;
  try {
    config = parseIpamdConfig(io.env, { socket: values.socket ?? "", checkpoint: values.checkpoint ?? "" });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`aws-cni --daemon: ${error.message}\n`);
    return 1;
  }
  const outside = outsidePermissions(config, {
    conflistDir: values["write-conflist"],
    checkpointFlag: (values.checkpoint ?? "") !== "",
  }, PERMISSIONS);
  if (outside.length > 0) {
    io.stderr(`aws-cni --daemon: ${outside.join("; ")}\n`);
    return 1;
  }
  using writer = logWriter(config, io);
  const log = createLogger(writer.write, { level: config.logLevel });
  log.info("ipamd starting", { settings: describeConfig(config) });
  for (const warning of config.warnings) log.warn(warning);
  const limitOptions = {
    prefixDelegation: config.pool.prefixDelegation,
    maxEni: config.pool.maxEni,
    customNetworking: config.pool.customNetworking,
    maxPods: config.maxPods ?? undefined,
  };
  let started = false;
  try {
    await using stack = new AsyncDisposableStack();
    const aws = stack.use(await openAwsNode(config, { clock: systemClock, log }));
    const limits = instanceLimits(aws.instanceType, limitOptions);
    await ensureDir(config.socketPath);
    await ensureDir(config.checkpointPath);
    const host = new HostNetwork({ log: log.with({ op: "host" }), eniMtu: config.eniMtu });
    const network = new NodeNetwork(host, { config, vpcCidrs: aws.vpcCidrs, log: log.with({ op: "host" }) });
    await using daemon = await startDaemon(config, {
      ec2: aws.ec2,
      limits,
      checkpoint: new FileCheckpointStore(config.checkpointPath),
      clock: systemClock,
      log,
      budget: aws.budget,
      node: aws.lifecycle,
      shutdownGraceMs: SHUTDOWN_GRACE_MS,
      network,
      subnets: aws.placement,
    });
    started = true;
    // A missing permission would otherwise show only when the pool first needs it, possibly hours later.
    // The check runs beside the pool, so a slow or throttled EC2 delays nothing.
    // Once ipamd stops, its log may be closed: an answer that comes later is dropped.
    let stopping = false;
    void aws.checkPermissions().then((statuses) => {
      if (stopping) return;
      daemon.ops.iam.record(statuses);
      const line = permissionsLogLine(statuses);
      if (line === null) {
        log.info("the node's IAM role may make every EC2 call ipamd makes that DryRun can check");
      } else log.error(line.msg, line.fields);
    }).catch(() => {});
    // Listening starts before readiness is announced: a stop asked for meanwhile is orderly too.
    using signals = listenForStop(() => {
      log.info("stopping on signal");
      stopping = true;
    });
    const ready = await announceReady(config, {
      conflistDir: values["write-conflist"],
      notifySocket: io.env["NOTIFY_SOCKET"],
      log,
    });
    if (!ready.ok) {
      stopping = true;
      io.stderr("aws-cni --daemon: cannot write the CNI network configuration (see the log)\n");
      return 1;
    }
    await signals.stopped;
    return 0;
  } catch (error) {
    // Whatever stopped the start (what was started is released by now) is one line; later failures are not.
    if (started) throw error;
    const failure = StartupError.of(error);
    log.error("ipamd cannot start", { step: failure.step, error: failure.message });
    io.stderr(`aws-cni --daemon: ${failure.message}\n`);
    return 1;
  }
}

/** Where log lines go; disposing closes a log file. */
function logWriter(config: IpamdConfig, io: Io): { write: (line: string) => void } & Disposable {
  if (config.logFile === "stderr") return { write: (line) => io.stderr(line), [Symbol.dispose]: () => {} };
  if (config.logFile === "stdout") return { write: (line) => io.stdout(line), [Symbol.dispose]: () => {} };
  const file = Deno.openSync(config.logFile, { append: true, create: true });
  const encoder = new TextEncoder();
  return { write: (line) => void file.writeSync(encoder.encode(line)), [Symbol.dispose]: () => file.close() };
}

async function ensureDir(path: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (dir !== "") await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
}

/** The first SIGTERM or SIGINT from now on: `stopped` settles after `onStop` ran; disposing stops listening. */
function listenForStop(onStop: () => void): { readonly stopped: Promise<void> } & Disposable {
  const { promise, resolve } = Promise.withResolvers<void>();
  const dispose = () => {
    Deno.removeSignalListener("SIGTERM", onSignal);
    Deno.removeSignalListener("SIGINT", onSignal);
  };
  const onSignal = () => {
    dispose();
    onStop();
    resolve();
  };
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
  return { stopped: promise, [Symbol.dispose]: dispose };
}
