/**
 * ipamd end to end in one process: the real daemon (datastore, checkpoint,
 * reconciler, grpc-js server) against the EC2 simulation, called over a real Unix
 * socket in a temp dir with the plugin's client.
 */
import { deepStrictEqual, equal, match, notEqual, ok, rejects } from "node:assert/strict";
import { systemClock } from "../shared/clock.ts";
import { createLogger, type Logger, silentLogger } from "../shared/log.ts";
import { IpamdClient, RpcCallError, Status } from "../cni/rpc/client.ts";
import { ServingStatus } from "../shared/rpc/messages.ts";
import { addRequest, delRequest } from "../testing/ipamd_requests.ts";
import { GrpcJsClient } from "../testing/rpc_server_fixture.ts";
import { waitFor } from "../testing/rpc_sockets.ts";
import { Ec2Simulation } from "../sim/ec2/simulation.ts";
import { simulatedAccount } from "../testing/sim_account.ts";
import { parseIpamdConfig } from "../ipamd/config/config.ts";
import { type Daemon, startDaemon } from "../ipamd/daemon.ts";
import { type CheckpointStore, FileCheckpointStore } from "../ipamd/pool/checkpoint.ts";
import { MemoryCheckpointStore } from "../testing/fake_checkpoint_store.ts";

const DEADLINE = { deadlineMs: 15_000 };

interface TestDaemon extends AsyncDisposable {
  daemon: Daemon;
  client: IpamdClient;
  sim: Ec2Simulation;
  dir: string;
}

async function startTestDaemon(
  options: {
    instanceType?: string;
    env?: Record<string, string>;
    checkpoint?: (dir: string) => CheckpointStore;
    prepare?: (sim: Ec2Simulation, eniId: string) => void;
    before?: (dir: string) => void;
    log?: Logger;
  } = {},
): Promise<TestDaemon> {
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-ipamd-" });
  const { sim, networkInterfaceId, limits, ec2 } = simulatedAccount(options.instanceType);
  const config = parseIpamdConfig(
    { AWS_VPC_K8S_CNI_BACKING_STORE: `${dir}/ipam.json`, ...options.env },
    { socket: `${dir}/ipamd.sock` },
  );
  options.prepare?.(sim, networkInterfaceId);
  options.before?.(dir);
  const daemon = await startDaemon(config, {
    ec2: ec2(),
    limits,
    checkpoint: options.checkpoint?.(dir) ?? new FileCheckpointStore(config.checkpointPath),
    clock: systemClock,
    log: options.log ?? silentLogger,
    shutdownGraceMs: 1_000,
  }).catch(async (error) => {
    await Deno.remove(dir, { recursive: true });
    throw error;
  });
  const client = new IpamdClient(config.socketPath);
  return {
    daemon,
    client,
    sim,
    dir,
    async [Symbol.asyncDispose]() {
      await client.close();
      await daemon[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function addIp(client: IpamdClient, containerId: string): Promise<string> {
  const reply = await client.addNetwork(addRequest(containerId), DEADLINE);
  equal(reply.success, true);
  return reply.ipAllocations[0]!.ipv4Addr;
}

Deno.test("ipamd answers ADD, repeated ADD, DEL, repeated DEL and health over its socket", async () => {
  await using t = await startTestDaemon();
  equal(await t.client.healthCheck(DEADLINE), ServingStatus.SERVING);
  const mode = (await Deno.stat(`${t.dir}/ipamd.sock`)).mode! & 0o777;
  equal(mode, 0o600);
  const first = await t.client.addNetwork(addRequest("c1"), DEADLINE);
  equal(first.success, true);
  const [allocation] = first.ipAllocations;
  ok(allocation !== undefined);
  match(allocation.ipv4Addr, /^10\.0\./);
  equal(allocation.routeTableId, 254);
  deepStrictEqual((await t.client.addNetwork(addRequest("c1"), DEADLINE)).ipAllocations, first.ipAllocations);
  const other = await addIp(t.client, "c1-second-if");
  notEqual(other, allocation.ipv4Addr);
  const del = await t.client.delNetwork(delRequest("c1"), DEADLINE);
  equal(del.success, true);
  equal(del.ipAllocations[0]?.ipv4Addr, allocation.ipv4Addr);
  const again = await t.client.delNetwork(delRequest("c1"), DEADLINE);
  equal(again.success, true);
  deepStrictEqual(again.ipAllocations, []);
  const unknown = await t.client.delNetwork(delRequest("never-added"), DEADLINE);
  equal(unknown.success, true);
});

Deno.test("ipamd gives 200 concurrent ADDs 200 distinct addresses", async () => {
  await using t = await startTestDaemon({ instanceType: "c5.18xlarge" });
  // grpc-js multiplexes the 200 calls on one connection; the plugin's client makes one at a time.
  using grpc = new GrpcJsClient(`${t.dir}/ipamd.sock`);
  const ips = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
    const reply = await grpc.addNetwork(addRequest(`burst-${i}`), DEADLINE.deadlineMs);
    equal(reply.success, true);
    return reply.ipAllocations[0]!.ipv4Addr;
  }));
  equal(new Set(ips).size, 200);
  const saved = JSON.parse(await Deno.readTextFile(`${t.dir}/ipam.json`));
  equal(saved.allocations.length, 200);
});

Deno.test("ipamd serves a waiting ADD once the pool refills", async () => {
  await using t = await startTestDaemon({ env: { WARM_ENI_TARGET: "0" } });
  const ips = [];
  for (let i = 0; i < 5; i++) ips.push(await addIp(t.client, `wait-${i}`));
  equal(new Set(ips).size, 5);
  ok(t.daemon.pool.datastore.enis().length >= 2, "a second ENI was created for the waiting ADDs");
});

Deno.test("ipamd fails a waiting ADD with its reason when the pool cannot grow", async () => {
  await using t = await startTestDaemon({ env: { MAX_ENI: "1", ADD_WAIT_TIMEOUT: "1" } });
  for (let i = 0; i < 3; i++) await addIp(t.client, `full-${i}`);
  const started = Date.now();
  await rejects(t.client.addNetwork(addRequest("full-3"), DEADLINE), (error: unknown) => {
    ok(error instanceof RpcCallError);
    equal(error.code, Status.RESOURCE_EXHAUSTED);
    match(error.details, /max ENIs reached/);
    return true;
  });
  ok(Date.now() - started >= 900, "the ADD waited for its deadline");
});

Deno.test("ipamd fails an ADD whose checkpoint write fails and rolls the datastore back", async () => {
  let store: MemoryCheckpointStore | undefined;
  await using t = await startTestDaemon({ checkpoint: () => (store = new MemoryCheckpointStore()) });
  store!.failNextSave();
  await rejects(t.client.addNetwork(addRequest("doomed"), DEADLINE), (error: unknown) => {
    ok(error instanceof RpcCallError);
    equal(error.code, Status.UNAVAILABLE);
    return true;
  });
  equal(t.daemon.pool.datastore.allocations().length, 0);
  const ip = await addIp(t.client, "doomed");
  equal(t.daemon.pool.datastore.allocations().length, 1);
  ok(store!.text?.includes(ip));
});

Deno.test("ipamd loads a checkpoint written by the reference and keeps its allocations", async () => {
  let held: readonly string[] = [];
  const prepare = (sim: Ec2Simulation, eniId: string) => {
    held = sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 3 })
      .assignedPrivateIpAddresses;
  };
  const dirFor = (dir: string) => {
    // The reference's format, byte for byte as its Go encoder writes it.
    const text = `{"version":"vpc-cni-ipam/1","allocations":[` +
      `{"networkName":"aws-cni","containerID":"ref-1","ifName":"eth0","ipv4":"${held[1]}",` +
      `"allocationTimestamp":1732350000123456789,"metadata":{"k8sPodNamespace":"default","k8sPodName":"web-0",` +
      `"interfacesCount":1}}]}`;
    Deno.writeTextFileSync(`${dir}/ipam.json`, text);
    return new FileCheckpointStore(`${dir}/ipam.json`);
  };
  await using t = await startTestDaemon({ prepare, checkpoint: dirFor });
  equal(held.length, 3);
  equal(await addIp(t.client, "ref-1"), held[1]);
  const fresh = await addIp(t.client, "new-1");
  notEqual(fresh, held[1]);
});

Deno.test("ipamd refuses to start over a corrupt checkpoint and keeps the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-ipamd-" });
  try {
    await Deno.writeTextFile(`${dir}/ipam.json`, '{"version":"vpc-cni-ipam/1","allocations":[{"networkN');
    await rejects(
      startTestDaemon({ checkpoint: () => new FileCheckpointStore(`${dir}/ipam.json`) }),
      /Cannot load checkpoint/,
    );
    equal(
      await Deno.readTextFile(`${dir}/ipam.json`),
      '{"version":"vpc-cni-ipam/1","allocations":[{"networkN',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A checkpoint store whose writes wait for `open()` while held. */
class GatedStore extends MemoryCheckpointStore {
  #gate: PromiseWithResolvers<void> | null = null;
  /** Writes waiting at the gate. */
  parked = 0;
  hold(): void {
    this.#gate = Promise.withResolvers<void>();
  }
  open(): void {
    this.#gate?.resolve();
    this.#gate = null;
  }
  override async save(data: Parameters<MemoryCheckpointStore["save"]>[0]): Promise<void> {
    if (this.#gate !== null) {
      this.parked++;
      await this.#gate.promise;
      this.parked--;
    }
    return super.save(data);
  }
}

/** The daemon's `awscni_add_ip_req_count`: AddNetwork calls that reached it. */
async function addRequests(daemon: Daemon): Promise<number> {
  const line = (await daemon.ops.metrics.render()).split("\n").find((l) =>
    l.startsWith("awscni_add_ip_req_count ")
  );
  return Number(line?.split(" ")[1] ?? 0);
}

Deno.test("ipamd acknowledges a repeated ADD only once the first one's checkpoint write is done", async () => {
  let store: GatedStore | undefined;
  const lines: string[] = [];
  const log = createLogger((line) => void lines.push(line), { level: "info" });
  await using t = await startTestDaemon({ checkpoint: () => (store = new GatedStore()), log });
  store!.hold();
  let firstDone = false, secondDone = false;
  const first = t.client.addNetwork(addRequest("slow"), DEADLINE).then((r) => (firstDone = true, r));
  await waitFor(() => store!.parked === 1, 10_000);
  // A second client, as a second plugin run: the plugin's client makes one call at a time.
  await using other = new IpamdClient(`${t.dir}/ipamd.sock`);
  const second = other.addNetwork(addRequest("slow"), DEADLINE).then((r) => (secondDone = true, r));
  try {
    await waitFor(async () => await addRequests(t.daemon) === 2, 10_000);
    // The second ADD is in the daemon and everything it could do without the write has run.
    equal(lines.some((line) => line.includes("address already assigned")), false, "the repeated ADD waits");
    equal(firstDone || secondDone, false, "no reply before the write is on disk");
  } finally {
    store!.open();
  }
  deepStrictEqual((await second).ipAllocations, (await first).ipAllocations);
  ok(lines.some((line) => line.includes("address already assigned")));
});

Deno.test("ipamd reports through the aws-cni.pool health service when the pool is empty and cannot grow", async () => {
  await using t = await startTestDaemon({ env: { MAX_ENI: "1", ADD_WAIT_TIMEOUT: "1" } });
  const pool = { ...DEADLINE, service: "aws-cni.pool" };
  equal(await t.client.healthCheck(pool), ServingStatus.SERVING);
  for (let i = 0; i < 3; i++) await addIp(t.client, `fill-${i}`);
  await t.daemon.pool.reconciler.pass();
  equal(await t.client.healthCheck(pool), ServingStatus.NOT_SERVING);
  await t.client.delNetwork(delRequest("fill-0"), DEADLINE);
  equal(
    await t.client.healthCheck(pool),
    ServingStatus.NOT_SERVING,
    "a cooling address cannot be handed out",
  );
});

Deno.test("ipamd applies the releases the plugin queued while it was down, then empties the queue", async () => {
  let held: readonly string[] = [];
  const prepare = (sim: Ec2Simulation, eniId: string) => {
    held = sim.assignPrivateIpAddresses({ networkInterfaceId: eniId, secondaryPrivateIpAddressCount: 2 })
      .assignedPrivateIpAddresses;
  };
  const before = (dir: string) => {
    const allocations = ["gone", "kept"].map((id, i) => ({
      networkName: "aws-cni",
      containerID: id,
      ifName: "eth0",
      ipv4: held[i],
      allocationTimestamp: 1,
      metadata: { k8sPodNamespace: "default", k8sPodName: id },
    }));
    Deno.writeTextFileSync(`${dir}/ipam.json`, JSON.stringify({ version: "vpc-cni-ipam/1", allocations }));
    const line = { v: 1, queuedAt: Date.now(), ipv4Addrs: [held[0]], request: delRequest("gone") };
    Deno.writeTextFileSync(`${dir}/pending-releases.jsonl`, JSON.stringify(line) + "\n");
  };
  await using t = await startTestDaemon({ prepare, before });
  deepStrictEqual(t.daemon.pool.datastore.allocations().map((a) => a.key.containerId), ["kept"]);
  equal(await Deno.readTextFile(`${t.dir}/pending-releases.jsonl`), "");
  const saved = JSON.parse(await Deno.readTextFile(`${t.dir}/ipam.json`));
  deepStrictEqual(saved.allocations.map((a: { containerID: string }) => a.containerID), ["kept"]);
});

Deno.test("ipamd cancels a waiting ADD when its DEL arrives first, so no address goes to a deleted pod", async () => {
  await using t = await startTestDaemon({ env: { MAX_ENI: "1", ADD_WAIT_TIMEOUT: "5" } });
  for (let i = 0; i < 3; i++) await addIp(t.client, `busy-${i}`);
  const waiting = t.client.addNetwork(addRequest("late"), DEADLINE);
  await waitFor(() => t.daemon.pool.queue.waiting === 1, 10_000);
  // A second client: the plugin's client makes one call at a time, and this DEL must not wait for the ADD.
  await using other = new IpamdClient(`${t.dir}/ipamd.sock`);
  await other.delNetwork(delRequest("late"), DEADLINE);
  await rejects(waiting, (error: unknown) => {
    ok(error instanceof RpcCallError);
    equal(error.code, Status.ABORTED);
    return true;
  });
  await t.client.delNetwork(delRequest("busy-0"), DEADLINE);
  equal(t.daemon.pool.datastore.allocations().some((a) => a.key.containerId === "late"), false);
});

Deno.test("ipamd fails a DEL whose checkpoint write fails and keeps the allocation", async () => {
  let store: MemoryCheckpointStore | undefined;
  await using t = await startTestDaemon({ checkpoint: () => (store = new MemoryCheckpointStore()) });
  const ip = await addIp(t.client, "kept");
  store!.failNextSave();
  await rejects(t.client.delNetwork(delRequest("kept"), DEADLINE), (error: unknown) => {
    ok(error instanceof RpcCallError);
    equal(error.code, Status.UNAVAILABLE);
    return true;
  });
  equal(t.daemon.pool.datastore.get({ networkName: "aws-cni", containerId: "kept", ifName: "eth0" })?.ip, ip);
  ok(store!.text?.includes(ip), "the checkpoint still holds it");
  equal((await t.client.delNetwork(delRequest("kept"), DEADLINE)).ipAllocations[0]?.ipv4Addr, ip);
  const saved = JSON.parse(store!.text ?? "{}");
  deepStrictEqual(saved.allocations, [], "and a DEL that could be written released it");
  deepStrictEqual(saved.cooldowns.map((c: { ipv4: string }) => c.ipv4), [ip]);
});
