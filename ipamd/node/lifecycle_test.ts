import assert from "node:assert/strict";
import { silentLogger } from "../../shared/log.ts";
import type { Nap, Timers } from "../../shared/timers.ts";
import { sdkFixture } from "../../testing/ec2_sdk_fixture.ts";
import { waitFor } from "../../testing/rpc_sockets.ts";
import { Datastore } from "../pool/datastore.ts";
import { NodeLifecycle } from "./lifecycle.ts";

/** Timers run by hand: `due()` lists what is scheduled, `fire(i)` runs one. */
class HandTimers implements Timers {
  readonly scheduled: { ms: number; fn: () => void; cancelled: boolean }[] = [];

  nap(): Nap {
    return { done: Promise.resolve(), wake: () => {} };
  }

  after(ms: number, fn: () => void): () => void {
    const entry = { ms, fn, cancelled: false };
    this.scheduled.push(entry);
    return () => void (entry.cancelled = true);
  }

  due(): number[] {
    return this.scheduled.filter((entry) => !entry.cancelled).map((entry) => entry.ms);
  }

  fire(ms: number): void {
    const index = this.scheduled.findIndex((entry) => !entry.cancelled && entry.ms === ms);
    const [entry] = this.scheduled.splice(index, 1);
    entry!.fn();
  }
}

Deno.test("NodeLifecycle runs reconciliation every interval and the first sweep after a random delay", async () => {
  await using fx = await sdkFixture();
  const timers = new HandTimers();
  const lifecycle = new NodeLifecycle({
    imds: fx.imds,
    directory: fx.directory,
    instanceId: fx.instanceId,
    vpcId: fx.sim.vpcId,
    clock: fx.clock,
    log: silentLogger,
    reconcileIntervalMs: 60_000,
    leakedEnis: { intervalMs: 3_600_000, maxStartDelayMs: 300_000, minAgeMs: 300_000, clusterName: "" },
    timers,
    random: () => 0.25,
  });
  const datastore = new Datastore({ cooldownMs: 0 });
  for (const eni of await fx.port.describeNode()) datastore.addEni({ ...eni, createdAtMs: 0 });
  let changed = 0;
  lifecycle.start({ datastore, changed: () => void changed++ });
  assert.deepEqual(timers.due(), [60_000, 75_000]);

  const leaked = fx.sim.createNetworkInterface({
    subnetId: "subnet-a",
    description: "aws-K8S-i-0dead",
    tags: [
      { key: "node.k8s.amazonaws.com/instance_id", value: "i-0dead" },
      { key: "node.k8s.amazonaws.com/createdAt", value: "2023-12-31T00:00:00Z" },
    ],
  }).networkInterface.networkInterfaceId;
  timers.fire(75_000);
  await lifecycle[Symbol.asyncDispose](); // waits for the running sweep; later runs are cancelled
  assert.ok(!fx.sim.exportState().networkInterfaces.some((eni) => eni.networkInterfaceId === leaked));
  assert.deepEqual(timers.due(), []);
  assert.equal(changed, 0);
});

Deno.test("NodeLifecycle reschedules a job after each run and without sweeps when cleanup is off", async () => {
  await using fx = await sdkFixture();
  const timers = new HandTimers();
  const lifecycle = new NodeLifecycle({
    imds: fx.imds,
    directory: fx.directory,
    instanceId: fx.instanceId,
    vpcId: fx.sim.vpcId,
    clock: fx.clock,
    log: silentLogger,
    reconcileIntervalMs: 5_000,
    leakedEnis: null,
    timers,
  });
  const datastore = new Datastore({ cooldownMs: 0 });
  lifecycle.start({ datastore });
  assert.deepEqual(timers.due(), [5_000]);
  timers.fire(5_000);
  await waitFor(() => timers.due().length > 0, 10_000);
  assert.deepEqual(timers.due(), [5_000], "scheduled again after the pass");
  assert.equal(datastore.enis().length, 1, "the pass adopted the primary ENI the datastore lacked");
  assert.equal(await lifecycle.sweepLeakedEnis(), null);
  await lifecycle[Symbol.asyncDispose]();
  assert.deepEqual(timers.due(), []);
});
