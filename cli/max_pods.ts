/**
 * `aws-cni max-pods`: kubelet's `--max-pods` for an instance type and the
 * settings, as EKS computes it (see ipamd/limits/max_pods.ts); the same number
 * ipamd, `plan` and `status` use when MAX_PODS is unset.
 *
 * @module
 */
import { COMMAND_USAGE } from "./usage.ts";
import { flagErrorText, parseFlags } from "../shared/mod.ts";
import type { Io } from "../shared/mod.ts";
import {
  CEILING_VCPU_THRESHOLD,
  computeMaxPods,
  HOST_NETWORK_PODS,
  type InstanceTypeInfo,
  type MaxPodsFigure,
  UnknownInstanceTypeError,
} from "../ipamd/limits/mod.ts";
import { lookupTypedInstanceType } from "./instance_types.ts";
import { UsageError } from "./node_flags.ts";

const MAX_PODS_USAGE = COMMAND_USAGE["max-pods"];

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
    const info = lookupTypedInstanceType(name);
    const customNetworking = values["custom-networking"] ??
      envBoolean(io.env, "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG");
    const figure = computeMaxPods(info, {
      prefixDelegation: values["prefix-delegation"] ?? envBoolean(io.env, "ENABLE_PREFIX_DELEGATION"),
      customNetworking,
      maxEni: maxEniOf(values["max-eni"], io.env),
    });
    const explanation = explainMaxPods(info, figure, { customNetworking });
    if (values.json === true) {
      io.stdout(JSON.stringify({ instanceType: info.name, ...figure, explanation }, null, 2) + "\n");
    } else {
      io.stdout(`${figure.maxPods}\n`);
      if (values.explain === true) io.stdout(`${info.name}: ${explanation}\n`);
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

/** Sizes below large: 1 or 2 vCPUs by family, far below the ceiling's threshold either way. */
const SMALL_SIZES = new Set(["nano", "micro", "small", "medium"]);

/** Why `figure.maxPods` is what it is, in one line. */
export function explainMaxPods(
  info: InstanceTypeInfo,
  figure: MaxPodsFigure,
  options: { readonly customNetworking: boolean },
): string {
  const { enisForPods, addresses, ceiling, vcpus } = figure;
  const uncapped = addresses + HOST_NETWORK_PODS;
  const unit = figure.prefixDelegation
    ? `(${info.ipv4PerEni} − 1) × 16 addresses`
    : `${info.ipv4PerEni - 1} addresses`;
  const eniText = `${enisForPods} ENI${enisForPods === 1 ? "" : "s"}` +
    (options.customNetworking ? " (custom networking: secondary ENIs only)" : "");
  const explanation =
    `${eniText} × ${unit} = ${addresses} pod addresses, + ${HOST_NETWORK_PODS} host-network pods = ${uncapped}`;
  if (ceiling === null || ceiling >= uncapped) return explanation;
  const cpus = vcpus !== null
    ? `${vcpus} vCPUs`
    : SMALL_SIZES.has(info.name.slice(info.name.indexOf(".") + 1))
    ? `at most ${CEILING_VCPU_THRESHOLD} vCPUs`
    : "vCPUs unknown, so the lower ceiling";
  return `${explanation}; EKS caps it at ${ceiling} with prefix delegation (${cpus})`;
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
