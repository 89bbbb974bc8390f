/**
 * The CNI_* environment: one table says which verb needs which variable and how
 * each is validated. Every problem is collected, so the code-4 error names all
 * the bad variables at once.
 *
 * @module
 */

/** The verbs of CNI spec 1.1. */
export const VERBS = ["ADD", "DEL", "CHECK", "VERSION", "GC", "STATUS"] as const;

/** One of `VERBS`. */
export type Verb = typeof VERBS[number];

/** Kubernetes identity from CNI_ARGS (all "" when the runtime sent none). */
export interface K8sArgs {
  readonly podName: string;
  readonly podNamespace: string;
  readonly podInfraContainerId: string;
  readonly podUid: string;
}

/** The validated environment of one invocation. Absent variables are "". */
export interface CniEnv {
  readonly command: Verb;
  readonly containerId: string;
  readonly netns: string;
  readonly ifName: string;
  readonly path: string;
  readonly k8s: K8sArgs;
}

/** The spec's container ID charset. */
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$/;

function hasControl(text: string): boolean {
  return [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}

/** Checks CNI_IFNAME as the kernel would, plus what `ip` treats specially (`-batch` characters, options). */
export function ifNameProblem(name: string): string | undefined {
  if (new TextEncoder().encode(name).length > 15) return "longer than 15 bytes";
  if (name === "." || name === "..") return `"${name}" is reserved`;
  if (name.includes("/")) return "contains '/'";
  if (/\s/.test(name)) return "contains whitespace";
  if (/[:"'\\#]/.test(name) || hasControl(name)) {
    return "contains ':', a quote, '\\', '#' or a control character";
  }
  // `ip` would read a leading '-' as an option, and names outside ASCII only confuse tools and people.
  if (name.startsWith("-")) return "starts with '-'";
  if (/[^\x21-\x7e]/.test(name)) return "contains a character outside printable ASCII";
  return undefined;
}

function netnsProblem(path: string): string | undefined {
  if (!path.startsWith("/")) return "not an absolute path";
  if (/[\s"'\\#]/.test(path) || hasControl(path)) {
    return "contains whitespace, a quote, '\\', '#' or a control character";
  }
  if (path.split("/").includes("..")) return "contains '..'";
  if (path.length > 4096) return "longer than 4096 characters";
  return undefined;
}

interface EnvRule {
  readonly name: string;
  /** Verbs for which the variable must be set and non-empty. */
  readonly requiredFor: readonly Verb[];
  /** What is wrong with a set value, if anything. */
  readonly check?: (value: string) => string | undefined;
}

const ENV_TABLE: readonly EnvRule[] = [
  {
    name: "CNI_CONTAINERID",
    requiredFor: ["ADD", "DEL", "CHECK"],
    check: (v) =>
      CONTAINER_ID.test(v) && v.length <= 1024 ? undefined : "does not match [a-zA-Z0-9][a-zA-Z0-9_.-]*",
  },
  { name: "CNI_NETNS", requiredFor: ["ADD", "CHECK"], check: netnsProblem },
  { name: "CNI_IFNAME", requiredFor: ["ADD", "DEL", "CHECK"], check: ifNameProblem },
  { name: "CNI_PATH", requiredFor: ["GC"] },
  { name: "CNI_ARGS", requiredFor: [], check: (v) => argsProblem(v) },
];

/** The verb named by CNI_COMMAND, or undefined when it names none. */
export function parseVerb(value: string | undefined): Verb | undefined {
  return VERBS.find((verb) => verb === value);
}

/** Splits `K=V;K2=V2`; throws SyntaxError for a pair without "=" or with an empty key. */
export function parseCniArgs(text: string): Map<string, string> {
  const args = new Map<string, string>();
  if (text === "") return args;
  for (const pair of text.split(";")) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new SyntaxError(`Cannot parse CNI_ARGS pair "${pair}": expected KEY=VALUE`);
    args.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return args;
}

/** The most bytes of CNI_ARGS, and of one K8S_* value (kept in ipamd's checkpoint for every pod). */
const MAX_ARGS_BYTES = 64 * 1024;
const MAX_K8S_VALUE_BYTES = 1024;

/**
 * Any K8S_* value is taken as it is, as the reference does: runtimes other than
 * kubelet's fill them with their own names (podman sends its container name,
 * e.g. "eager_hopper", as K8S_POD_NAME). Only their size is bounded.
 */
function argsProblem(text: string): string | undefined {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length > MAX_ARGS_BYTES) return `is longer than ${MAX_ARGS_BYTES} bytes`;
  try {
    for (const [key, value] of parseCniArgs(text)) {
      if (key.startsWith("K8S_") && encoder.encode(value).length > MAX_K8S_VALUE_BYTES) {
        return `${key} is longer than ${MAX_K8S_VALUE_BYTES} bytes`;
      }
    }
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Problems with the environment for `verb`, one text per bad variable (empty when all is well). */
export function envProblems(verb: Verb, env: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const rule of ENV_TABLE) {
    const value = env[rule.name] ?? "";
    if (value === "") {
      if (rule.requiredFor.includes(verb)) problems.push(`${rule.name} is not set`);
      continue;
    }
    const problem = rule.check?.(value);
    if (problem !== undefined) problems.push(`${rule.name} ${problem}`);
  }
  return problems;
}

/** Builds `CniEnv` from an environment that passed `envProblems`. */
export function readCniEnv(verb: Verb, env: Readonly<Record<string, string>>): CniEnv {
  const args = parseCniArgs(env["CNI_ARGS"] ?? "");
  return {
    command: verb,
    containerId: env["CNI_CONTAINERID"] ?? "",
    netns: env["CNI_NETNS"] ?? "",
    ifName: env["CNI_IFNAME"] ?? "",
    path: env["CNI_PATH"] ?? "",
    k8s: {
      podName: args.get("K8S_POD_NAME") ?? "",
      podNamespace: args.get("K8S_POD_NAMESPACE") ?? "",
      podInfraContainerId: args.get("K8S_POD_INFRA_CONTAINER_ID") ?? "",
      podUid: args.get("K8S_POD_UID") ?? "",
    },
  };
}
