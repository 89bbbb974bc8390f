import assert from "node:assert/strict";
import { silentLogger } from "../../shared/log.ts";
import { type SdkFixture, sdkFixture, type SdkFixtureOptions } from "../../testing/ec2_sdk_fixture.ts";
import { Datastore } from "../pool/datastore.ts";
import { NodeReconciler } from "./node_reconciler.ts";
import { RecentChanges } from "./recent_changes.ts";

interface Setup extends AsyncDisposable {
  readonly fx: SdkFixture;
  readonly datastore: Datastore;
  readonly changes: RecentChanges;
  readonly reconciler: NodeReconciler;
  readonly added: string[];
  readonly removed: string[];
  changed: number;
}

/** The emulator with the adapter, a datastore holding what the node has now, and a node reconciler. */
async function setup(options: SdkFixtureOptions = {}): Promise<Setup> {
  const fx = await sdkFixture(options);
  const datastore = new Datastore({ cooldownMs: 30_000 });
  for (const eni of await fx.port.describeNode()) datastore.adoptEni({ ...eni, createdAtMs: 0 });
  const changes = new RecentChanges(fx.clock);
  const result: Setup = {
    fx,
    datastore,
    changes,
    added: [],
    removed: [],
    changed: 0,
    reconciler: new NodeReconciler({
      imds: fx.imds,
      directory: fx.directory,
      datastore,
      changes,
      instanceId: fx.instanceId,
      clock: fx.clock,
      log: silentLogger,
      enis: {
        added: (eni) => Promise.resolve(void result.added.push(eni.eniId)),
        removed: (eni) => Promise.resolve(void result.removed.push(eni.eniId)),
      },
      changed: () => void result.changed++,
    }),
    [Symbol.asyncDispose]: () => fx[Symbol.asyncDispose](),
  };
  return result;
}

const POD = { networkName: "aws-cni", containerId: "pod-1", ifName: "eth0" };
const META = { podNamespace: "default", podName: "pod-1" };

/** Creates and attaches an ENI behind the daemon's back; returns its id. */
function attachOutOfBand(
  fx: SdkFixture,
  options: { ips?: number; tags?: Record<string, string> } = {},
): string {
  const eniId = fx.sim.createNetworkInterface({
    subnetId: "subnet-a",
    secondaryPrivateIpAddressCount: options.ips ?? 0,
    tags: Object.entries(options.tags ?? {}).map(([key, value]) => ({ key, value })),
  }).networkInterface.networkInterfaceId;
  fx.sim.attachNetworkInterface({ networkInterfaceId: eniId, instanceId: fx.instanceId, deviceIndex: 1 });
  fx.clock.advance(2_000);
  return eniId;
}

Deno.test("NodeReconciler.pass() adopts an ENI attached behind the daemon's back, with EC2's addresses", async () => {
  await using s = await setup();
  const eniId = attachOutOfBand(s.fx, { ips: 2 });
  const outcome = await s.reconciler.pass();
  assert.deepEqual(outcome.adopted, [eniId]);
  assert.deepEqual(s.datastore.getEni(eniId)?.cidrs, ["10.0.1.6/32", "10.0.1.7/32"]);
  assert.equal(s.datastore.getEni(eniId)?.deviceNumber, 1);
  assert.deepEqual(s.added, [eniId]);
  assert.equal(s.changed, 1);
  assert.deepEqual((await s.reconciler.pass()).adopted, [], "nothing more to do");
});

Deno.test("NodeReconciler.pass() leaves ENIs tagged no_manage alone", async () => {
  await using s = await setup();
  const eniId = attachOutOfBand(s.fx, { ips: 1, tags: { "node.k8s.amazonaws.com/no_manage": "true" } });
  assert.deepEqual((await s.reconciler.pass()).adopted, []);
  assert.equal(s.datastore.getEni(eniId), null);
  s.fx.sim.knobs.failAtRate("DescribeNetworkInterfaces", { code: "UnauthorizedOperation" }, 1);
  assert.equal((await s.reconciler.pass()).skipped, false, "not described again");
});

Deno.test("NodeReconciler.pass() force-removes an ENI detached behind the daemon's back, pods and all", async () => {
  await using s = await setup();
  const eni = await s.fx.port.createEni({ count: 2, prefixes: false });
  s.datastore.adoptEni({ ...eni, createdAtMs: 0 });
  s.datastore.assign(POD, META, s.fx.clock.now());
  const attachmentId = s.fx.sim.describeNetworkInterfaces({ networkInterfaceIds: [eni.eniId] })
    .networkInterfaces[0]!.attachment!.attachmentId;
  s.fx.sim.detachNetworkInterface({ attachmentId });
  s.fx.clock.advance(3_000);
  const outcome = await s.reconciler.pass();
  assert.deepEqual(outcome.removed, [eni.eniId]);
  assert.equal(s.datastore.getEni(eni.eniId), null);
  assert.equal(s.datastore.get(POD), null, "the pod lost its address");
  assert.deepEqual(s.removed, [eni.eniId]);
});

Deno.test("NodeReconciler.pass() keeps an ENI that IMDS does not show yet but EC2 has attached here", async () => {
  await using s = await setup({ emulator: { imdsLagMs: 30_000 } });
  s.fx.clock.advance(30_000);
  const eniId = attachOutOfBand(s.fx);
  const primary = s.datastore.enis()[0]!;
  s.datastore.addEni({ ...primary, eniId, deviceNumber: 1, primary: false, mac: "02:00:00:00:01:01" });
  assert.deepEqual((await s.reconciler.pass()).removed, []);
  assert.notEqual(s.datastore.getEni(eniId), null);
});

Deno.test("NodeReconciler.pass() adds addresses EC2 holds and drops free ones it no longer holds", async () => {
  await using s = await setup();
  const { assignedPrivateIpAddresses: [a, b, c] } = s.fx.sim.assignPrivateIpAddresses({
    networkInterfaceId: s.fx.primaryEniId,
    secondaryPrivateIpAddressCount: 3,
  });
  const first = await s.reconciler.pass();
  assert.deepEqual(first.addedCidrs, [`${a}/32`, `${b}/32`, `${c}/32`]);
  const held = s.datastore.assign(POD, META, s.fx.clock.now());
  assert.equal(held?.ip, a);
  s.fx.sim.unassignPrivateIpAddresses({
    networkInterfaceId: s.fx.primaryEniId,
    privateIpAddresses: [a!, b!],
  });
  const second = await s.reconciler.pass();
  assert.deepEqual(second.droppedCidrs, [`${b}/32`]);
  assert.deepEqual(
    s.datastore.getEni(s.fx.primaryEniId)?.cidrs,
    [`${a}/32`, `${c}/32`],
    "a pod still uses a",
  );
});

Deno.test("NodeReconciler.pass() does not add back an address released within the cooldown", async () => {
  await using s = await setup({ emulator: { imdsLagMs: 5_000 } });
  const [cidr] = await s.fx.port.assignAddresses(s.fx.primaryEniId, { count: 1, prefixes: false });
  s.fx.clock.advance(5_000);
  s.changes.released([cidr!]);
  assert.deepEqual(
    (await s.reconciler.pass()).addedCidrs,
    [],
    "IMDS and EC2 still show it; it was just released",
  );
  s.fx.clock.advance(60_000);
  assert.deepEqual((await s.reconciler.pass()).addedCidrs, [cidr], "after the cooldown EC2's word counts");
});

Deno.test("NodeReconciler.pass() skips while a pool change is in flight", async () => {
  await using s = await setup();
  attachOutOfBand(s.fx, { ips: 1 });
  let finish!: () => void;
  const inFlight = s.changes.track(() => new Promise<void>((resolve) => finish = resolve));
  assert.equal((await s.reconciler.pass()).skipped, true);
  finish();
  await inFlight;
  assert.equal((await s.reconciler.pass()).adopted.length, 1);
});
