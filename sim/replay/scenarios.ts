/**
 * What a replay plays: pod ADD and DEL events per node, from a trace file (JSON
 * lines `{t, node, op, pod}`, `t` in seconds) or from a built-in scenario drawn
 * from a seed. Event times count from the node's readiness: kubelet schedules no
 * pod on a node whose CNI is not ready.
 *
 * @module
 */
import { SeededRandom } from "../ec2/mod.ts";
import type { ReplaySubnet } from "./subnets.ts";

/** One pod event. */
export interface TraceEvent {
  /** Seconds. */
  readonly t: number;
  readonly node: string;
  readonly op: "add" | "del";
  readonly pod: string;
}

/** Events and the nodes they run on. */
export interface Workload {
  readonly name: string;
  readonly nodes: readonly string[];
  /** In time order. */
  readonly events: readonly TraceEvent[];
  /** How long the measurement window runs on after the last event. */
  readonly tailMs: number;
  /** What the workload is, in a sentence. */
  readonly about: string;
  /** The VPC's subnets, the nodes' first; default one /16. */
  readonly subnets?: readonly ReplaySubnet[];
}

/** The built-in scenarios. */
export const SCENARIOS = ["burst", "churn", "launch", "subnets"] as const;

/** One of `SCENARIOS`. */
export type ScenarioName = typeof SCENARIOS[number];

/** Knobs of the built-in scenarios; each has a default per scenario. */
export interface ScenarioOptions {
  readonly nodes?: number | undefined;
  /** burst, launch: pods per node; churn: the mean pod count. */
  readonly pods?: number | undefined;
  /** churn: mean pod lifetime, seconds. */
  readonly lifetimeS?: number | undefined;
  /** churn: how long arrivals go on, seconds. */
  readonly durationS?: number | undefined;
  readonly seed: number;
}

/** Builds a built-in scenario. */
export function scenario(name: ScenarioName, options: ScenarioOptions): Workload {
  const random = new SeededRandom(options.seed, `scenario/${name}`);
  switch (name) {
    case "burst": {
      const pods = options.pods ?? 30;
      const nodes = nodeNames(options.nodes ?? 1);
      const events = nodes.flatMap((node) => range(pods).map((i) => add(0, node, `burst-${i + 1}`)));
      return { name, nodes, events, tailMs: 180_000, about: `${pods} pods at once on each cold node` };
    }
    case "launch": {
      const pods = options.pods ?? 20;
      const nodes = nodeNames(options.nodes ?? 150);
      const events = nodes.flatMap((node) =>
        range(pods).map((i) => add(Math.round(random.next() * 5_000) / 1000, node, `app-${i + 1}`))
      );
      return {
        name,
        nodes,
        events: sortEvents(events),
        tailMs: 300_000,
        about: `${nodes.length} nodes start together; each is given ${pods} pods within 5 s of ready`,
      };
    }
    case "subnets": {
      // Pods come over 20 min to nodes picked unevenly (a few busy, most light), up to what the subnets hold.
      const nodes = nodeNames(options.nodes ?? 60);
      const pods = options.pods ?? 220;
      const durationS = options.durationS ?? 1_200;
      const weights = nodes.map(() => random.next() ** 3);
      const sum = weights.reduce((a, b) => a + b, 0);
      const events = range(pods).map((i) => {
        let pick = random.next() * sum;
        const index = weights.findIndex((w) => (pick -= w) <= 0);
        return add(
          round3(random.next() * durationS),
          nodes[index === -1 ? nodes.length - 1 : index]!,
          `app-${i + 1}`,
        );
      });
      return {
        name,
        nodes,
        events: sortEvents(events),
        tailMs: 300_000,
        about: `${nodes.length} nodes in one /24 with a tagged /26 for pods; ${pods} pods arrive over ` +
          `${durationS} s, unevenly across the nodes`,
        subnets: [{ cidr: "10.0.0.0/24" }, { cidr: "10.0.1.0/26", tags: { "kubernetes.io/role/cni": "1" } }],
      };
    }
    case "churn": {
      const mean = options.pods ?? 20;
      const lifetimeS = options.lifetimeS ?? 180;
      const durationS = options.durationS ?? 1_800;
      const nodes = nodeNames(options.nodes ?? 1);
      const events: TraceEvent[] = [];
      for (const node of nodes) {
        let serial = 0;
        const pod = (startS: number) => {
          const name = `churn-${++serial}`;
          const endS = startS + exponential(random, lifetimeS);
          events.push(add(startS, node, name));
          if (endS < durationS) events.push({ t: round3(endS), node, op: "del", pod: name });
        };
        for (let i = 0; i < mean; i++) pod(round3(random.next() * 30));
        for (
          let t = exponential(random, lifetimeS / mean);
          t < durationS;
          t += exponential(random, lifetimeS / mean)
        ) {
          pod(round3(t));
        }
      }
      return {
        name,
        nodes,
        events: sortEvents(events),
        tailMs: 0,
        about: `about ${mean} pods per node, mean lifetime ${lifetimeS} s, for ${durationS} s`,
      };
    }
  }
}

/** Parses a JSON-lines trace; blank lines are skipped. */
export function parseTrace(text: string, name = "trace"): Workload {
  const events: TraceEvent[] = [];
  const nodes: string[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    const where = `line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new SyntaxError(`Cannot parse trace ${where}: ${(error as Error).message}`, { cause: error });
    }
    const record = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    const { t, node, op, pod } = record;
    if (typeof t !== "number" || !Number.isFinite(t) || t < 0) {
      throw new TypeError(`Invalid trace ${where}: "t" must be a number of seconds of at least 0`);
    }
    if (typeof node !== "string" && typeof node !== "number") {
      throw new TypeError(`Invalid trace ${where}: "node" must be a string or a number`);
    }
    if (op !== "add" && op !== "del") {
      throw new TypeError(`Invalid trace ${where}: "op" must be "add" or "del"`);
    }
    if (typeof pod !== "string" && typeof pod !== "number") {
      throw new TypeError(`Invalid trace ${where}: "pod" must be a string or a number`);
    }
    if (!nodes.includes(String(node))) nodes.push(String(node));
    events.push({ t, node: String(node), op, pod: String(pod) });
  });
  if (events.length === 0) throw new RangeError(`Trace "${name}" holds no events`);
  return { name, nodes, events: sortEvents(events), tailMs: 60_000, about: `trace ${name}` };
}

function add(t: number, node: string, pod: string): TraceEvent {
  return { t, node, op: "add", pod };
}

function nodeNames(count: number): string[] {
  return range(count).map((i) => `node-${i + 1}`);
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/** Stable by time: events at the same time keep their order. */
function sortEvents(events: TraceEvent[]): TraceEvent[] {
  return events.map((event, index) => ({ event, index }))
    .sort((a, b) => a.event.t - b.event.t || a.index - b.index)
    .map(({ event }) => event);
}

function exponential(random: SeededRandom, mean: number): number {
  return -Math.log(1 - random.next()) * mean;
}

function round3(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
