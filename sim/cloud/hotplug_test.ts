import assert from "node:assert/strict";
import { type Clock, ManualClock, systemClock } from "../../shared/mod.ts";
import { createCloudAccount } from "./account.ts";
import { parseCloudArgs } from "./flags.ts";
import { attachedAt, HotPlug } from "./hotplug.ts";
import type { EniLink, EniLinks } from "./veth_links.ts";

/** Links kept in memory: what is plugged, and every change in order. */
class MemoryLinks implements EniLinks {
  readonly plugged = new Map<string, EniLink>();
  readonly changes: string[] = [];
  failNext = false;

  plug(link: EniLink): Promise<string> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error("no such device"));
    }
    this.plugged.set(link.mac, link);
    this.changes.push(`plug ${link.deviceIndex}`);
    return Promise.resolve(`eth${link.deviceIndex}`);
  }

  unplug(mac: string): Promise<void> {
    const link = this.plugged.get(mac);
    this.plugged.delete(mac);
    this.changes.push(`unplug ${link?.deviceIndex}`);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.plugged.clear();
    return Promise.resolve();
  }
}

async function until(what: string, probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function account(clock: Clock = systemClock) {
  const flags = ["--instance-type", "t3.small", "--attach-latency-ms", "40", "--detach-latency-ms", "40"];
  return createCloudAccount(parseCloudArgs(flags), clock);
}

Deno.test("attachedAt() counts attaches that came due and detaches that did not, and says what comes due next", () => {
  const { sim, instanceId } = account();
  const eni = sim.createNetworkInterface({ subnetId: "subnet-0a1b2c3d4e5f60718" }).networkInterface;
  sim.attachNetworkInterface({ networkInterfaceId: eni.networkInterfaceId, instanceId, deviceIndex: 1 });
  const now = systemClock.now();
  const before = attachedAt(sim.exportState(), instanceId, now);
  assert.deepEqual(before.attached.map((a) => a.deviceIndex), [0]);
  assert.ok(before.nextDueMs !== null && before.nextDueMs >= now && before.nextDueMs <= now + 40);
  const after = attachedAt(sim.exportState(), instanceId, now + 40);
  assert.deepEqual(after.attached, [
    { mac: sim.exportState().networkInterfaces[0]!.macAddress, deviceIndex: 0 },
    { mac: eni.macAddress, deviceIndex: 1 },
  ]);
  assert.equal(after.nextDueMs, null);
  assert.deepEqual(attachedAt(sim.exportState(), "i-0000000000000000f", now).attached, []);
});

Deno.test("HotPlug plugs the primary with its lease, each ENI once its attach completes, and unplugs it once detached", async () => {
  const cloud = account();
  const { sim, instanceId } = cloud;
  const links = new MemoryLinks();
  const hotplug = new HotPlug(sim, {
    instanceId,
    links,
    primary: { mac: cloud.primaryMac, address: cloud.primaryAddress, gateway: cloud.gateway },
  });
  try {
    await hotplug.start();
    assert.deepEqual(links.plugged.get(cloud.primaryMac), {
      mac: cloud.primaryMac,
      deviceIndex: 0,
      address: cloud.primaryAddress,
      gateway: "10.0.0.1",
    });
    assert.match(cloud.primaryAddress, /^10\.0\.\d+\.\d+\/20$/);
    const eni = sim.createNetworkInterface({ subnetId: cloud.subnetId }).networkInterface;
    const { attachmentId } = sim.attachNetworkInterface({
      networkInterfaceId: eni.networkInterfaceId,
      instanceId,
      deviceIndex: 1,
    });
    assert.equal(links.plugged.has(eni.macAddress), false, "not while attaching");
    await until("the second ENI's link", () => links.plugged.has(eni.macAddress));
    assert.deepEqual(links.plugged.get(eni.macAddress), { mac: eni.macAddress, deviceIndex: 1 });
    sim.detachNetworkInterface({ attachmentId });
    assert.equal(links.plugged.has(eni.macAddress), true, "still there while detaching");
    await until("the link to go", () => !links.plugged.has(eni.macAddress));
    assert.deepEqual(links.changes, ["plug 0", "plug 1", "unplug 1"]);
  } finally {
    await hotplug.close();
  }
});

Deno.test("HotPlug keeps a held attach unplugged until it is released, and retries a link that failed", async () => {
  const clock = new ManualClock(Date.UTC(2024, 0, 1));
  const cloud = account(clock);
  const { sim, instanceId } = cloud;
  const links = new MemoryLinks();
  const hotplug = new HotPlug(sim, {
    instanceId,
    links,
    primary: { mac: cloud.primaryMac, address: cloud.primaryAddress, gateway: cloud.gateway },
  });
  try {
    await hotplug.start();
    sim.knobs.holdAttaches = true;
    const eni = sim.createNetworkInterface({ subnetId: cloud.subnetId }).networkInterface;
    sim.attachNetworkInterface({ networkInterfaceId: eni.networkInterfaceId, instanceId, deviceIndex: 1 });
    clock.advance(3_600_000);
    sim.createTags({ resources: [eni.networkInterfaceId], tags: [{ key: "seen", value: "an hour later" }] });
    await hotplug.settled();
    assert.equal(links.plugged.has(eni.macAddress), false, "held an hour past its attach time");
    links.failNext = true;
    sim.releaseAttaches();
    await until("the failed plug", () => hotplug.failures === 1);
    sim.createTags({ resources: [eni.networkInterfaceId], tags: [{ key: "k", value: "v" }] });
    await until("the link, on the next change", () => links.plugged.has(eni.macAddress));
  } finally {
    await hotplug.close();
  }
});
