/**
 * The reliability suite's sizes, from the environment. The default profile
 * ("ci") keeps the full numbers where they fit a CI run of about two to
 * three minutes on 2 cores (10,000 in-process fuzz cases, 2,000 gRPC cases,
 * 30 s of IMDS lag, ipamd's own 120 s pause after a full subnet) and shortens
 * the rest; `RELIABILITY_PROFILE=full` runs all of the full numbers (10 kill
 * rounds of 200 operations). Each size can be set by its variable too.
 *
 * @module
 */

/** Sizes of each part of the suite. */
export interface ReliabilitySizes {
  /** Kill -9 rounds of the crash storm. */
  readonly rounds: number;
  /** Plugin ADD/DEL operations per round. */
  readonly opsPerRound: number;
  /** Plugin processes running at once in the storm. */
  readonly concurrency: number;
  /** Fuzz cases run in-process through `runPlugin`. */
  readonly fuzzCases: number;
  /** Fuzz cases run through `dist/aws-cni`. */
  readonly binaryFuzzCases: number;
  /** Malformed gRPC / HTTP/2 inputs sent to ipamd. */
  readonly grpcFuzzCases: number;
  /** Plugin processes SIGKILLed mid-ADD. */
  readonly pluginKills: number;
  /** How long new ENIs take to show in IMDS in the IMDS-lag test. */
  readonly imdsLagMs: number;
  /** Seed of every random choice (printed with each failure). */
  readonly seed: number;
}

const FULL: ReliabilitySizes = {
  rounds: 10,
  opsPerRound: 200,
  concurrency: 16,
  fuzzCases: 10_000,
  binaryFuzzCases: 300,
  grpcFuzzCases: 2_000,
  pluginKills: 24,
  imdsLagMs: 30_000,
  seed: 20261123,
};

/** What CI runs on 2 cores within its time budget. */
const CI: ReliabilitySizes = {
  ...FULL,
  rounds: 5,
  opsPerRound: 120,
  binaryFuzzCases: 200,
  pluginKills: 12,
};

const NAMES: Record<keyof ReliabilitySizes, string> = {
  rounds: "RELIABILITY_ROUNDS",
  opsPerRound: "RELIABILITY_OPS",
  concurrency: "RELIABILITY_CONCURRENCY",
  fuzzCases: "RELIABILITY_FUZZ_CASES",
  binaryFuzzCases: "RELIABILITY_BINARY_FUZZ_CASES",
  grpcFuzzCases: "RELIABILITY_GRPC_FUZZ_CASES",
  pluginKills: "RELIABILITY_PLUGIN_KILLS",
  imdsLagMs: "RELIABILITY_IMDS_LAG_MS",
  seed: "RELIABILITY_SEED",
};

/** Reads the sizes from `env` (default: the process environment). */
export function reliabilitySizes(env: (name: string) => string | undefined = Deno.env.get): ReliabilitySizes {
  const profile = env("RELIABILITY_PROFILE") ?? "ci";
  if (profile !== "full" && profile !== "ci") {
    throw new RangeError(`Invalid RELIABILITY_PROFILE "${profile}": expected full or ci`);
  }
  const sizes: Record<string, number> = { ...(profile === "ci" ? CI : FULL) };
  for (const [key, name] of Object.entries(NAMES)) {
    const text = env(name);
    if (text === undefined || text === "") continue;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`Invalid ${name} "${text}": expected a whole number of at least 0`);
    }
    sizes[key] = value;
  }
  return sizes as unknown as ReliabilitySizes;
}

/** The sizes of this run. */
export const SIZES: ReliabilitySizes = reliabilitySizes((name) => Deno.env.get(name));

/** The names of the variables, for run.ts's help text. */
export const SIZE_VARIABLES: Readonly<Record<keyof ReliabilitySizes, string>> = NAMES;

/** mulberry32: a small seeded PRNG so failures reproduce. */
export { mulberry32 as prng } from "../../sim/ec2/random.ts";

/** Prints a progress line to stderr when `RELIABILITY_VERBOSE` is set. */
export function progress(text: string): void {
  if (Deno.env.get("RELIABILITY_VERBOSE")) {
    Deno.stderr.writeSync(new TextEncoder().encode(`  [reliability] ${text}\n`));
  }
}
