import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { EC2_SIM_STATE_VERSION, type Ec2Mutation, type Ec2SimState, Ec2Simulation } from "./simulation.ts";
import {
  assertEc2Error,
  continueHistory,
  playHistory,
  type SimFixture,
  simFixture,
} from "../../testing/ec2_sim_fixture.ts";
import { DEFAULT_ATTACH_LATENCY, DEFAULT_DETACH_LATENCY, Ec2IdFactory, SeededRandom } from "./random.ts";

/** A fixture with EC2's random latencies, so the latency stream's position matters. */
function randomLatencyFixture(): SimFixture {
  return simFixture({ attachLatency: DEFAULT_ATTACH_LATENCY, detachLatency: DEFAULT_DETACH_LATENCY });
}

/** The simulation rebuilt from a JSON round trip of `fixture`'s state, on a clock at the same time. */
function reopen(fixture: SimFixture): SimFixture {
  const clock = new ManualClock(fixture.clock.now());
  const state: unknown = JSON.parse(JSON.stringify(fixture.sim.exportState()));
  return { sim: Ec2Simulation.fromState(state, { clock }), clock };
}

/** `mutate` applied to a JSON copy of `state`. */
// deno-lint-ignore no-explicit-any -- the copy is deliberately broken in untyped ways
function edited(state: Ec2SimState, mutate: (copy: Record<string, any>) => void): unknown {
  const copy = JSON.parse(JSON.stringify(state));
  mutate(copy);
  return copy;
}

Deno.test("exportState() is plain JSON and fromState() rebuilds an equal simulation after a rich history", () => {
  const original = randomLatencyFixture();
  playHistory(original);
  const state = original.sim.exportState();
  assert.equal(state.version, EC2_SIM_STATE_VERSION);
  assert.deepEqual(JSON.parse(JSON.stringify(state)), state);
  const statuses = state.networkInterfaces.map((eni) => eni.attachment?.status ?? "available");
  assert.ok(statuses.includes("attaching") && statuses.includes("detaching"), statuses.join());
  const restored = reopen(original);
  assert.deepEqual(restored.sim.exportState(), state);
  for (
    const [name, describe] of [
      ["ENIs", (sim: Ec2Simulation) => sim.describeNetworkInterfaces()],
      ["instances", (sim: Ec2Simulation) => sim.describeInstances()],
      ["subnets", (sim: Ec2Simulation) => sim.describeSubnets()],
      ["instance types", (sim: Ec2Simulation) => sim.describeInstanceTypes()],
    ] as const
  ) {
    assert.deepEqual(describe(restored.sim), describe(original.sim), name);
  }
});

Deno.test("fromState() continues ids, addresses, latencies and pending transitions as the original would", () => {
  const original = randomLatencyFixture();
  const history = playHistory(original);
  const restored = reopen(original);
  const expected = continueHistory(original, history);
  assert.deepEqual(continueHistory(restored, history), expected);
  assert.deepEqual(restored.sim.exportState(), original.sim.exportState());
});

Deno.test("fromState() restores a fresh account and the fault stream's position", () => {
  const original = simFixture();
  const restored = reopen(original);
  assert.deepEqual(restored.sim.exportState(), original.sim.exportState());
  assert.equal(restored.sim.vpcId, original.sim.vpcId);
  const draws = ({ sim }: SimFixture) => {
    sim.knobs.failAtRate("DescribeSubnets", { code: "Unavailable" }, 0.5);
    return Array.from({ length: 40 }, () => {
      try {
        return sim.describeSubnets().requestId;
      } catch {
        return "failed";
      }
    });
  };
  assert.deepEqual(draws(restored), draws(original));
});

Deno.test("fromState() rejects an unknown version", () => {
  const state = simFixture().sim.exportState();
  for (const version of ["aws-cni-ec2-sim/2", undefined, 1]) {
    assert.throws(
      () =>
        Ec2Simulation.fromState(edited(state, (copy) => (copy.version = version)), {
          clock: new ManualClock(),
        }),
      (error: unknown) =>
        error instanceof RangeError && /unknown version/.test(error.message) &&
        error.message.includes(`expected "${EC2_SIM_STATE_VERSION}"`),
    );
  }
});

Deno.test("fromState() rejects malformed state, naming the field", () => {
  const fixture = simFixture();
  playHistory(fixture);
  const state = fixture.sim.exportState();
  const clock = new ManualClock();
  const rejects = (value: unknown, kind: typeof TypeError | typeof RangeError, message: RegExp) =>
    assert.throws(() => Ec2Simulation.fromState(value, { clock }), (error: unknown) => {
      assert.ok(error instanceof kind, String(error));
      assert.match(error.message, message);
      return true;
    });
  rejects(null, TypeError, /state must be an object/);
  rejects("{}", TypeError, /state must be an object/);
  rejects(
    edited(state, (copy) => (copy.networkInterfaces[1].subnetId = 5)),
    TypeError,
    /state\.networkInterfaces\[1\]\.subnetId must be a string/,
  );
  rejects(edited(state, (copy) => delete copy.random), TypeError, /state\.random must be an object/);
  rejects(
    edited(state, (copy) => (copy.networkInterfaces[0].attachment.status = "gone")),
    TypeError,
    /attachment\.status must be one of "attaching", "attached", "detaching"/,
  );
  rejects(
    edited(state, (copy) => (copy.networkInterfaces[1].subnetId = "subnet-x")),
    RangeError,
    /unknown subnet/,
  );
  rejects(
    edited(state, (copy) => (copy.subnets[0].takenRanges = [])),
    RangeError,
    /holds 10\.0\.1\.\d+, which is not a taken address of "subnet-a"/,
  );
  rejects(
    edited(
      state,
      (copy) => copy.networkInterfaces.push({ ...copy.networkInterfaces.at(-1), seq: copy.lastEniSeq = 99 }),
    ),
    RangeError,
    /appears twice/,
  );
  rejects(
    edited(state, (copy) => (copy.subnets[0].takenRanges = [[0, 10]])),
    RangeError,
    /Cannot restore taken range \[0, 10\] of 10\.0\.1\.0\/24/,
  );
  rejects(
    edited(state, (copy) => (copy.networkInterfaces[2].attachment = copy.networkInterfaces[1].attachment)),
    RangeError,
    /twice/,
  );
});

Deno.test("onMutation() hears each successful mutation, not describes or failures, until removed", () => {
  const { sim } = simFixture();
  const heard: Ec2Mutation[] = [];
  const remove = sim.onMutation((mutation) => heard.push(mutation));
  sim.registerInstanceType({ instanceType: "t3.small", maxEnis: 3, ipv4PerEni: 4 });
  const node = sim.launchInstance({ instanceType: "t3.small", subnetId: "subnet-a" });
  const eniId = sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId;
  sim.describeNetworkInterfaces();
  sim.describeSubnets();
  assertEc2Error(
    () => sim.deleteNetworkInterface({ networkInterfaceId: "eni-404" }),
    "InvalidNetworkInterfaceID.NotFound",
  );
  sim.knobs.failNext("AssignPrivateIpAddresses", { code: "InternalError" });
  assertEc2Error(
    () => sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 1 }),
    "InternalError",
  );
  sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 1 });
  sim.createTags({ resources: [eniId], tags: [{ key: "k", value: "v" }] });
  const { attachmentId } = sim.attachNetworkInterface({
    networkInterfaceId: eniId,
    instanceId: node.instanceId,
    deviceIndex: 1,
  });
  sim.detachNetworkInterface({ attachmentId, force: true });
  sim.terminateInstance({ instanceId: node.instanceId });
  remove();
  sim.deleteNetworkInterface({ networkInterfaceId: eniId });
  assert.deepEqual(heard, [
    "RegisterInstanceType",
    "LaunchInstance",
    "CreateNetworkInterface",
    "AssignPrivateIpAddresses",
    "CreateTags",
    "AttachNetworkInterface",
    "DetachNetworkInterface",
    "TerminateInstance",
  ]);
});

Deno.test("onMutation() listener errors reach the caller after the change is made", () => {
  const { sim } = simFixture();
  sim.onMutation(() => {
    throw new Error("disk full");
  });
  assert.throws(() => sim.createNetworkInterface({ subnetId: "subnet-a" }), /disk full/);
  assert.equal(sim.exportState().networkInterfaces.length, 1);
});

Deno.test("Ec2IdFactory.restore() and SeededRandom.seek() continue where the originals stood", () => {
  const ids = new Ec2IdFactory(7);
  for (let i = 0; i < 5; i++) ids.resourceId("eni");
  ids.macAddress();
  ids.requestId();
  const copy = Ec2IdFactory.restore(7, ids.counters());
  assert.deepEqual([copy.resourceId("eni"), copy.macAddress(), copy.requestId(), copy.resourceId("i")], [
    ids.resourceId("eni"),
    ids.macAddress(),
    ids.requestId(),
    ids.resourceId("i"),
  ]);
  assert.throws(() => Ec2IdFactory.restore(7, { eni: -1 }), RangeError);
  const random = new SeededRandom(3, "latency");
  random.next();
  const again = new SeededRandom(99, "other");
  again.seek(random.position);
  assert.deepEqual([again.next(), again.next()], [random.next(), random.next()]);
  assert.throws(() => again.seek(2 ** 32), RangeError);
});
