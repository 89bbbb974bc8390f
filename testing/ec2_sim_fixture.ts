/**
 * Test fixtures for the EC2 simulation: a small account on a manual clock and an
 * assertion on EC2 error codes. For tests only; nothing in main.ts's graph imports it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ManualClock } from "../shared/clock.ts";
import { Ec2Simulation, type Ec2SimulationOptions } from "../sim/ec2/simulation.ts";
import { Ec2SimError } from "../sim/ec2/error.ts";
import type { CreateNetworkInterfaceRequest } from "../sim/ec2/requests.ts";

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

/** What `playHistory` leaves behind. */
export interface History {
  readonly nodeId: string;
  /** ENI with secondaries, attached to the node (delete-on-termination). */
  readonly eniA: string;
  /** ENI with a /28 prefix, detaching from the node. */
  readonly eniB: string;
  /** ENI left `available` by a terminated instance. */
  readonly eniC: string;
  /** ENI attaching to a second node. */
  readonly eniD: string;
}

/**
 * Runs every kind of change on a `simFixture` account: launches, creates, attaches,
 * IP and prefix assignment with holes left by unassignment, modifies, tags, a detach,
 * a delete and a termination; it ends with one attach and one detach still pending.
 */
export function playHistory({ sim, clock }: SimFixture): History {
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const other = sim.launchInstance({
    instanceType: "c5.xlarge",
    maxEnis: 4,
    ipv4PerEni: 15,
    subnetId: "subnet-a",
  });
  const create = (request: CreateNetworkInterfaceRequest) =>
    sim.createNetworkInterface(request).networkInterface.networkInterfaceId;
  const eniA = create({
    subnetId: "subnet-a",
    description: "aws-K8S-node",
    secondaryPrivateIpAddressCount: 2,
    tags: [{ key: "node.k8s.amazonaws.com/instance_id", value: node.instanceId }],
  });
  const eniB = create({ subnetId: "subnet-a", ipv4PrefixCount: 1 });
  const eniC = create({ subnetId: "subnet-a", groups: ["sg-0aaa", "sg-0bbb"] });
  const doomed = create({ subnetId: "subnet-b", secondaryPrivateIpAddressCount: 3 });
  const { attachmentId } = sim.attachNetworkInterface({
    networkInterfaceId: eniA,
    instanceId: node.instanceId,
    deviceIndex: 1,
  });
  sim.modifyNetworkInterfaceAttribute({
    networkInterfaceId: eniA,
    attachment: { attachmentId, deleteOnTermination: true },
  });
  const [, hole] =
    sim.assignPrivateIpAddresses({ networkInterfaceId: eniA, secondaryPrivateIpAddressCount: 3 })
      .assignedPrivateIpAddresses;
  const [prefix] = sim.assignPrivateIpAddresses({ networkInterfaceId: eniB, ipv4PrefixCount: 2 })
    .assignedIpv4Prefixes;
  sim.unassignPrivateIpAddresses({ networkInterfaceId: eniA, privateIpAddresses: [hole ?? ""] });
  sim.unassignPrivateIpAddresses({ networkInterfaceId: eniB, ipv4Prefixes: [prefix ?? ""] });
  sim.createTags({ resources: [eniB, node.instanceId, "subnet-a"], tags: [{ key: "cluster", value: "c1" }] });
  sim.modifyNetworkInterfaceAttribute({ networkInterfaceId: eniC, sourceDestCheck: false });
  sim.modifyNetworkInterfaceAttribute({ networkInterfaceId: eniC, description: "spare" });
  clock.advance(121_000);
  const detachB = sim.attachNetworkInterface({
    networkInterfaceId: eniB,
    instanceId: node.instanceId,
    deviceIndex: 2,
  });
  sim.attachNetworkInterface({ networkInterfaceId: eniC, instanceId: other.instanceId, deviceIndex: 1 });
  clock.advance(121_000);
  sim.detachNetworkInterface({ attachmentId: detachB.attachmentId });
  sim.deleteNetworkInterface({ networkInterfaceId: doomed });
  sim.terminateInstance({ instanceId: other.instanceId });
  const second = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const eniD = create({ subnetId: "subnet-a", secondaryPrivateIpAddressCount: 1 });
  sim.attachNetworkInterface({ networkInterfaceId: eniD, instanceId: second.instanceId, deviceIndex: 1 });
  return { nodeId: node.instanceId, eniA, eniB, eniC, eniD };
}

/** Carries on after `playHistory`, returning everything observable (pending transitions complete on the way). */
export function continueHistory({ sim, clock }: SimFixture, history: History): unknown[] {
  const seen: unknown[] = [];
  for (let step = 0; step < 12; step++) {
    seen.push(sim.describeNetworkInterfaces().networkInterfaces.map((eni) => [eni.status, eni.attachment]));
    clock.advance(500);
  }
  seen.push(sim.describeNetworkInterfaces(), sim.describeInstances(), sim.describeSubnets());
  seen.push(sim.createNetworkInterface({ subnetId: "subnet-a", secondaryPrivateIpAddressCount: 2 }));
  seen.push(
    sim.assignPrivateIpAddresses({ networkInterfaceId: history.eniA, secondaryPrivateIpAddressCount: 2 }),
  );
  seen.push(sim.assignPrivateIpAddresses({ networkInterfaceId: history.eniC, ipv4PrefixCount: 1 }));
  seen.push(sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-c" }));
  seen.push(
    sim.attachNetworkInterface({
      networkInterfaceId: history.eniC,
      instanceId: history.nodeId,
      deviceIndex: 2,
    }),
  );
  for (let step = 0; step < 12; step++) {
    clock.advance(500);
    seen.push(sim.describeNetworkInterfaces({ maxResults: 5 }));
  }
  return seen;
}
