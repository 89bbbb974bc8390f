/**
 * `aws-cni max-pods`: kubelet's `--max-pods` for an instance type and the
 * settings, as EKS computes it (see ipamd/limits/max_pods.ts); the same number
 * ipamd, `plan` and `status` use when MAX_PODS is unset.
 *
 * @module
 */
import { flagErrorText, parseFlags } from "../shared/args.ts";
import type { Io } from "../shared/mod.ts";
import { computeMaxPods, lookupInstanceType, UnknownInstanceTypeError } from "../ipamd/limits/mod.ts";
import { UsageError } from "./node_flags.ts";

/** The text of `aws-cni max-pods --help`. */
export const MAX_PODS_USAGE =
  `usage: aws-cni max-pods --instance-type T [--prefix-delegation] [--custom-networking] [--max-eni N]
  [--explain] [--json]

Prints kubelet's --max-pods for instance type T: ENIs × (IPv4 per ENI − 1) + 2 with
secondary IPs (EKS's eni-max-pods.txt), ENIs × (IPv4 per ENI − 1) × 16 + 2 with prefix
delegation, at most 110 on 30 vCPUs or fewer and 250 above (EKS's max-pods-calculator.sh).
Custom networking leaves the primary ENI out; --max-eni lowers the ENIs. The + 2 is for
the two host-network pods (the CNI and kube-proxy). Settings are also read from
ENABLE_PREFIX_DELEGATION, AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG and MAX_ENI; flags win.
--explain adds how the number was reached; --json prints every figure.
`;

/** Runs `max-pods`; returns the exit code. */
export function maxPodsCommand(io: Io): Promise<number> {
  return Promise.resolve(run(io));
}

function run(io: Io): number {
  let values;
  try {
    values = parseFlags(io.args, {
      "instance-type": { type: "string" },
      "prefix-delegation": { type: "boolean" },
      "custom-networking": { type: "boolean" },
      "max-eni": { type: "string" },
      explain: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    }).values;
  } catch (error) {
    io.stderr(`aws-cni max-pods: ${flagErrorText(error)}\n${MAX_PODS_USAGE}`);
    return 2;
  }
  if (values.help === true) return io.stdout(MAX_PODS_USAGE), 0;
  try {
    const name = values["instance-type"];
    if (name === undefined || name === "") throw new UsageError("Missing --instance-type");
    const info = lookupInstanceType(name);
    const figure = computeMaxPods(info, {
      prefixDelegation: values["prefix-delegation"] ?? envBoolean(io.env, "ENABLE_PREFIX_DELEGATION"),
      customNetworking: values["custom-networking"] ??
        envBoolean(io.env, "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"),
      maxEni: maxEniOf(values["max-eni"], io.env),
    });
    if (values.json === true) {
      io.stdout(JSON.stringify({ instanceType: info.name, ...figure }, null, 2) + "\n");
    } else {
      io.stdout(`${figure.maxPods}\n`);
      if (values.explain === true) io.stdout(`${info.name}: ${figure.explanation}\n`);
    }
    return 0;
  } catch (error) {
    if (
      error instanceof UsageError || error instanceof UnknownInstanceTypeError || error instanceof RangeError
    ) {
      io.stderr(`aws-cni max-pods: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

function envBoolean(env: Readonly<Record<string, string>>, name: string): boolean {
  const text = (env[name] ?? "").trim().toLowerCase();
  if (text === "" || text === "false" || text === "0") return false;
  if (text === "true" || text === "1") return true;
  throw new UsageError(`Invalid ${name}="${env[name]}": expected true, false, 1 or 0`);
}

function maxEniOf(flag: string | undefined, env: Readonly<Record<string, string>>): number {
  const [source, text] = flag !== undefined ? ["--max-eni", flag] : ["MAX_ENI", env.MAX_ENI ?? ""];
  if (text.trim() === "") return 0;
  if (!/^[0-9]+$/.test(text.trim()) || Number(text) < 1) {
    throw new UsageError(`Invalid ${source} "${text}": expected a whole number of at least 1`);
  }
  return Number(text);
}
