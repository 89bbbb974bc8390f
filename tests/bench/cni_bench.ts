/**
 * CNI ADD and DEL latency for a warm-pool hit, exec'd as a runtime does, with
 * its references measured in the same run, alternating: `dist/aws-cni`
 * against the real ipamd (`dist/aws-cni --daemon` against the simulated
 * cloud, warm pool filled first), Debian's Go `ptp` with `host-local` IPAM
 * from /usr/lib/cni, and the start of an empty Deno script run the way the
 * plugin runs (the same Deno, flags, environment and stdin), so the plugin's
 * own cost can be read apart from Deno's start. The node is a test node
 * (testing/node.ts): ipamd and the plugin use their default socket and logs.
 * Run as root after `make build`:
 * `deno run -A tests/bench/cni_bench.ts` (`BENCH_PODS`, `BENCH_ROUNDS`).
 * Aims: our ADD median less the empty script's start ≤ 1.5× Go's ADD median;
 * our DEL median ≤ 2.5× Go's.
 */
import { createTempDir, type Netns } from "../../testing/netns.ts";
import { AWS_CNI as PLUGIN, pluginEnv, startNode, type TestNode } from "../../testing/node.ts";

const PODS = Number(Deno.env.get("BENCH_PODS") ?? "20");
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? "3");
const GO_PTP = "/usr/lib/cni/ptp";
/** Our ADD less the empty script's start, over Go's ADD. */
const ADD_AIM = 1.5;
/** Our DEL over Go's DEL. */
const DEL_AIM = 2.5;

/** Minimum, median and maximum of a sample, in ms. */
export interface Stats {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

/** What one run measured. */
export interface CniBench {
  readonly ours: { readonly add: Stats; readonly del: Stats };
  readonly go: { readonly add: Stats; readonly del: Stats };
  /** An empty script started like the plugin. */
  readonly start: Stats;
  /** The two ratios of the aims, per round. */
  readonly rounds: readonly { readonly add: number; readonly del: number }[];
}

function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted.at(-1)! };
}

/** `(ours ADD median - start median) / Go's ADD median` and `ours DEL median / Go's DEL median`. */
function ratios(ours: { add: Stats; del: Stats }, go: { add: Stats; del: Stats }, start: Stats) {
  return { add: (ours.add.median - start.median) / go.add.median, del: ours.del.median / go.del.median };
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

/**
 * A launcher that runs an empty script exactly as `dist/aws-cni` (a launcher
 * here: `deno compile` cannot get its runtime) runs the plugin's bundle.
 */
async function emptyScriptLauncher(dir: string): Promise<string> {
  const launcher = await Deno.readTextFile(PLUGIN);
  const bundle = new URL("../../dist/bin/main.js", import.meta.url).pathname;
  if (!launcher.startsWith("#!/bin/sh") || !launcher.includes(`'${bundle}'`)) {
    throw new Error(`${PLUGIN} is not the launcher script: no empty-script reference to compare with`);
  }
  await Deno.writeTextFile(`${dir}/empty.js`, "");
  const path = `${dir}/empty-start`;
  await Deno.writeTextFile(path, launcher.replace(`'${bundle}'`, `'${dir}/empty.js'`), { mode: 0o755 });
  return path;
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

/** One plugin under test: its program, netconf and pod namespaces. */
interface Subject {
  readonly program: string;
  readonly netconf: Record<string, unknown>;
  readonly pods: readonly Netns[];
  readonly results: unknown[];
  readonly add: number[];
  readonly del: number[];
}

function cniEnv(command: string, pod: Netns, i: number): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: `bench${i}`,
    CNI_NETNS: pod.path,
    CNI_IFNAME: "eth0",
    CNI_PATH: "/usr/lib/cni",
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=pod${i}`,
  };
}

/** Runs both plugins and the empty script, alternating pod by pod, for `ROUNDS` rounds. */
export async function benchCni(): Promise<CniBench> {
  // Go's host-local keeps its state here, beside the empty-script launcher.
  await using dir = await createTempDir("aws-cni-bench-");
  const emptyStart = await emptyScriptLauncher(dir.path);
  await using node = await startNode({
    label: "bench-node",
    cloud: { instanceType: "m5.2xlarge" },
    env: { AWS_VPC_K8S_CNI_LOGLEVEL: "ERROR", WARM_IP_TARGET: String(PODS + 5), DISABLE_METRICS: "true" },
  });
  // The pods' namespaces go with the node.
  const podsFor = async (label: string) => {
    const pods = [];
    for (let i = 0; i < PODS; i++) pods.push(await node.pod(`${label}${i}`));
    return pods;
  };
  const subject = async (
    program: string,
    label: string,
    netconf: Record<string, unknown>,
  ): Promise<Subject> => ({
    program,
    netconf,
    pods: await podsFor(label),
    results: [],
    add: [],
    del: [],
  });
  const ours = await subject(PLUGIN, "bench-ours", {
    cniVersion: "1.0.0",
    name: "aws-cni",
    type: "aws-cni",
    // The defaults (cni/netconf.ts), named: the only socket and log the plugin may use.
    ipamdSocket: "/var/run/aws-node/ipamd.sock",
    pluginLogFile: "/var/log/aws-routed-eni/plugin.log",
    pluginLogLevel: "error",
  });
  const go = await subject(GO_PTP, "bench-go", {
    cniVersion: "1.0.0",
    name: "bench",
    type: "ptp",
    ipam: { type: "host-local", subnet: "10.99.0.0/16", dataDir: `${dir.path}/host-local` },
  });
  const start: number[] = [];
  const rounds: { add: number; del: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await warmPool(node, PODS);
    const from = { ours: ours.add.length, go: go.add.length, start: start.length };
    const emptyRun = async (i: number) => {
      const stdin = JSON.stringify(ours.netconf);
      start.push((await timed(node.netns, emptyStart, cniEnv("ADD", ours.pods[i]!, i), stdin)).ms);
    };
    for (let i = 0; i < PODS; i++) {
      for (const s of [ours, go]) {
        const { ms, stdout } = await timed(
          node.netns,
          s.program,
          cniEnv("ADD", s.pods[i]!, i),
          JSON.stringify(s.netconf),
        );
        s.add.push(ms);
        s.results[i] = JSON.parse(stdout);
      }
      await emptyRun(i);
    }
    // DEL gets the ADD's result as prevResult, as libcni (containerd, CRI-O) passes it from its cache.
    for (let i = 0; i < PODS; i++) {
      for (const s of [ours, go]) {
        const conf = JSON.stringify({ ...s.netconf, prevResult: s.results[i] });
        s.del.push((await timed(node.netns, s.program, cniEnv("DEL", s.pods[i]!, i), conf)).ms);
      }
      await emptyRun(i);
    }
    rounds.push(ratios(
      { add: stats(ours.add.slice(from.ours)), del: stats(ours.del.slice(from.ours)) },
      { add: stats(go.add.slice(from.go)), del: stats(go.del.slice(from.go)) },
      stats(start.slice(from.start)),
    ));
  }
  return {
    ours: { add: stats(ours.add), del: stats(ours.del) },
    go: { add: stats(go.add), del: stats(go.del) },
    start: stats(start),
    rounds,
  };
}

if (import.meta.main) {
  const { ours, go, start, rounds } = await benchCni();
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const row = (name: string, s: Stats) => `| ${name} | ${ms(s.min)} | ${ms(s.median)} | ${ms(s.max)} |`;
  const r = ratios(ours, go, start);
  const verdict = (value: number, aim: number) => value <= aim ? "met" : "missed";
  const range = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}×`;
  const text = [
    `CNI latency, warm-pool hit, ${PODS} pods × ${ROUNDS} rounds, alternating, exec'd inside the node namespace`,
    "",
    "| run | min | median | max |",
    "|---|---|---|---|",
    row("aws-cni ADD", ours.add),
    row("Go ptp + host-local ADD", go.add),
    row("aws-cni DEL", ours.del),
    row("Go ptp + host-local DEL", go.del),
    row("empty Deno script, started as the plugin is", start),
    "",
    `ADD median less the empty script's start: ${r.add.toFixed(2)}× Go's ADD median ` +
    `(aim ≤ ${ADD_AIM}×, ${verdict(r.add, ADD_AIM)}; rounds ${range(rounds.map((x) => x.add))})`,
    `DEL median: ${r.del.toFixed(2)}× Go's DEL median ` +
    `(aim ≤ ${DEL_AIM}×, ${verdict(r.del, DEL_AIM)}; rounds ${range(rounds.map((x) => x.del))})`,
  ].join("\n");
  Deno.stdout.writeSync(new TextEncoder().encode(text + "\n"));
}
