import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { silentLogger } from "../../shared/log.ts";
import { simFixture } from "../../testing/ec2_sim_fixture.ts";
import { SimEc2Port, sleepOnManualClock } from "../../sim/ec2/sim_ec2_port.ts";
import { CloudError } from "../cloud/errors.ts";
import { discoverManagedEnis, retryStartup, unmanagedReason } from "./discovery.ts";

Deno.test("unmanagedReason() skips no_manage=true, EFA and trunk ENIs", () => {
  const tags = (value: string) => ({ tags: { "node.k8s.amazonaws.com/no_manage": value } });
  assert.equal(unmanagedReason(tags("true")), "tagged node.k8s.amazonaws.com/no_manage=true");
  assert.equal(unmanagedReason(tags("false")), null);
  assert.equal(unmanagedReason({ tags: {} }, "efa"), 'interface type "efa"');
  assert.equal(unmanagedReason({ tags: {} }, "efa-only"), 'interface type "efa-only"');
  assert.equal(unmanagedReason({ tags: {} }, "trunk"), 'interface type "trunk"');
  assert.equal(unmanagedReason({ tags: {} }, "interface"), null);
});

Deno.test("discoverManagedEnis() retries a throttled describe with back-off and skips unmanaged ENIs", async () => {
  const { sim, clock } = simFixture();
  const node = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const port = new SimEc2Port(sim, node.instanceId, { sleep: sleepOnManualClock(clock) });
  const spare = sim.createNetworkInterface({
    subnetId: "subnet-a",
    tags: [{ key: "node.k8s.amazonaws.com/no_manage", value: "true" }],
  }).networkInterface.networkInterfaceId;
  sim.attachNetworkInterface({ networkInterfaceId: spare, instanceId: node.instanceId, deviceIndex: 1 });
  clock.advance(2_000);
  sim.knobs.failNext("DescribeInstances", { code: "RequestLimitExceeded" }, 3);
  const slept: number[] = [];
  const enis = await discoverManagedEnis(port, {
    log: silentLogger,
    clock,
    sleep: (ms) => (slept.push(ms), Promise.resolve()),
    random: () => 0.5,
  });
  assert.deepEqual(enis.map((eni) => eni.eniId), [node.networkInterfaceId]);
  assert.deepEqual(slept, [500, 1_000, 2_000], "half of up to 1, 2 and 4 s: full jitter");
});

Deno.test("retryStartup() rethrows at once what waiting cannot fix, and gives up after its tries", async () => {
  const clock = new ManualClock();
  const options = { log: silentLogger, clock, sleep: () => Promise.resolve(), tries: 3 };
  let calls = 0;
  const denied = retryStartup("read", () => {
    calls++;
    return Promise.reject(new CloudError("unauthorized", "UnauthorizedOperation", "no"));
  }, options);
  await assert.rejects(denied, CloudError);
  assert.equal(calls, 1);
  const down = retryStartup("read", () => {
    calls++;
    return Promise.reject(new CloudError("unavailable", "Unavailable", "down"));
  }, options);
  await assert.rejects(down, CloudError);
  assert.equal(calls, 4);
});
