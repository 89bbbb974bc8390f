/**
 * The simulated instance `aws-cni --daemon --simulate` runs on: the EC2 simulation
 * with one launched instance, kept in a state file when one is given so that the
 * simulated cloud outlives a daemon crash, as EC2 does, and served by the
 * in-process EC2 + IMDS emulator so the daemon drives it with the real SDK over
 * HTTP, as it drives AWS.
 *
 * @module
 */
import type { Clock } from "../../shared/mod.ts";
import { type Ec2Action, Ec2Simulation, openSimulationFile } from "../ec2/mod.ts";
import type { StaticCredentials } from "../../ipamd/cloud/mod.ts";
import { EC2_ACTIONS } from "../emulator/mod.ts";
import { type Emulator, startEmulator } from "../emulator/mod.ts";
import type { InstanceLimits } from "../../ipamd/pool/mod.ts";

/** What to simulate. */
export interface SimulatedInstanceOptions {
  readonly instanceType: string;
  readonly limits: InstanceLimits;
  /** Where the simulated cloud lives between daemon runs; none keeps it in memory. */
  readonly stateFile?: string | undefined;
  readonly subnetCidr?: string | undefined;
  /** A fixed attach and detach time instead of EC2's measured spread. */
  readonly latencyMs?: number | undefined;
  /** `HOST:PORT` for the emulator: EC2 on PORT, IMDS on PORT + 1 (default: free loopback ports). */
  readonly listen?: string | undefined;
  /** Extra time before EC2 answers, per action: `Action=MS,…` (e.g. `AttachNetworkInterface=3000`). */
  readonly apiLatency?: string | undefined;
  readonly clock: Clock;
}

/** The simulated cloud, served over HTTP; disposing it is `close()`. */
export interface SimulatedInstance extends AsyncDisposable {
  readonly sim: Ec2Simulation;
  readonly instanceId: string;
  /** The simulated VPC's IPv4 CIDR. */
  readonly vpcCidr: string;
  readonly emulator: Emulator;
  /** Stops the emulator and writing the state file. */
  close(): Promise<void>;
}

/** The emulator accepts any credentials; these keep the SDK from looking for real ones. */
export const SIMULATED_CREDENTIALS: StaticCredentials = Object.freeze({
  accessKeyId: "AKIDSIMULATED",
  secretAccessKey: "simulated",
});

const SUBNET_ID = "subnet-0a1b2c3d4e5f60718";
const VPC_CIDR = "10.0.0.0/16";

/** Opens (or creates) the simulated cloud, finds or launches this node's instance, and serves it. */
export async function openSimulatedNode(options: SimulatedInstanceOptions): Promise<SimulatedInstance> {
  const { instanceType, limits, clock } = options;
  if (options.latencyMs !== undefined && !(Number.isInteger(options.latencyMs) && options.latencyMs >= 0)) {
    throw new RangeError(`Invalid simulated latency "${options.latencyMs}": must be a whole number of ms`);
  }
  const apiLatency = parseApiLatency(options.apiLatency ?? "");
  const latency = options.latencyMs === undefined
    ? undefined
    : { kind: "fixed" as const, ms: options.latencyMs };
  const create = () => {
    const sim = new Ec2Simulation({
      vpcCidr: VPC_CIDR,
      subnets: [{
        subnetId: SUBNET_ID,
        cidr: options.subnetCidr ?? "10.0.0.0/20",
        availabilityZone: "us-west-2a",
      }],
      seed: 1,
      clock,
      ...(latency === undefined ? {} : { attachLatency: latency, detachLatency: latency }),
    });
    sim.registerInstanceType({ instanceType, maxEnis: limits.maxEnis, ipv4PerEni: limits.ipv4PerEni });
    sim.launchInstance({ instanceType, subnetId: SUBNET_ID, securityGroups: ["sg-0123456789abcdef0"] });
    return sim;
  };
  const file = options.stateFile === undefined
    ? null
    : await openSimulationFile(options.stateFile, { create, clock });
  const sim = file?.sim ?? create();
  const { reservations } = sim.describeInstances({});
  const instance = reservations.flatMap((r) => r.instances).find((i) => i.state.name !== "terminated");
  if (instance === undefined) throw new RangeError("The simulated cloud has no running instance");
  for (const [action, ms] of apiLatency) sim.knobs.setLatencyMs(action, ms);
  const emulator = await startEmulator({
    sim,
    instanceId: instance.instanceId,
    ...(options.listen === undefined ? {} : { listen: options.listen }),
  }).catch((error) => {
    file?.close();
    throw error;
  });
  const close = async () => {
    await emulator.close();
    file?.close();
  };
  return {
    sim,
    instanceId: instance.instanceId,
    vpcCidr: VPC_CIDR,
    emulator,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Reads `Action=MS,…`; throws a RangeError naming what is wrong. */
export function parseApiLatency(text: string): Map<Ec2Action, number> {
  const latencies = new Map<Ec2Action, number>();
  for (const item of text.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
    const [, action = "", ms = ""] = /^([A-Za-z]+)=(\d+)$/.exec(item) ?? [];
    if (!Object.hasOwn(EC2_ACTIONS, action)) {
      throw new RangeError(`Invalid simulated API latency "${item}": expected Action=MS with an EC2 action`);
    }
    latencies.set(action as Ec2Action, Number(ms));
  }
  return latencies;
}
