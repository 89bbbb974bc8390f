/**
 * ipamd in the test process, wired as `aws-cni --daemon --simulate` wires it
 * (the EC2 + IMDS emulator over the simulation, the real AWS SDK and IMDS
 * client, the daemon), so the test can turn the emulator's fault knobs while it
 * runs: forced EC2 errors and throttling, hung calls, attach latency, IMDS lag,
 * and the simulation's own clock (an attach that never completes until the test
 * moves it). The plugin is `dist/aws-cni` exec'd inside a node's namespaces,
 * reaching this ipamd at its default socket: ipamd binds it and keeps its
 * checkpoint in the node's private /run/aws-node, through /proc/<pid>/root.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import { systemClock } from "../../shared/clock.ts";
import { createLogger } from "../../shared/log.ts";
import { parseIpamdConfig } from "../../ipamd/config/config.ts";
import { type Daemon, startDaemon } from "../../ipamd/daemon.ts";
import { Ec2Simulation } from "../../sim/ec2/simulation.ts";
import { type Emulator, startEmulator } from "../../sim/emulator/mod.ts";
import { instanceLimits, lookupInstanceType } from "../../ipamd/limits/limits.ts";
import { type AwsNode, openAwsNode } from "../../ipamd/node/aws_node.ts";
import { FileCheckpointStore } from "../../ipamd/pool/checkpoint.ts";
import type { PoolReport } from "../../ipamd/ops/pool_report.ts";
import { SIMULATED_CREDENTIALS } from "../../sim/node/daemon_node.ts";
import { IpamdNode } from "./_ipamd_node.ts";

/** The node and its faults at start. */
export interface CloudNodeOptions {
  readonly instanceType: string;
  /** The node's subnet (default 10.0.0.0/20). */
  readonly subnetCidr?: string;
  /** Fixed attach and detach time (default 50 ms). */
  readonly attachLatencyMs?: number;
  /** How long ENI changes take to show in IMDS (default 0). */
  readonly imdsLagMs?: number;
  /** ipamd settings. */
  readonly env?: Record<string, string>;
  /** ipamd's growth pause after a full subnet (default: the product's). */
  readonly subnetFullHoldMs?: number;
  /** Puts a recording proxy between ipamd and IMDS (see `imdsRequests`). */
  readonly recordImds?: boolean;
}

/** One request ipamd made to IMDS, as the recording proxy saw it. */
export interface ImdsRequest {
  readonly method: string;
  readonly path: string;
  /** The session token it carried, or null. */
  readonly token: string | null;
  readonly ttl: string | null;
}

/** Forwards to `target`, recording every request. */
function imdsProxy(target: string, requests: ImdsRequest[]): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const url = new URL(request.url);
    requests.push({
      method: request.method,
      path: url.pathname,
      token: request.headers.get("x-aws-ec2-metadata-token"),
      ttl: request.headers.get("x-aws-ec2-metadata-token-ttl-seconds"),
    });
    const body = request.method === "GET" || request.method === "HEAD" ? null : await request.arrayBuffer();
    const headers = new Headers(request.headers);
    headers.delete("host");
    return await fetch(`${target}${url.pathname}${url.search}`, { method: request.method, headers, body });
  });
}

/** A clock that can be moved ahead of the wall clock (the simulation's time). */
export class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

export const SUBNET_ID = "subnet-0a1b2c3d4e5f60718";

function freePort(): number {
  return 20_000 + Math.floor(Math.random() * 20_000) * 2;
}

/** A simulated node whose cloud the test controls. */
export class CloudNode implements AsyncDisposable {
  readonly host: IpamdNode;
  readonly sim: Ec2Simulation;
  readonly simClock: OffsetClock;
  readonly emulator: Emulator;
  readonly aws: AwsNode;
  readonly daemon: Daemon;
  /** Every log line ipamd wrote. */
  readonly logs: string[];
  /** ipamd's IMDS requests, when recorded. */
  readonly imdsRequests: ImdsRequest[];

  private constructor(parts: Omit<CloudNode, "pool" | typeof Symbol.asyncDispose>) {
    this.host = parts.host;
    this.sim = parts.sim;
    this.simClock = parts.simClock;
    this.emulator = parts.emulator;
    this.aws = parts.aws;
    this.daemon = parts.daemon;
    this.logs = parts.logs;
    this.imdsRequests = parts.imdsRequests;
  }

  /** Builds the cloud, starts the emulator and ipamd; the plugin reaches it at its default socket. */
  static async create(label: string, options: CloudNodeOptions): Promise<CloudNode> {
    const host = await IpamdNode.create(label);
    const stack = new AsyncDisposableStack();
    stack.use(host);
    try {
      const info = lookupInstanceType(options.instanceType);
      const limits = instanceLimits(info, { prefixDelegation: false });
      const simClock = new OffsetClock();
      const latency = { kind: "fixed" as const, ms: options.attachLatencyMs ?? 50 };
      const sim = new Ec2Simulation({
        vpcCidr: "10.0.0.0/16",
        subnets: [{
          subnetId: SUBNET_ID,
          cidr: options.subnetCidr ?? "10.0.0.0/20",
          availabilityZone: "us-west-2a",
        }],
        seed: 7,
        clock: simClock,
        attachLatency: latency,
        detachLatency: { kind: "fixed" as const, ms: 50 },
      });
      sim.registerInstanceType({
        instanceType: info.name,
        maxEnis: limits.maxEnis,
        ipv4PerEni: limits.ipv4PerEni,
      });
      const { instanceId } = sim.launchInstance({
        instanceType: info.name,
        subnetId: SUBNET_ID,
        securityGroups: ["sg-0123456789abcdef0"],
      });
      const emulator = await startEmulator({ sim, instanceId, imdsLagMs: options.imdsLagMs ?? 0 });
      stack.defer(() => emulator.close());
      const imdsRequests: ImdsRequest[] = [];
      let imdsEndpoint = emulator.imdsEndpoint;
      if (options.recordImds === true) {
        const proxy = imdsProxy(emulator.imdsEndpoint, imdsRequests);
        stack.defer(() => proxy.shutdown());
        imdsEndpoint = `http://127.0.0.1:${proxy.addr.port}`;
      }
      const metrics = freePort();
      const config = parseIpamdConfig({
        AWS_VPC_K8S_CNI_LOGLEVEL: "DEBUG",
        POOL_RECONCILE_INTERVAL: "1",
        NODE_RECONCILE_INTERVAL: "2",
        METRICS_BIND_ADDRESS: `127.0.0.1:${metrics}`,
        INTROSPECTION_BIND_ADDRESS: `127.0.0.1:${metrics + 1}`,
        ...options.env,
      }, { socket: host.outside(host.paths.socket), checkpoint: host.outside(host.paths.checkpoint) });
      const logs: string[] = [];
      const log = createLogger((line) => void logs.push(line), { level: config.logLevel });
      const aws = await openAwsNode(config, {
        clock: systemClock,
        log,
        ec2Endpoint: emulator.ec2Endpoint,
        imdsEndpoint,
        credentials: SIMULATED_CREDENTIALS,
      });
      stack.use(aws);
      const daemon = await startDaemon(config, {
        ec2: aws.ec2,
        limits: instanceLimits(aws.instanceType, { prefixDelegation: false }),
        checkpoint: new FileCheckpointStore(config.checkpointPath),
        clock: systemClock,
        log,
        budget: aws.budget,
        node: aws.lifecycle,
        shutdownGraceMs: 1_000,
        ...(options.subnetFullHoldMs ? { subnetFullHoldMs: options.subnetFullHoldMs } : {}),
      });
      stack.use(daemon);
      const node = new CloudNode({ host, sim, simClock, emulator, aws, daemon, logs, imdsRequests });
      node.#cleanup = stack.move();
      return node;
    } catch (error) {
      await stack.disposeAsync();
      throw error;
    }
  }

  #cleanup = new AsyncDisposableStack();

  /** ipamd's `/v1/pool`, from its introspection endpoint. */
  async pool(): Promise<PoolReport> {
    const address = this.daemon.ops.endpoints.introspection;
    if (address === null) throw new Error("ipamd's introspection endpoint is not listening");
    const response = await fetch(`http://${address}/v1/pool`);
    return await response.json() as PoolReport;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#cleanup.disposeAsync();
  }
}
