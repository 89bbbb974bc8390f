/**
 * The simulated instance `aws-cni --daemon --simulate` runs on: the EC2 simulation
 * with one launched instance, kept in a state file when one is given so that the
 * simulated cloud outlives a daemon crash, as EC2 does.
 *
 * @module
 */
import type { Clock } from "../../shared/clock.ts";
import { Ec2Simulation } from "../cloud/ec2_sim.ts";
import { SimEc2Port } from "../cloud/ec2_sim_port.ts";
import { openSimulationFile } from "../cloud/ec2_sim_store.ts";
import type { InstanceLimits } from "../pool/types.ts";

/** What to simulate. */
export interface SimulatedInstanceOptions {
  readonly instanceType: string;
  readonly limits: InstanceLimits;
  /** Where the simulated cloud lives between daemon runs; none keeps it in memory. */
  readonly stateFile?: string | undefined;
  readonly subnetCidr?: string | undefined;
  /** A fixed attach and detach time instead of EC2's measured spread. */
  readonly latencyMs?: number | undefined;
  readonly clock: Clock;
}

/** The simulated cloud and this node's port into it. */
export interface SimulatedInstance {
  readonly sim: Ec2Simulation;
  readonly instanceId: string;
  readonly port: SimEc2Port;
  /** The simulated VPC's IPv4 CIDR. */
  readonly vpcCidr: string;
}

const SUBNET_ID = "subnet-0a1b2c3d4e5f60718";
const VPC_CIDR = "10.0.0.0/16";

/** Opens (or creates) the simulated cloud and finds or launches this node's instance. */
export async function openSimulatedNode(options: SimulatedInstanceOptions): Promise<SimulatedInstance> {
  const { instanceType, limits, clock } = options;
  if (options.latencyMs !== undefined && !(Number.isInteger(options.latencyMs) && options.latencyMs >= 0)) {
    throw new RangeError(`Invalid simulated latency "${options.latencyMs}": must be a whole number of ms`);
  }
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
  const sim = options.stateFile === undefined ? create() : (await openSimulationFile(options.stateFile, {
    create,
    clock,
  })).sim;
  const { reservations } = sim.describeInstances({});
  const instance = reservations.flatMap((r) => r.instances).find((i) => i.state.name !== "terminated");
  if (instance === undefined) throw new RangeError("The simulated cloud has no running instance");
  return {
    sim,
    instanceId: instance.instanceId,
    port: new SimEc2Port(sim, instance.instanceId, { pollIntervalMs: 50 }),
    vpcCidr: VPC_CIDR,
  };
}
