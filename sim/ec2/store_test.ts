import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { EC2_SIM_STATE_VERSION } from "./simulation.ts";
import { continueHistory, playHistory, type SimFixture, simFixture } from "../../testing/ec2_sim_fixture.ts";
import { DEFAULT_ATTACH_LATENCY, DEFAULT_DETACH_LATENCY } from "./random.ts";
import { openSimulationFile, writeFileAtomicSync } from "./store.ts";

/** A temp directory removed when disposed. */
function tempDir(): { readonly path: string } & Disposable {
  const path = Deno.makeTempDirSync({ prefix: "ec2_sim_store_test_" });
  return { path, [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }) };
}

function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
}

function fixtureOptions(fixture: SimFixture) {
  let created = 0;
  return {
    options: {
      create: () => {
        created++;
        return fixture.sim;
      },
      clock: fixture.clock,
    },
    created: () => created,
  };
}

Deno.test("openSimulationFile() creates and saves a missing file, then loads it", async () => {
  using dir = tempDir();
  const path = `${dir.path}/nested/sim.json`;
  const first = simFixture();
  const opening = fixtureOptions(first);
  const file = await openSimulationFile(path, opening.options);
  assert.equal(file.loaded, false);
  assert.equal(opening.created(), 1);
  assert.equal(file.sim, first.sim);
  assert.deepEqual(JSON.parse(Deno.readTextFileSync(path)), first.sim.exportState());
  assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
  const again = fixtureOptions(simFixture());
  const reopened = await openSimulationFile(path, again.options);
  assert.equal(reopened.loaded, true);
  assert.equal(again.created(), 0);
  assert.deepEqual(reopened.sim.exportState(), first.sim.exportState());
});

Deno.test("openSimulationFile() saves after every mutating action, before it returns", async () => {
  using dir = tempDir();
  const path = `${dir.path}/sim.json`;
  const fixture = simFixture();
  const { sim } = await openSimulationFile(path, fixtureOptions(fixture).options);
  const saved = () => JSON.parse(Deno.readTextFileSync(path));
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  assert.deepEqual(saved(), sim.exportState());
  const eniId = sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId;
  assert.deepEqual(saved(), sim.exportState());
  sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, ipv4PrefixCount: 1 });
  assert.deepEqual(saved(), sim.exportState());
  sim.attachNetworkInterface({ networkInterfaceId: eniId, instanceId: node.instanceId, deviceIndex: 1 });
  assert.deepEqual(saved().networkInterfaces[1].attachment.status, "attaching");
  assert.deepEqual(saved(), sim.exportState());
});

Deno.test("openSimulationFile() survives a crash mid-history: the reopened cloud carries on as the original", async () => {
  using dir = tempDir();
  const path = `${dir.path}/sim.json`;
  const original = simFixture({
    attachLatency: DEFAULT_ATTACH_LATENCY,
    detachLatency: DEFAULT_DETACH_LATENCY,
  });
  const crashed = await openSimulationFile(path, fixtureOptions(original).options);
  const history = playHistory(original);
  // "kill -9": no persist(); only what the mutations wrote is on disk, and the dead process writes no more.
  crashed.close();
  const clock = new ManualClock(original.clock.now());
  const reopened = await openSimulationFile(path, { create: () => assert.fail("the file exists"), clock });
  assert.equal(reopened.loaded, true);
  assert.deepEqual(reopened.sim.exportState(), original.sim.exportState());
  assert.deepEqual(
    continueHistory({ sim: reopened.sim, clock }, history),
    continueHistory(original, history),
  );
  // Describes are not saved, and transitions complete lazily: a third run sees the same cloud.
  const third = await openSimulationFile(path, { create: () => assert.fail("the file exists"), clock });
  const enis = (file: typeof third) => file.sim.describeNetworkInterfaces().networkInterfaces;
  assert.deepEqual(enis(third), enis(reopened));
  assert.deepEqual(third.sim.describeSubnets().subnets, original.sim.describeSubnets().subnets);
});

Deno.test("openSimulationFile() close() stops saving; persist() saves on demand", async () => {
  using dir = tempDir();
  const path = `${dir.path}/sim.json`;
  const file = await openSimulationFile(path, fixtureOptions(simFixture()).options);
  file.close();
  file.sim.createNetworkInterface({ subnetId: "subnet-a" });
  assert.equal(JSON.parse(Deno.readTextFileSync(path)).networkInterfaces.length, 0);
  file.persist();
  assert.equal(JSON.parse(Deno.readTextFileSync(path)).networkInterfaces.length, 1);
});

Deno.test("openSimulationFile() rejects a file that is not JSON or has an unknown version", async () => {
  using dir = tempDir();
  const path = `${dir.path}/sim.json`;
  const options = { create: () => assert.fail("the file exists"), clock: new ManualClock() };
  Deno.writeTextFileSync(path, "{ half a");
  await assert.rejects(openSimulationFile(path, options), (error: unknown) => {
    assert.ok(error instanceof SyntaxError);
    assert.match(error.message, /Cannot load EC2 simulation from ".*sim\.json": not JSON/);
    return true;
  });
  Deno.writeTextFileSync(
    path,
    JSON.stringify({ ...simFixture().sim.exportState(), version: "aws-cni-ec2-sim/0" }),
  );
  await assert.rejects(openSimulationFile(path, options), (error: unknown) => {
    assert.ok(error instanceof RangeError);
    assert.match(error.message, /unknown version "aws-cni-ec2-sim\/0"/);
    assert.ok(error.message.includes(EC2_SIM_STATE_VERSION));
    return true;
  });
});

Deno.test("writeFileAtomicSync() replaces the file and leaves no temp files, even when the rename fails", async () => {
  using dir = tempDir();
  const path = `${dir.path}/sim.json`;
  const fixture = simFixture();
  await openSimulationFile(path, fixtureOptions(fixture).options);
  playHistory(fixture);
  assert.deepEqual(entries(dir.path), ["sim.json"]);
  writeFileAtomicSync(`${dir.path}/plain.txt`, "one");
  writeFileAtomicSync(`${dir.path}/plain.txt`, "two");
  assert.equal(Deno.readTextFileSync(`${dir.path}/plain.txt`), "two");
  Deno.mkdirSync(`${dir.path}/occupied/inside`, { recursive: true });
  assert.throws(() => writeFileAtomicSync(`${dir.path}/occupied`, "x"));
  assert.deepEqual(entries(dir.path), ["occupied", "plain.txt", "sim.json"]);
});
