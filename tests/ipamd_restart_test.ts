/**
 * ipamd as a process (`dist/aws-cni --daemon` on a test node, against the
 * simulated cloud of a c5.4xlarge), killed with SIGKILL in the middle of an
 * ADD/DEL storm and started again over the same checkpoint and the same cloud,
 * which outlives it as EC2 does.
 */
import { equal, ok } from "node:assert/strict";
import { IpamdClient } from "../cni/rpc/client.ts";
import { addRequest, delRequest } from "../testing/ipamd_requests.ts";
import { nodesReady, startNode } from "../testing/node.ts";
import { waitFor } from "../testing/rpc_sockets.ts";

const ready = await nodesReady();

interface Saved {
  allocations: { containerID: string; ipv4: string }[];
  cooldowns?: { ipv4: string }[];
}

Deno.test("ipamd killed with SIGKILL mid-storm restarts without losing or doubling an address", {
  ignore: !ready,
}, async () => {
  // One node for both daemons: the second starts over the first one's checkpoint and cloud.
  await using node = await startNode({ label: "restart", cloud: { instanceType: "c5.4xlarge" } });
  const paths = {
    socket: node.outside(node.paths.socket),
    checkpoint: node.outside(node.paths.checkpoint),
  };
  const client = new IpamdClient(paths.socket);
  // One client per worker: each makes one call at a time, so the storm keeps 8 calls in flight.
  const clients = Array.from({ length: 8 }, () => new IpamdClient(paths.socket));
  try {
    const acked = new Map<string, string>();
    const releasedAt = new Map<string, number>();
    const uncertain = new Set<string>();
    let stop = false;
    let operations = 0;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        // Each worker owns its keys, so every reply says what happened to its key.
        const key = `storm-${w}-${i % 8}`;
        if (uncertain.has(key)) continue;
        const held = acked.get(key);
        try {
          if (held === undefined) {
            const reply = await clients[w]!.addNetwork(addRequest(key), { deadlineMs: 5_000 });
            acked.set(key, reply.ipAllocations[0]!.ipv4Addr);
          } else {
            await clients[w]!.delNetwork(delRequest(key), { deadlineMs: 5_000 });
            acked.delete(key);
            releasedAt.set(held, Date.now());
          }
          operations++;
        } catch {
          // The daemon died with this call in flight: either outcome is allowed.
          uncertain.add(key);
          acked.delete(key);
          return;
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    // Kill mid-storm: once some releases are acknowledged (their cooldowns must survive) and more are under way.
    await waitFor(() => operations > 60 && releasedAt.size > 0, 30_000);
    equal((await node.daemon.kill9())?.signal, "SIGKILL");
    stop = true;
    await Promise.all(workers);
    ok(operations > 50, `the storm ran (${operations} operations)`);

    await node.daemon.start();
    const saved: Saved = JSON.parse(await Deno.readTextFile(paths.checkpoint));
    const byKey = new Map(saved.allocations.map((a) => [a.containerID, a.ipv4]));
    for (const [key, ip] of acked) {
      equal(byKey.get(key), ip, `acknowledged ${key} → ${ip} survives the restart`);
    }
    const ips = saved.allocations.map((a) => a.ipv4);
    equal(new Set(ips).size, ips.length, "no address is held twice");
    const cooling = new Set((saved.cooldowns ?? []).map((c) => c.ipv4));
    const recent = [...releasedAt].filter(([ip]) => !ips.includes(ip)).map(([ip]) => ip);
    ok(recent.length > 0, "some releases happened before the kill");
    for (const ip of recent) ok(cooling.has(ip), `cooldown of ${ip} survives the restart`);

    for (const [key, ip] of acked) {
      const reply = await client.addNetwork(addRequest(key), { deadlineMs: 5_000 });
      equal(reply.ipAllocations[0]!.ipv4Addr, ip);
    }
    const fresh = await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => client.addNetwork(addRequest(`after-${i}`), { deadlineMs: 10_000 }),
      ),
    );
    for (const reply of fresh) {
      const ip = reply.ipAllocations[0]!.ipv4Addr;
      ok(!ips.includes(ip) && !cooling.has(ip), `a new pod gets ${ip}, which is neither held nor cooling`);
    }

    equal((await node.daemon.stop()).code, 0);
    await Deno.stat(paths.socket).then(() => ok(false, "the socket is removed at shutdown"), () => {});
  } finally {
    await Promise.all([client, ...clients].map((c) => c.close()));
  }
});
