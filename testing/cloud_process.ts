/**
 * The simulated cloud (sim/cloud/main.ts) as a process for tests: started
 * inside a node's network namespace with the pinned Deno, waited for until it
 * prints its endpoints, driven through its control socket, and stopped with
 * SIGTERM (which removes its links and the VPC side's namespace) on dispose.
 *
 * @module
 */
import { CloudControl, type CloudReady } from "../sim/cloud/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = `${ROOT}sim/cloud/main.ts`;

/** The cloud's flags, as options. */
export interface CloudProcessOptions {
  /** Default t3.small. */
  readonly instanceType?: string;
  /** The node's subnet first (default 10.0.0.0/20). */
  readonly subnetCidrs?: readonly string[];
  /** Fixed attach time (default 50 ms; null: EC2's measured spread). */
  readonly attachLatencyMs?: number | null;
  /** Fixed detach time (default 50 ms; null: EC2's 2 to 3 s). */
  readonly detachLatencyMs?: number | null;
  /** Extra time before EC2 answers, per action. */
  readonly apiLatencyMs?: Readonly<Record<string, number>>;
  readonly imdsLagMs?: number;
  /** Default 1. */
  readonly seed?: number;
  /** Hot-plug ENI links (default true; needs root and a network namespace). */
  readonly links?: boolean;
  /** EC2 actions the node's role may not call from the start (`--withhold`). */
  readonly withheld?: readonly string[];
}

/** How a cloud process ended. */
export interface CloudExit {
  readonly code: number;
  readonly signal: string | null;
  /** Its log (JSON lines on stderr). */
  readonly stderr: string;
}

/** A running cloud process. */
export interface CloudProcess extends AsyncDisposable {
  readonly ready: CloudReady;
  readonly control: CloudControl;
  /**
   * What a daemon on this node needs in its environment to reach the cloud as it
   * reaches AWS: the endpoints, and static credentials for the SDK's default chain.
   */
  readonly daemonEnv: Readonly<Record<string, string>>;
  /** Its log so far (JSON lines on stderr). */
  log(): string;
  /** SIGTERM, as a clean shutdown; resolves with how it ended. */
  stop(): Promise<CloudExit>;
  /** SIGKILL, as a crash. */
  kill9(): Promise<CloudExit>;
}

/** Credentials the SDK's default chain finds in the environment; the cloud accepts any. */
export const CLOUD_CREDENTIALS = Object.freeze({
  AWS_ACCESS_KEY_ID: "AKIDSIMULATEDCLOUD00",
  AWS_SECRET_ACCESS_KEY: "simulated-cloud-secret",
});

/** The cloud's command line for `options`. */
export function cloudArgs(options: CloudProcessOptions, controlPath: string): string[] {
  const latency = (flag: string, ms: number | null | undefined): string[] =>
    ms === null ? [] : [flag, String(ms ?? 50)];
  const api = Object.entries(options.apiLatencyMs ?? {}).map(([action, ms]) => `${action}=${ms}`).join(",");
  return [
    ...["--instance-type", options.instanceType ?? "t3.small"],
    ...(options.subnetCidrs ?? []).flatMap((cidr) => ["--subnet-cidr", cidr]),
    ...latency("--attach-latency-ms", options.attachLatencyMs),
    ...latency("--detach-latency-ms", options.detachLatencyMs),
    ...(api === "" ? [] : ["--api-latency-ms", api]),
    ...(options.imdsLagMs === undefined ? [] : ["--imds-lag-ms", String(options.imdsLagMs)]),
    ...["--seed", String(options.seed ?? 1)],
    ...["--control", controlPath],
    ...(options.links === false ? ["--no-links"] : []),
    ...(options.withheld === undefined || options.withheld.length === 0
      ? []
      : ["--withhold", options.withheld.join(",")]),
  ];
}

/**
 * Starts the cloud inside the network namespace at `netnsPath` (null: this
 * process's own, which needs `links: false`), its control socket in `dir`.
 */
export async function startCloudProcess(
  netnsPath: string | null,
  dir: string,
  options: CloudProcessOptions = {},
): Promise<CloudProcess> {
  const deno = [
    Deno.execPath(),
    ...["run", "-A", "--quiet", "--no-prompt", "--frozen", "--config", `${ROOT}deno.json`, MAIN],
    ...cloudArgs(options, `${dir}/control.sock`),
  ];
  const [program, ...args] = netnsPath === null ? deno : ["nsenter", `--net=${netnsPath}`, ...deno];
  const child = new Deno.Command(program!, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { DENO_NO_UPDATE_CHECK: "1" },
  }).spawn();
  let logText = "";
  const stderr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) logText += chunk;
    return logText;
  })().catch(() => logText);
  const exited = child.status;
  // A cloud that does not serve within a minute is killed (and its log shown).
  const slow = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // gone meanwhile
    }
  }, 60_000);
  const line = await firstLine(child.stdout).finally(() => clearTimeout(slow));
  if (line === null) {
    const status = await exited;
    throw new Error(
      `The simulated cloud exited (code ${status.code}, signal ${status.signal}) before serving: ${await stderr}`,
    );
  }
  const ready = JSON.parse(line) as CloudReady;
  const control = new CloudControl(ready.control);
  let ended: Promise<CloudExit> | null = null;
  const end = (signal: Deno.Signal): Promise<CloudExit> => {
    ended ??= (async () => {
      control.close();
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
      // A cloud that does not stop within 10 s is killed; its exit then says so.
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone meanwhile
        }
      }, 10_000);
      const status = await exited.finally(() => clearTimeout(timer));
      return { code: status.code, signal: status.signal, stderr: await stderr };
    })();
    return ended;
  };
  return {
    ready,
    control,
    daemonEnv: {
      AWS_EC2_ENDPOINT: ready.ec2Endpoint,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: ready.imdsEndpoint,
      ...CLOUD_CREDENTIALS,
    },
    log: () => logText,
    stop: () => end("SIGTERM"),
    kill9: () => end("SIGKILL"),
    async [Symbol.asyncDispose]() {
      await end("SIGTERM");
    },
  };
}

/** The first line of a stream, or null when it ends first; the rest is drained in the background. */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string | null> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    text += value;
    const newline = text.indexOf("\n");
    if (newline >= 0) {
      (async () => {
        while (!(await reader.read()).done) {
          // the cloud prints nothing else on stdout
        }
      })().catch(() => {});
      return text.slice(0, newline);
    }
  }
}
