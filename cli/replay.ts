/**
 * `aws-cni replay`: forecasts of a warm-pool policy (ours, or a faithful model of
 * the reference's loop) under a trace or a built-in scenario, on many nodes sharing
 * one simulated EC2 account, in simulated time.
 *
 * @module
 */
import { COMMAND_USAGE } from "./usage.ts";
import { flagErrorText, parseFlags } from "../shared/mod.ts";
import { type Io, refusedAccess } from "../shared/mod.ts";
import { ConfigError } from "../ipamd/config/mod.ts";
import { UnknownInstanceTypeError } from "../ipamd/limits/mod.ts";
import { NODE_FLAG_OPTIONS, resolveNodeFlags, UsageError } from "./node_flags.ts";
import type { LatencyModel } from "../sim/ec2/mod.ts";
import {
  buildReport,
  DEFAULT_TIMING,
  parseLatencyModel,
  parseTrace,
  progressBar,
  renderReport,
  renderSvg,
  type ReplayOptions,
  runReplay,
  scenario,
  type ScenarioName,
  SCENARIOS,
  type TimingModel,
  type Workload,
} from "../sim/replay/mod.ts";

const USAGE = COMMAND_USAGE["replay"];

const STRING_FLAGS = [
  "nodes",
  "pods",
  "policy",
  "trace",
  "scenario",
  "seed",
  "plot",
  "lifetime",
  "duration",
  "attach-latency",
  "detach-latency",
  "imds-lag",
  "call-latency-ms",
  "attach-wait",
];

/** `Io` plus file access. */
export interface ReplayIo extends Io {
  readonly readTextFile?: (path: string) => Promise<string>;
  /** Opens an output file before the simulation runs, so a path it cannot write fails at once; returns its writer. */
  readonly openOutput?: (path: string) => Promise<(text: string) => Promise<void>>;
}

/** Creates `path` (keeping what it holds until the writer runs) and returns a writer that replaces it. */
async function openOutput(path: string): Promise<(text: string) => Promise<void>> {
  (await Deno.open(path, { write: true, create: true })).close();
  return (text) => Deno.writeTextFile(path, text);
}

/** Errors of a file a flag names: a usage error (exit code 2) naming the flag and the path. */
async function withFile<T>(flag: string, path: string, verb: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new UsageError(
        `Cannot ${verb} --${flag} "${path}": ${refusedAccess(error)}: outside what this binary may use`,
      );
    }
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`Cannot ${verb} --${flag} "${path}": ${error.message}`);
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new UsageError(`Cannot ${verb} --${flag} "${path}": it is a directory`);
    }
    throw error;
  }
}

/** Runs `replay` with the given process IO; returns the exit code. */
export async function replayCommand(io: ReplayIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseFlags(io.args, {
      ...NODE_FLAG_OPTIONS,
      ...Object.fromEntries(STRING_FLAGS.map((name) => [name, { type: "string" as const }])),
      json: { type: "boolean" },
      progress: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    io.stderr(`aws-cni replay: ${flagErrorText(error)}\n${USAGE}`);
    return 2;
  }
  if (values.help === true) return io.stdout(USAGE), 0;
  let options: Omit<ReplayOptions, "onProgress">;
  const plot = typeof values.plot === "string" ? values.plot : undefined;
  let writePlot: ((text: string) => Promise<void>) | undefined;
  try {
    options = await resolveOptions(values, io);
    if (plot === "-") writePlot = (text) => Promise.resolve(io.stdout(text));
    else if (plot !== undefined) {
      writePlot = await withFile("plot", plot, "write", () => (io.openOutput ?? openOutput)(plot));
    }
  } catch (error) {
    if (
      error instanceof UsageError || error instanceof ConfigError ||
      error instanceof UnknownInstanceTypeError ||
      error instanceof RangeError || error instanceof TypeError || error instanceof SyntaxError ||
      error instanceof Deno.errors.NotFound
    ) {
      io.stderr(`aws-cni replay: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const bar = values.progress === true || (values.progress === undefined && io.stderrIsTerminal === true)
    ? progressBar(io.stderr, `replay ${options.workload.name} (${options.policy})`)
    : null;
  const result = await runReplay({ ...options, ...(bar ? { onProgress: bar.update } : {}) });
  bar?.done();
  const report = buildReport(result);
  // With --plot -, stdout carries the SVG alone.
  (plot === "-" ? io.stderr : io.stdout)(
    values.json === true ? JSON.stringify(report, null, 2) + "\n" : renderReport(report),
  );
  if (writePlot !== undefined) {
    const title =
      `${report.workload} on ${report.instanceType} × ${report.nodes.length}, policy ${report.policy}`;
    await writePlot(renderSvg(result.samples, title));
  }
  return 0;
}

async function resolveOptions(
  values: Record<string, string | boolean | undefined>,
  io: ReplayIo,
): Promise<Omit<ReplayOptions, "onProgress">> {
  const text = (name: string) => typeof values[name] === "string" ? values[name] as string : undefined;
  const integer = (name: string, min: number) => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    if (!/^[0-9]{1,7}$/.test(raw) || Number(raw) < min) {
      throw new UsageError(`Invalid --${name} "${raw}": expected a whole number of at least ${min}`);
    }
    return Number(raw);
  };
  const policy = text("policy") ?? "aws-cni";
  if (policy !== "aws-cni" && policy !== "reference") {
    throw new UsageError(`Invalid --policy "${policy}": expected aws-cni or reference`);
  }
  const { instanceType, limits, settings } = resolveNodeFlags(values, io.env);
  const seed = integer("seed", 0) ?? 1;
  const workload = await workloadOf(io, { seed, integer, text });
  const model = (flag: string, fallback: LatencyModel) => {
    const raw = text(flag);
    return raw === undefined ? fallback : parseLatencyModel(raw);
  };
  const timing: TimingModel = {
    attachLatency: model("attach-latency", DEFAULT_TIMING.attachLatency),
    detachLatency: model("detach-latency", DEFAULT_TIMING.detachLatency),
    imdsLag: model("imds-lag", DEFAULT_TIMING.imdsLag),
    callLatencyMs: integer("call-latency-ms", 0) ?? DEFAULT_TIMING.callLatencyMs,
  };
  const attachWait = text("attach-wait") ?? "imds";
  if (attachWait !== "imds" && attachWait !== "link") {
    throw new UsageError(`Invalid --attach-wait "${attachWait}": expected imds or link`);
  }
  return { instanceType, limits, settings, policy, workload, seed, timing, attachWait };
}

async function workloadOf(
  io: ReplayIo,
  helpers: {
    seed: number;
    integer: (name: string, min: number) => number | undefined;
    text: (name: string) => string | undefined;
  },
): Promise<Workload> {
  const { seed, integer, text } = helpers;
  const trace = text("trace");
  const name = text("scenario");
  if ((trace === undefined) === (name === undefined)) {
    throw new UsageError("Give exactly one of --trace FILE and --scenario burst|churn|launch");
  }
  const nodes = integer("nodes", 1);
  if (trace !== undefined) {
    const text = trace === "-"
      ? new TextDecoder().decode(await io.readStdin())
      : await withFile("trace", trace, "read", () => (io.readTextFile ?? Deno.readTextFile)(trace));
    const workload = parseTrace(text, trace === "-" ? "stdin" : trace);
    const extra = Array.from(
      { length: Math.max((nodes ?? 0) - workload.nodes.length, 0) },
      (_, i) => `idle-${i + 1}`,
    );
    return { ...workload, nodes: [...workload.nodes, ...extra] };
  }
  if (!(SCENARIOS as readonly string[]).includes(name!)) {
    throw new UsageError(`Invalid --scenario "${name}": expected ${SCENARIOS.join(", ")}`);
  }
  return scenario(name as ScenarioName, {
    seed,
    nodes,
    pods: integer("pods", 1),
    lifetimeS: integer("lifetime", 1),
    durationS: integer("duration", 1),
  });
}
