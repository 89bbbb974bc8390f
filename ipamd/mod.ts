/**
 * `aws-cni --daemon`: ipamd as a host service.
 *
 * ```
 * aws-cni --daemon [--socket PATH] [--checkpoint PATH] --simulate INSTANCE_TYPE
 *   [--simulate-state FILE] [--subnet-cidr CIDR] [--simulate-latency-ms MS]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { systemClock } from "../shared/clock.ts";
import type { Io } from "../shared/io.ts";
import { createLogger, errorText } from "../shared/log.ts";
import { ConfigError, type IpamdConfig, parseIpamdConfig } from "./config.ts";
import { startDaemon } from "./daemon.ts";
import { instanceLimits, lookupInstanceType, UnknownInstanceTypeError } from "./limits/limits.ts";
import { CheckpointError, FileCheckpointStore } from "./pool/checkpoint.ts";
import { openSimulatedNode } from "./sim/daemon_node.ts";

const DAEMON_USAGE = `usage: aws-cni --daemon [--socket PATH] [--checkpoint PATH] --simulate INSTANCE_TYPE
  [--simulate-state FILE] [--subnet-cidr CIDR] [--simulate-latency-ms MS]
`;

/** Time in-flight RPCs get to finish at shutdown. */
const SHUTDOWN_GRACE_MS = 5_000;

/** Runs ipamd until SIGTERM or SIGINT; returns the exit code. */
export async function runDaemon(io: Io): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: [...io.args],
      options: {
        socket: { type: "string" },
        checkpoint: { type: "string" },
        simulate: { type: "string" },
        "simulate-state": { type: "string" },
        "subnet-cidr": { type: "string" },
        "simulate-latency-ms": { type: "string" },
      },
      strict: true,
    }).values;
  } catch (error) {
    io.stderr(`aws-cni --daemon: ${errorText(error)}\n${DAEMON_USAGE}`);
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
  const write = logWriter(config, io);
  const log = createLogger(write, { level: config.logLevel });
  for (const warning of config.warnings) log.warn(warning);
  if (values.simulate === undefined) {
    io.stderr("aws-cni --daemon: the EC2 adapter is not built yet; run with --simulate INSTANCE_TYPE\n");
    return 1;
  }
  try {
    const info = lookupInstanceType(values.simulate);
    const limits = instanceLimits(info, {
      prefixDelegation: config.pool.prefixDelegation,
      maxPods: config.maxPods ?? undefined,
    });
    const node = await openSimulatedNode({
      instanceType: info.name,
      limits,
      stateFile: values["simulate-state"],
      subnetCidr: values["subnet-cidr"],
      latencyMs: values["simulate-latency-ms"] === undefined
        ? undefined
        : Number(values["simulate-latency-ms"]),
      clock: systemClock,
    });
    await ensureDir(config.socketPath);
    await ensureDir(config.checkpointPath);
    const daemon = await startDaemon(config, {
      ec2: node.port,
      limits,
      checkpoint: new FileCheckpointStore(config.checkpointPath),
      clock: systemClock,
      log,
    });
    await new Promise<void>((resolve) => {
      const onSignal = () => {
        Deno.removeSignalListener("SIGTERM", onSignal);
        Deno.removeSignalListener("SIGINT", onSignal);
        log.info("stopping on signal");
        daemon.stop(SHUTDOWN_GRACE_MS).then(resolve, resolve);
      };
      Deno.addSignalListener("SIGTERM", onSignal);
      Deno.addSignalListener("SIGINT", onSignal);
    });
    return 0;
  } catch (error) {
    if (
      error instanceof CheckpointError || error instanceof UnknownInstanceTypeError ||
      error instanceof RangeError
    ) {
      log.error("ipamd cannot start", { error: error.message });
      io.stderr(`aws-cni --daemon: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function logWriter(config: IpamdConfig, io: Io): (line: string) => void {
  if (config.logFile === "stderr") return (line) => io.stderr(line);
  if (config.logFile === "stdout") return (line) => io.stdout(line);
  const file = Deno.openSync(config.logFile, { append: true, create: true });
  const encoder = new TextEncoder();
  return (line) => void file.writeSync(encoder.encode(line));
}

async function ensureDir(path: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (dir !== "") await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
}
