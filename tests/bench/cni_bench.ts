/**
 * CNI ADD and DEL latency for a warm-pool hit, exec'd as a runtime does, in one
 * run and one namespace setup: `dist/aws-cni` against the real ipamd
 * (`dist/aws-cni --daemon` against the simulated cloud, warm pool filled first),
 * and Debian's Go `ptp` with `host-local` IPAM from /usr/lib/cni. The node is a
 * test node (testing/node.ts): ipamd and the plugin use their default socket and logs.
 * Run as root after `make build`:
 * `deno run -A tests/bench/cni_bench.ts`. Aims: our ADD median ≤ 3× Go's, DEL ≤ 2×.
 */
import { createNetns, createTempDir, type Netns } from "../../testing/netns.ts";
import { AWS_CNI as PLUGIN, pluginEnv, startNode, type TestNode } from "../../testing/node.ts";

const PODS = Number(Deno.env.get("BENCH_PODS") ?? "20");
const GO_PTP = "/usr/lib/cni/ptp";

interface Stats {
  min: number;
  median: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted.at(-1)! };
}

async function timed(
  node: Netns,
  program: string,
  env: Record<string, string>,
  stdin: string,
): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  const result = await node.exec(program, [], { stdin, env: pluginEnv(env), clearEnv: true });
  const ms = performance.now() - started;
  if (result.code !== 0) {
    throw new Error(`${program} ${env.CNI_COMMAND} failed: ${result.stdout}${result.stderr}`);
  }
  return { ms, stdout: result.stdout };
}

async function measure(
  node: Netns,
  pods: Netns[],
  program: string,
  netconf: Record<string, unknown>,
  cniPath: string,
): Promise<{ add: Stats; del: Stats }> {
  const add: number[] = [];
  const del: number[] = [];
  const env = (command: string, i: number) => ({
    CNI_COMMAND: command,
    CNI_CONTAINERID: `bench${i}`,
    CNI_NETNS: pods[i]!.path,
    CNI_IFNAME: "eth0",
    CNI_PATH: cniPath,
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=pod${i}`,
  });
  const results: unknown[] = [];
  for (let i = 0; i < pods.length; i++) {
    const { ms, stdout } = await timed(node, program, env("ADD", i), JSON.stringify(netconf));
    add.push(ms);
    results.push(JSON.parse(stdout));
  }
  // DEL gets the ADD's result as prevResult, as libcni (containerd, CRI-O) passes it from its cache.
  for (let i = 0; i < pods.length; i++) {
    const conf = JSON.stringify({ ...netconf, prevResult: results[i] });
    del.push((await timed(node, program, env("DEL", i), conf)).ms);
  }
  return { add: stats(add), del: stats(del) };
}

/** Waits until ipamd has settled with at least `free` addresses free: every ADD measured is a warm-pool hit. */
async function warmPool(node: TestNode, free: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const report = await node.settled();
    if (report.pool.free >= free) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the warm pool never reached ${free} free addresses`);
}

/** Runs both plugins; returns their statistics in ms. */
export async function benchCni(): Promise<
  { ours: { add: Stats; del: Stats }; go: { add: Stats; del: Stats } }
> {
  await using node = await startNode({
    label: "bench-node",
    cloud: { instanceType: "m5.2xlarge" },
    env: { AWS_VPC_K8S_CNI_LOGLEVEL: "ERROR", WARM_IP_TARGET: String(PODS + 5), DISABLE_METRICS: "true" },
  });
  // Only Go's host-local keeps its state here.
  await using dir = await createTempDir("aws-cni-bench-");
  const pods: Netns[] = [];
  try {
    for (let i = 0; i < PODS; i++) pods.push(await createNetns(`bench-pod${i}`));
    await warmPool(node, PODS);
    const ours = await measure(node.netns, pods, PLUGIN, {
      cniVersion: "1.0.0",
      name: "aws-cni",
      type: "aws-cni",
      // The defaults (cni/netconf.ts), named: the only socket and log the plugin may use.
      ipamdSocket: "/var/run/aws-node/ipamd.sock",
      pluginLogFile: "/var/log/aws-routed-eni/plugin.log",
      pluginLogLevel: "error",
    }, "/usr/lib/cni");
    const go = await measure(node.netns, pods, GO_PTP, {
      cniVersion: "1.0.0",
      name: "bench",
      type: "ptp",
      ipam: { type: "host-local", subnet: "10.99.0.0/16", dataDir: `${dir.path}/host-local` },
    }, "/usr/lib/cni");
    return { ours, go };
  } finally {
    for (const pod of pods) await pod[Symbol.asyncDispose]();
  }
}

if (import.meta.main) {
  const { ours, go } = await benchCni();
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const row = (name: string, s: Stats) => `| ${name} | ${ms(s.min)} | ${ms(s.median)} | ${ms(s.max)} |`;
  const text = [
    `CNI latency, warm-pool hit, ${PODS} pods, exec'd inside the node namespace as a runtime does`,
    "",
    "| plugin, command | min | median | max |",
    "|---|---|---|---|",
    row("aws-cni ADD", ours.add),
    row("Go ptp + host-local ADD", go.add),
    row("aws-cni DEL", ours.del),
    row("Go ptp + host-local DEL", go.del),
    "",
    `ADD median ratio ${(ours.add.median / go.add.median).toFixed(2)}× (aim ≤ 3×); ` +
    `DEL median ratio ${(ours.del.median / go.del.median).toFixed(2)}× (aim ≤ 2×)`,
  ].join("\n");
  Deno.stdout.writeSync(new TextEncoder().encode(text + "\n"));
}
