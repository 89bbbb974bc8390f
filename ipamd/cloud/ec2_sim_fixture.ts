/**
 * Test fixtures for the EC2 simulation: a small account on a manual clock and an
 * assertion on EC2 error codes. For tests only; nothing in main.ts's graph imports it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { Ec2Simulation, type Ec2SimulationOptions } from "./ec2_sim.ts";
import { Ec2SimError } from "./ec2_sim_error.ts";

/** A simulation and the clock that drives it. */
export interface SimFixture {
  readonly sim: Ec2Simulation;
  readonly clock: ManualClock;
}

/**
 * An account with VPC 10.0.0.0/16, subnet-a 10.0.1.0/24 and subnet-b 10.0.2.0/28 (both
 * us-east-1a), subnet-c 10.0.3.0/24 in us-east-1b, type m5.large (3 ENIs x 10 IPv4),
 * fixed attach 2 s and detach 3 s latencies, on a clock starting at 2024-01-01.
 */
export function simFixture(overrides: Partial<Ec2SimulationOptions> = {}): SimFixture {
  const clock = new ManualClock(Date.UTC(2024, 0, 1));
  const sim = new Ec2Simulation({
    vpcCidr: "10.0.0.0/16",
    subnets: [
      { subnetId: "subnet-a", cidr: "10.0.1.0/24", availabilityZone: "us-east-1a" },
      { subnetId: "subnet-b", cidr: "10.0.2.0/28", availabilityZone: "us-east-1a" },
      { subnetId: "subnet-c", cidr: "10.0.3.0/24", availabilityZone: "us-east-1b" },
    ],
    seed: 42,
    clock,
    instanceTypes: [{ instanceType: "m5.large", maxEnis: 3, ipv4PerEni: 10 }],
    attachLatency: { kind: "fixed", ms: 2000 },
    detachLatency: { kind: "fixed", ms: 3000 },
    ...overrides,
  });
  return { sim, clock };
}

/** Asserts `run` throws an `Ec2SimError` with `code` (and `httpStatus` when given); returns it. */
export function assertEc2Error(run: () => unknown, code: string, httpStatus?: number): Ec2SimError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Ec2SimError, `expected Ec2SimError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (httpStatus !== undefined) assert.equal(caught.httpStatus, httpStatus);
  return caught;
}
