/**
 * A simulated EC2 account with one instance, for tests that run ipamd in
 * this process: a /16 VPC with one /20 subnet, 20 ms attach and detach, and
 * the instance type's real limits.
 */
import { systemClock } from "../shared/clock.ts";
import { Ec2Simulation } from "../sim/ec2/simulation.ts";
import { SimEc2Port } from "../sim/ec2/sim_ec2_port.ts";
import { instanceLimits, lookupInstanceType } from "../ipamd/limits/limits.ts";
import type { InstanceLimits } from "../ipamd/limits/mod.ts";

/** The account, its instance and what ipamd needs to run on it. */
export interface SimAccount {
  readonly sim: Ec2Simulation;
  readonly instanceId: string;
  /** The instance's primary ENI. */
  readonly networkInterfaceId: string;
  readonly limits: InstanceLimits;
  /** The EC2 port for the instance (polling every 10 ms). */
  ec2(): SimEc2Port;
}

/** Launches one `instanceType` (default t3.small) in a fresh simulated account. */
export function simulatedAccount(instanceType = "t3.small"): SimAccount {
  const info = lookupInstanceType(instanceType);
  const sim = new Ec2Simulation({
    vpcCidr: "10.0.0.0/16",
    subnets: [{ subnetId: "subnet-1", cidr: "10.0.0.0/20", availabilityZone: "us-west-2a" }],
    seed: 7,
    clock: systemClock,
    attachLatency: { kind: "fixed", ms: 20 },
    detachLatency: { kind: "fixed", ms: 20 },
  });
  sim.registerInstanceType({ instanceType, maxEnis: info.maxEnis, ipv4PerEni: info.ipv4PerEni });
  const { instanceId, networkInterfaceId } = sim.launchInstance({ instanceType, subnetId: "subnet-1" });
  return {
    sim,
    instanceId,
    networkInterfaceId,
    limits: instanceLimits(info, { prefixDelegation: false }),
    ec2: () => new SimEc2Port(sim, instanceId, { pollIntervalMs: 10 }),
  };
}
