import assert from "node:assert/strict";
import {
  type IpCommand,
  IpCommandError,
  type IpLineFailure,
  type IpRunner,
  LinkNotFoundError,
} from "../../../shared/ip_cmd.ts";
import { HostNetwork } from "./host_net.ts";
import { FakeIptables } from "../../../testing/fake_iptables.ts";
import type { ProcSysPort } from "./proc_sys.ts";

/** A namespace that only has links (no addresses, routes or rules) and refuses every change. */
class LinksOnly implements IpRunner {
  readonly links: { ifname: string; address: string; mtu: number; flags: string[] }[] = [];
  readonly writes: IpCommand[] = [];

  apply(commands: readonly IpCommand[]): Promise<void> {
    this.writes.push(...commands);
    return Promise.reject(new IpCommandError("read-only", { command: "", index: -1 }));
  }

  applyAll(commands: readonly IpCommand[]): Promise<readonly IpLineFailure[]> {
    this.writes.push(...commands);
    return Promise.resolve([]);
  }

  query(commands: readonly IpCommand[]): Promise<unknown[]> {
    return Promise.resolve(commands.map((words) => {
      if (words[0] === "link" || words[0] === "addr") {
        const dev = words.indexOf("dev") < 0 ? undefined : words[words.indexOf("dev") + 1];
        return this.links.filter((l) => dev === undefined || l.ifname === dev);
      }
      return [];
    }));
  }
}

const procSys: ProcSysPort = { set: () => Promise.resolve() };

function setup(ip: IpRunner, sleeps: number[], onSleep: () => void = () => {}): HostNetwork {
  return new HostNetwork({
    ip,
    iptables: new FakeIptables(),
    procSys,
    linkAttempts: 3,
    linkRetryMs: 100,
    sleep: (ms) => {
      sleeps.push(ms);
      onSleep();
      return Promise.resolve();
    },
  });
}

const ETH1 = { ifname: "eth1", address: "02:00:00:00:00:11", mtu: 1500, flags: [] };

Deno.test("HostNetwork.linkByMac() waits for a link that appears late", async () => {
  const ip = new LinksOnly();
  const sleeps: number[] = [];
  const host = setup(ip, sleeps, () => {
    if (sleeps.length === 2) ip.links.push(ETH1);
  });
  assert.equal(await host.linkByMac("02:00:00:00:00:11"), "eth1");
  assert.deepEqual(sleeps, [100, 100]);
});

Deno.test("HostNetwork.linkByMac() gives up after the last attempt", async () => {
  const sleeps: number[] = [];
  const host = setup(new LinksOnly(), sleeps);
  await assert.rejects(() => host.linkByMac("02:00:00:00:00:99"), LinkNotFoundError);
  assert.deepEqual(sleeps, [100, 100]);
});

Deno.test("HostNetwork.setupEni() refuses bad input before touching the namespace", async () => {
  const ip = new LinksOnly();
  ip.links.push(ETH1);
  const host = setup(ip, []);
  const eni = { mac: ETH1.address, primaryIp: "10.0.1.5", subnetCidr: "10.0.1.0/24", deviceNumber: 1 };
  await assert.rejects(() => host.setupEni({ ...eni, deviceNumber: 0 }), RangeError);
  await assert.rejects(() => host.setupEni({ ...eni, mtu: 100 }), RangeError);
  await assert.rejects(() => host.setupEni({ ...eni, primaryIp: "10.0.1" }), SyntaxError);
  await assert.rejects(() => host.setupEni({ ...eni, subnetCidr: "10.0.1.5/24" }), SyntaxError);
  assert.deepEqual(ip.writes, []);
});

Deno.test("HostNetwork.setupHost() fails with LinkNotFoundError for a missing primary link", async () => {
  const host = setup(new LinksOnly(), []);
  const options = {
    primaryIf: "eth0",
    primaryIp: "10.0.0.5",
    vpcCidrs: ["10.0.0.0/16"],
    excludeSnatCidrs: [],
    externalSnat: false,
    randomizeSnat: "prng" as const,
    nodePortSupport: true,
    connmark: 0x80,
    vethPrefix: "eni",
    eniMtu: 9001,
  };
  await assert.rejects(() => host.setupHost(options), LinkNotFoundError);
});

Deno.test("HostNetwork.syncEnis() reports an ENI whose link never appears and goes on", async () => {
  const host = setup(new LinksOnly(), []);
  const failures = await host.syncEnis([
    { mac: "02:00:00:00:00:10", primaryIp: "10.0.0.5", subnetCidr: "10.0.0.0/24", deviceNumber: 0 },
    { mac: "02:00:00:00:00:12", primaryIp: "10.0.2.5", subnetCidr: "10.0.2.0/24", deviceNumber: 2 },
  ]);
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.deviceNumber, 2);
  assert.ok(failures[0]!.error instanceof LinkNotFoundError);
});
