/**
 * ipamd through what a node asks of it, with its memory: `dist/aws-cni --daemon`
 * on a test node (testing/node.ts, so as root) against the simulated cloud of a
 * c5.18xlarge, a process of its own, with its default socket and checkpoint.
 * After the warm pool has filled, the daemon takes, in order:
 *
 * 1. 250 allocations, held to the end;
 * 2. a burst of 4,000 AddNetwork+DelNetwork pairs from 16 clients calling back
 *    to back (saturated throughput, and pair latency under saturation);
 * 3. 110 concurrent AddNetwork calls on the warm pool, as 110 plugins starting
 *    at once: the plugin's own client (cni/rpc), one connection each, opened
 *    beforehand as the plugin opens it before its first call (RPC latency),
 *    then their DelNetwork calls;
 * 4. churn at 2 pairs per second for 2 minutes (BENCH_CHURN_SECONDS), the pace of
 *    a busy node.
 *
 * The daemon's resident memory is sampled from /proc/<pid>/status (VmRSS, every
 * 100 ms, and VmHWM, its high-water mark since it started) of the daemon process
 * itself: the launcher script execs Deno, so the pid is Deno's. References from
 * the same run: bare health checks per second from the same 16 clients (the
 * server's ceiling), 110 bare health checks at once on the connections of the
 * 110 ADDs (the server's floor for them), and the resident memory of a script
 * that only waits, run by the same Deno with the V8 flags and malloc settings
 * the binary carries (shared/runtime_tuning.ts). The other clients are grpc-js.
 * All run in this process, which shares the machine's cores with the daemon.
 *
 * Run: `deno run -A tests/bench/ipamd_rpc_bench.ts` after `make build`.
 * Aims: peak RSS ≤ 100 MB (stretch ≤ 80 MB), the 110-ADD burst's p99 ≤ 50 ms,
 * saturated throughput ≥ 500 pairs/s.
 */
import { addRequest, delRequest } from "../../testing/ipamd_requests.ts";
import { startNode } from "../../testing/node.ts";
import { GrpcJsClient } from "../../testing/rpc_server_fixture.ts";
import { IpamdClient } from "../../cni/rpc/client.ts";
import { MALLOC_ENV, V8_FLAGS } from "../../shared/runtime_tuning.ts";

const CLIENTS = 16;
const HELD = 250;
const BURST_PAIRS = 4_000;
const CONCURRENT_ADDS = 110;
const CHURN_SECONDS = Number(Deno.env.get("BENCH_CHURN_SECONDS") ?? "120");
const CHURN_PAIRS_PER_SECOND = 2;
const SAMPLE_MS = 100;

/** Resident memory of a process, in MB. */
interface Memory {
  readonly rssMb: number;
  readonly hwmMb: number;
}

async function memory(pid: number): Promise<Memory> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const mb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rssMb: mb("VmRSS"), hwmMb: mb("VmHWM") };
}

/** The highest VmRSS seen while `work` runs, sampled every SAMPLE_MS. */
async function peakDuring<T>(pid: number, work: () => Promise<T>): Promise<{ value: T; peakMb: number }> {
  let peakMb = (await memory(pid)).rssMb;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peakMb = Math.max(peakMb, (await memory(pid)).rssMb);
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
  })();
  try {
    const value = await work();
    return { value, peakMb: Math.max(peakMb, (await memory(pid)).rssMb) };
  } finally {
    running = false;
    await sampler;
  }
}

/** CPU time the process has used (user + system), in ms; /proc counts it in clock ticks of 10 ms. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function latencies(samples: number[]): { p50: number; p99: number; max: number } {
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples.at(-1) ?? NaN };
}

/** Resident memory of a script that only waits, run by this Deno with the binary's V8 flags and malloc settings. */
async function waitingScriptMb(): Promise<number> {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/wait.js`;
    await Deno.writeTextFile(script, "setTimeout(() => {}, 60_000);\n");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-config",
        ...(V8_FLAGS.length > 0 ? [`--v8-flags=${V8_FLAGS.join(",")}`] : []),
        script,
      ],
      env: { ...MALLOC_ENV, DENO_NO_UPDATE_CHECK: "1" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return (await memory(child.pid)).rssMb;
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** What the benchmark measured. */
export interface IpamdBench {
  readonly daemonExe: string;
  readonly waitingScriptMb: number;
  readonly startHwmMb: number;
  readonly idleMb: number;
  readonly heldMb: number;
  readonly healthPerSecond: number;
  readonly burst: {
    pairsPerSecond: number;
    cpuMsPerPair: number;
    p50: number;
    p99: number;
    peakMb: number;
    afterMb: number;
  };
  readonly concurrent: {
    p50: number;
    p99: number;
    max: number;
    peakMb: number;
    healthP99: number;
    cpuMs: number;
  };
  readonly churn: { p50: number; p99: number; peakMb: number; endMb: number };
  readonly hwmMb: number;
}

export async function benchIpamd(): Promise<IpamdBench> {
  await using node = await startNode({
    label: "bench",
    cloud: { instanceType: "c5.18xlarge", attachLatencyMs: 20, detachLatencyMs: 20 },
    env: {
      AWS_VPC_K8S_CNI_LOGLEVEL: "ERROR",
      // Room for the 250 held, the 110 concurrent ADDs and the burst's pairs.
      WARM_IP_TARGET: "300",
      // Every pair reuses addresses at once: this measures the RPC, datastore and checkpoint path.
      IP_COOLDOWN_PERIOD: "0",
    },
  });
  const socket = node.outside(node.paths.socket);
  const pid = node.daemon.pid!;
  const daemonExe = await Deno.readLink(`/proc/${pid}/exe`);
  const startHwmMb = (await memory(pid)).hwmMb;
  const clients = Array.from({ length: CLIENTS }, () => new GrpcJsClient(socket));
  const concurrent = Array.from({ length: CONCURRENT_ADDS }, () => new IpamdClient(socket));
  try {
    // The warm pool fills (the first ADD succeeds once an ENI is attached), then settles.
    for (let i = 0; i < 200; i++) {
      const probe = await clients[0]!.addNetwork(addRequest("warmup"), 20_000);
      await clients[0]!.delNetwork(delRequest("warmup"), 5_000);
      if (probe.success) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await node.settled(120_000);
    const idleMb = (await memory(pid)).rssMb;

    const healthUntil = performance.now() + 2_000;
    const healthStarted = performance.now();
    let healthChecks = 0;
    await Promise.all(clients.map(async (client) => {
      while (performance.now() < healthUntil) {
        await client.check("", 10_000);
        healthChecks++;
      }
    }));
    const healthPerSecond = healthChecks / ((performance.now() - healthStarted) / 1000);

    const held = await Promise.all(
      Array.from(
        { length: HELD },
        (_, i) => clients[i % CLIENTS]!.addNetwork(addRequest(`held-${i}`), 20_000),
      ),
    );
    if (!held.every((reply) => reply.success)) throw new Error("ipamd refused an ADD of the 250 held");
    const heldMb = (await memory(pid)).rssMb;

    const pairLatencies: number[] = [];
    const burstCpuStarted = await cpuMs(pid);
    const burstStarted = performance.now();
    const burst = await peakDuring(pid, () =>
      Promise.all(clients.map(async (client, c) => {
        for (let i = 0; i < BURST_PAIRS / CLIENTS; i++) {
          const id = `burst-${c}-${i}`;
          const t0 = performance.now();
          await client.addNetwork(addRequest(id), 10_000);
          await client.delNetwork(delRequest(id), 10_000);
          pairLatencies.push(performance.now() - t0);
        }
      })));
    const burstSeconds = (performance.now() - burstStarted) / 1000;
    const burstCpuMs = (await cpuMs(pid)) - burstCpuStarted;
    const pairs = latencies(pairLatencies);
    const afterBurstMb = (await memory(pid)).rssMb;

    await Promise.all(concurrent.map((client) => client.connect()));
    // The same-run reference: bare health checks, at once, on the connections the ADDs will use.
    const healthLatencies: number[] = [];
    await Promise.all(concurrent.map(async (client) => {
      const t0 = performance.now();
      await client.healthCheck({ deadlineMs: 10_000 });
      healthLatencies.push(performance.now() - t0);
    }));
    const checks = latencies(healthLatencies);
    const addLatencies: number[] = [];
    const concurrentCpuStarted = await cpuMs(pid);
    const burst110 = await peakDuring(pid, () =>
      Promise.all(concurrent.map(async (client, i) => {
        const t0 = performance.now();
        const reply = await client.addNetwork(addRequest(`concurrent-${i}`), { deadlineMs: 10_000 });
        addLatencies.push(performance.now() - t0);
        if (!reply.success) throw new Error("ipamd refused one of the concurrent ADDs: is the pool warm?");
      })));
    const concurrentCpuMs = (await cpuMs(pid)) - concurrentCpuStarted;
    await Promise.all(
      concurrent.map((client, i) => client.delNetwork(delRequest(`concurrent-${i}`), { deadlineMs: 10_000 })),
    );
    const adds = latencies(addLatencies);

    const churnLatencies: number[] = [];
    const churn = await peakDuring(pid, async () => {
      const started = performance.now();
      const total = CHURN_SECONDS * CHURN_PAIRS_PER_SECOND;
      const pending: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        const due = started + (i * 1000) / CHURN_PAIRS_PER_SECOND;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
        const client = clients[i % CLIENTS]!;
        pending.push((async () => {
          const id = `churn-${i}`;
          const t0 = performance.now();
          await client.addNetwork(addRequest(id), 10_000);
          await client.delNetwork(delRequest(id), 10_000);
          churnLatencies.push(performance.now() - t0);
        })());
      }
      await Promise.all(pending);
    });
    const churned = latencies(churnLatencies);
    const end = await memory(pid);
    return {
      daemonExe,
      waitingScriptMb: await waitingScriptMb(),
      startHwmMb,
      idleMb,
      heldMb,
      healthPerSecond,
      burst: {
        pairsPerSecond: BURST_PAIRS / burstSeconds,
        cpuMsPerPair: burstCpuMs / BURST_PAIRS,
        p50: pairs.p50,
        p99: pairs.p99,
        peakMb: burst.peakMb,
        afterMb: afterBurstMb,
      },
      concurrent: { ...adds, peakMb: burst110.peakMb, healthP99: checks.p99, cpuMs: concurrentCpuMs },
      churn: { p50: churned.p50, p99: churned.p99, peakMb: churn.peakMb, endMb: end.rssMb },
      hwmMb: end.hwmMb,
    };
  } finally {
    for (const client of clients) client[Symbol.dispose]();
    await Promise.all(concurrent.map((client) => client.close()));
  }
}

if (import.meta.main) {
  const r = await benchIpamd();
  const mb = (value: number) => `${value.toFixed(1)} MB`;
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const peak = Math.max(r.hwmMb, r.burst.peakMb, r.concurrent.peakMb, r.churn.peakMb);
  const met = (ok: boolean) => ok ? "met" : "MISSED";
  const line = (name: string, value: string, aim = "") => `| ${name} | ${value} | ${aim} |`;
  const text = [
    `ipamd on a c5.18xlarge node (${r.daemonExe}); V8 flags ${V8_FLAGS.join(" ")}; ` +
    Object.entries(MALLOC_ENV).map(([name, value]) => `${name}=${value}`).join(" "),
    "",
    "| measure | value | aim |",
    "|---|---|---|",
    line("RSS of a script that only waits (same Deno, flags and malloc settings)", mb(r.waitingScriptMb)),
    line("daemon VmHWM once serving (start-up)", mb(r.startHwmMb)),
    line("daemon RSS at idle, pool warm", mb(r.idleMb)),
    line(`daemon RSS holding ${HELD} allocations`, mb(r.heldMb)),
    line(`peak RSS in the burst of ${BURST_PAIRS} pairs`, mb(r.burst.peakMb)),
    line("RSS after the burst", mb(r.burst.afterMb)),
    line(`peak RSS in the ${CONCURRENT_ADDS} concurrent ADDs`, mb(r.concurrent.peakMb)),
    line(`peak RSS in ${CHURN_SECONDS} s of churn at ${CHURN_PAIRS_PER_SECOND} pairs/s`, mb(r.churn.peakMb)),
    line("RSS at the end", mb(r.churn.endMb)),
    line("daemon VmHWM at the end", mb(r.hwmMb)),
    line(
      "peak RSS (all of the above)",
      mb(peak),
      `≤ 100 MB (${met(peak <= 100)}); stretch ≤ 80 MB (${met(peak <= 80)})`,
    ),
    line(
      "bare health checks per second (the server's ceiling; a pair is 2 calls)",
      r.healthPerSecond.toFixed(0),
    ),
    line(
      `saturated ADD+DEL pairs per second (${CLIENTS} clients)`,
      r.burst.pairsPerSecond.toFixed(0),
      `≥ 500 (${met(r.burst.pairsPerSecond >= 500)})`,
    ),
    line("daemon CPU per pair in the burst (user + system)", ms(r.burst.cpuMsPerPair)),
    line("saturated pair latency p50 / p99", `${ms(r.burst.p50)} / ${ms(r.burst.p99)}`),
    line(
      `${CONCURRENT_ADDS} concurrent ADDs: RPC latency p50 / p99 / max`,
      `${ms(r.concurrent.p50)} / ${ms(r.concurrent.p99)} / ${ms(r.concurrent.max)}`,
      `p99 ≤ 50 ms (${met(r.concurrent.p99 <= 50)})`,
    ),
    line(
      `${CONCURRENT_ADDS} concurrent bare health checks on the same connections: p99 (reference)`,
      ms(r.concurrent.healthP99),
    ),
    line(`daemon CPU for the ${CONCURRENT_ADDS} concurrent ADDs (user + system)`, ms(r.concurrent.cpuMs)),
    line("churn pair latency p50 / p99", `${ms(r.churn.p50)} / ${ms(r.churn.p99)}`),
  ].join("\n");
  Deno.stdout.writeSync(new TextEncoder().encode(text + "\n"));
}
