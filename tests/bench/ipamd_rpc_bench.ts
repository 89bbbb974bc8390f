/**
 * ipamd over its socket: AddNetwork+DelNetwork pairs per second and their latency
 * with 16 concurrent clients, and the daemon's resident memory holding 250
 * allocations. The daemon runs on a test node (testing/node.ts, so as root)
 * against the simulated cloud of a c5.18xlarge, with its default socket and
 * checkpoint. The reference in the same run is the
 * server's ceiling: bare health checks per second from the same clients, and
 * its resident memory at idle once the pool is warm.
 * Run: `deno run -A tests/bench/ipamd_rpc_bench.ts` after `make build`.
 * Aims: ≥ 2,000 pairs/s, p99 ≤ 10 ms, RSS ≤ 120 MB.
 */
import { IpamdClient } from "../../cni/rpc/client.ts";
import { addRequest, delRequest } from "../../testing/ipamd_requests.ts";
import { startNode } from "../../testing/node.ts";

const CLIENTS = 16;
const DURATION_MS = Number(Deno.env.get("BENCH_SECONDS") ?? "5") * 1000;
const HELD = 250;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function rssMb(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

export async function benchIpamdRpc(): Promise<Record<string, number>> {
  await using node = await startNode({
    label: "bench",
    cloud: { instanceType: "c5.18xlarge", attachLatencyMs: 20, detachLatencyMs: 20 },
    env: {
      AWS_VPC_K8S_CNI_LOGLEVEL: "ERROR",
      WARM_IP_TARGET: "300",
      // Every pair reuses addresses at once: this measures the RPC, datastore and checkpoint path.
      IP_COOLDOWN_PERIOD: "0",
    },
  });
  const socket = node.outside(node.paths.socket);
  const pid = node.daemon.pid!;
  const clients = Array.from({ length: CLIENTS }, () => new IpamdClient(socket));
  try {
    // Let the warm pool fill so the measurement is of warm-pool hits.
    for (let i = 0; i < 100; i++) {
      const probe = await clients[0]!.addNetwork(addRequest("warmup"), { deadlineMs: 20_000 });
      await clients[0]!.delNetwork(delRequest("warmup"), { deadlineMs: 5_000 });
      if (probe.success) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const idleRssMb = await rssMb(pid);
    const healthUntil = performance.now() + Math.min(DURATION_MS, 2_000);
    const healthStarted = performance.now();
    let healthChecks = 0;
    await Promise.all(clients.map(async (client) => {
      while (performance.now() < healthUntil) {
        await client.healthCheck({ deadlineMs: 10_000 });
        healthChecks++;
      }
    }));
    const healthPerSecond = healthChecks / ((performance.now() - healthStarted) / 1000);
    const latencies: number[] = [];
    const until = performance.now() + DURATION_MS;
    const started = performance.now();
    await Promise.all(clients.map(async (client, c) => {
      for (let i = 0; performance.now() < until; i++) {
        const id = `bench-${c}-${i}`;
        const t0 = performance.now();
        await client.addNetwork(addRequest(id), { deadlineMs: 10_000 });
        await client.delNetwork(delRequest(id), { deadlineMs: 10_000 });
        latencies.push(performance.now() - t0);
      }
    }));
    const elapsedS = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    await Promise.all(
      Array.from({ length: HELD }, (_, i) =>
        clients[i % CLIENTS]!.addNetwork(addRequest(`held-${i}`), {
          deadlineMs: 20_000,
        })),
    );
    return {
      healthPerSecond,
      idleRssMb,
      pairsPerSecond: latencies.length / elapsedS,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      rssMbWith250: await rssMb(pid),
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

if (import.meta.main) {
  const r = await benchIpamdRpc();
  const line = (name: string, value: string, aim: string) => `| ${name} | ${value} | ${aim} |`;
  const text = [
    `ipamd over its socket, ${CLIENTS} concurrent clients, ${DURATION_MS / 1000} s`,
    "",
    "| measure | value | aim |",
    "|---|---|---|",
    line(
      "bare health checks per second (the server's ceiling; a pair is 2 calls)",
      r.healthPerSecond!.toFixed(0),
      "",
    ),
    line("ADD+DEL pairs per second", r.pairsPerSecond!.toFixed(0), "≥ 2,000"),
    line("pair latency p50", `${r.p50Ms!.toFixed(2)} ms`, ""),
    line("pair latency p99", `${r.p99Ms!.toFixed(2)} ms`, "≤ 10 ms"),
    line("daemon RSS at idle, pool warm", `${r.idleRssMb!.toFixed(1)} MB`, ""),
    line("daemon RSS with 250 allocations, after the pairs", `${r.rssMbWith250!.toFixed(1)} MB`, "≤ 120 MB"),
  ].join("\n");
  Deno.stdout.writeSync(new TextEncoder().encode(text + "\n"));
}
