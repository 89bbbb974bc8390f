import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { Ec2Simulation } from "./simulation.ts";
import { Ec2SimError } from "./error.ts";
import { assertEc2Error, simFixture } from "../../testing/ec2_sim_fixture.ts";
import { DEFAULT_ATTACH_LATENCY, DEFAULT_DETACH_LATENCY } from "./random.ts";

/** A fixed scenario with the default (random) latencies; returns everything observable. */
function scenario(seed: number): unknown[] {
  const { sim, clock } = simFixture({
    seed,
    attachLatency: DEFAULT_ATTACH_LATENCY,
    detachLatency: DEFAULT_DETACH_LATENCY,
  });
  const seen: unknown[] = [];
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  seen.push(node);
  for (let i = 1; i <= 2; i++) {
    const created = sim.createNetworkInterface({ subnetId: "subnet-a", secondaryPrivateIpAddressCount: i });
    const eniId = created.networkInterface.networkInterfaceId;
    seen.push(
      created,
      sim.attachNetworkInterface({ networkInterfaceId: eniId, instanceId: node.instanceId, deviceIndex: i }),
    );
    seen.push(sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4PrefixCount: 1 }));
  }
  for (let step = 0; step < 20; step++) {
    clock.advance(250);
    seen.push(sim.describeNetworkInterfaces().networkInterfaces.map((eni) => eni.status));
  }
  return seen;
}

Deno.test("Ec2Simulation is deterministic: the same seed gives the same ids, addresses and timings", () => {
  assert.deepEqual(scenario(42), scenario(42));
  const [nodeA] = scenario(42) as [{ instanceId: string; privateIpAddress: string }];
  const [nodeB] = scenario(43) as [{ instanceId: string; privateIpAddress: string }];
  assert.notEqual(nodeA.instanceId, nodeB.instanceId);
  assert.equal(nodeA.privateIpAddress, nodeB.privateIpAddress, "addresses do not depend on the seed");
});

Deno.test("Ec2Simulation gives every call a request id, failed ones included", () => {
  const { sim } = simFixture();
  const ok = sim.describeSubnets();
  assert.match(ok.requestId, /^[0-9a-f-]{36}$/);
  const failed = assertEc2Error(
    () => sim.deleteNetworkInterface({ networkInterfaceId: "eni-404" }),
    "InvalidNetworkInterfaceID.NotFound",
  );
  assert.match(failed.requestId, /^[0-9a-f-]{36}$/);
  assert.notEqual(failed.requestId, ok.requestId);
});

Deno.test("Ec2Simulation.knobs.failNext() fails the next calls of one action, then lets them through", () => {
  const { sim } = simFixture();
  sim.knobs.failNext("CreateNetworkInterface", { code: "InternalError" }, 2);
  const first = assertEc2Error(
    () => sim.createNetworkInterface({ subnetId: "subnet-a" }),
    "InternalError",
    500,
  );
  assert.equal(first.message, "Injected InternalError");
  assertEc2Error(() => sim.createNetworkInterface({ subnetId: "subnet-a" }), "InternalError");
  assert.equal(sim.describeNetworkInterfaces().networkInterfaces.length, 0, "a forced error changes nothing");
  sim.createNetworkInterface({ subnetId: "subnet-a" });
  sim.knobs.failNext("DescribeSubnets", { code: "UnauthorizedOperation", message: "no", httpStatus: 403 });
  sim.knobs.clearFaults("DescribeSubnets");
  sim.describeSubnets();
});

Deno.test("Ec2Simulation.knobs.failAtRate() fails about that share of calls, repeatably for a seed", () => {
  const outcomes = (seed: number): boolean[] => {
    const { sim } = simFixture({ seed });
    sim.knobs.failAtRate("DescribeSubnets", { code: "Unavailable" }, 0.3);
    return Array.from({ length: 400 }, () => {
      try {
        sim.describeSubnets();
        return true;
      } catch (error) {
        assert.ok(error instanceof Ec2SimError && error.code === "Unavailable" && error.httpStatus === 503);
        return false;
      }
    });
  };
  const failures = outcomes(5).filter((ok) => !ok).length;
  assert.ok(failures > 80 && failures < 160, `${failures} of 400 failed`);
  assert.deepEqual(outcomes(5), outcomes(5));
});

Deno.test("Ec2Simulation.knobs latency is a value for transports, 0 unless set", () => {
  const { sim } = simFixture();
  assert.equal(sim.knobs.latencyMs("AttachNetworkInterface"), 0);
  sim.knobs.setLatencyMs("AttachNetworkInterface", 150);
  assert.equal(sim.knobs.latencyMs("AttachNetworkInterface"), 150);
  assert.throws(() => sim.knobs.setLatencyMs("AttachNetworkInterface", -1), RangeError);
});

Deno.test("Ec2Simulation.throttle drains an action's bucket, answers RequestLimitExceeded, and refills from the clock", () => {
  const { sim, clock } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  for (let i = 0; i < 150; i++) sim.describeSubnets();
  sim.throttle.enable({ "mutating": { capacity: 2, refillPerSecond: 1 } });
  const attach = (deviceIndex: number) =>
    sim.attachNetworkInterface({
      networkInterfaceId:
        sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId,
      instanceId: node.instanceId,
      deviceIndex,
    });
  attach(1);
  sim.detachNetworkInterface({ attachmentId: attach(2).attachmentId, force: true });
  const throttled = assertEc2Error(() => attach(2), "RequestLimitExceeded", 503);
  assert.equal(throttled.message, "Request limit exceeded.");
  sim.describeSubnets();
  clock.advance(999);
  assertEc2Error(() => attach(2), "RequestLimitExceeded");
  clock.advance(1);
  attach(2);
  sim.throttle.disable();
  for (let i = 0; i < 10; i++) sim.describeSubnets();
});

Deno.test("Ec2Simulation.throttle gives unfiltered describes the smaller bucket, filtered ones the larger", () => {
  const { sim } = simFixture();
  sim.throttle.enable();
  for (let i = 0; i < 50; i++) sim.describeNetworkInterfaces();
  assertEc2Error(() => sim.describeNetworkInterfaces(), "RequestLimitExceeded");
  for (let i = 0; i < 100; i++) sim.describeNetworkInterfaces({ filters: { "status": ["available"] } });
  assertEc2Error(() => sim.describeNetworkInterfaces({ maxResults: 5 }), "RequestLimitExceeded");
  for (let i = 0; i < 100; i++) sim.describeSubnets();
  assertEc2Error(() => sim.describeSubnets(), "RequestLimitExceeded");
});

Deno.test("Ec2Simulation refuses subnets outside the VPC or overlapping each other", () => {
  const base = { vpcCidr: "10.0.0.0/16", seed: 1, clock: new ManualClock() };
  assert.throws(
    () =>
      new Ec2Simulation({
        ...base,
        subnets: [{ subnetId: "s1", cidr: "10.1.0.0/24", availabilityZone: "a" }],
      }),
    RangeError,
  );
  assert.throws(
    () =>
      new Ec2Simulation({
        ...base,
        subnets: [
          { subnetId: "s1", cidr: "10.0.0.0/20", availabilityZone: "a" },
          { subnetId: "s2", cidr: "10.0.1.0/24", availabilityZone: "a" },
        ],
      }),
    RangeError,
  );
  assert.match(new Ec2Simulation({ ...base, subnets: [] }).vpcId, /^vpc-0[0-9a-f]{16}$/);
});
