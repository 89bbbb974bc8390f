/**
 * `aws-cni --daemon`: ipamd as a host service.
 *
 * ```
 * aws-cni --daemon [--socket PATH] [--checkpoint PATH] --simulate INSTANCE_TYPE
 *   [--simulate-state FILE] [--subnet-cidr CIDR] [--simulate-latency-ms MS] [--host-network]
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
import { parseCidr } from "../shared/ipv4.ts";
import type { Ec2Port } from "./cloud/ec2_port.ts";
import { HostNetwork } from "./host/mod.ts";
import { NodeNetwork } from "./node_network.ts";
import { announceReady } from "./ops/mod.ts";
import { openSimulatedNode } from "./sim/daemon_node.ts";
import { SimLinkPort } from "./sim/sim_link_port.ts";

const DAEMON_USAGE = `usage: aws-cni --daemon [--socket PATH] [--checkpoint PATH] --simulate INSTANCE_TYPE
  [--simulate-state FILE] [--subnet-cidr CIDR] [--simulate-latency-ms MS] [--host-network]

With --simulate, host networking (per-ENI links, tables, rules and SNAT) is set up only
with --host-network, on stand-in links in the daemon's own network namespace: run it
inside a namespace made for it, never on a real node's root namespace.

--write-conflist DIR writes DIR/10-aws.conflist once the socket serves, so kubelet sees
the network as ready only then; under systemd (NOTIFY_SOCKET) READY=1 follows.
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
        "host-network": { type: "boolean" },
        "write-conflist": { type: "string" },
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
    let ec2: Ec2Port = node.port;
    let network: NodeNetwork | undefined;
    if (values["host-network"] === true) {
      const linked = new SimLinkPort(node.port);
      await linked.attachExisting((eni) => parseCidr(eni.subnetCidr).bits);
      ec2 = linked;
      const host = new HostNetwork({ log: log.with({ op: "host" }), eniMtu: config.eniMtu });
      network = new NodeNetwork(host, { config, vpcCidrs: [node.vpcCidr], log: log.with({ op: "host" }) });
    }
    const daemon = await startDaemon(config, {
      ec2,
      limits,
      checkpoint: new FileCheckpointStore(config.checkpointPath),
      clock: systemClock,
      log,
      ...(network === undefined ? {} : { network }),
    });
    const ready = await announceReady(config, {
      conflistDir: values["write-conflist"],
      notifySocket: io.env["NOTIFY_SOCKET"],
      log,
    });
    if (!ready.ok) {
      await daemon.stop(SHUTDOWN_GRACE_MS);
      io.stderr("aws-cni --daemon: cannot write the CNI network configuration (see the log)\n");
      return 1;
    }
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
