/**
 * `aws-cni plan`: how the warm pool settles on a simulated node for each pod count.
 *
 * @module
 */
import { COMMAND_USAGE } from "./usage.ts";
import { flagErrorText, parseFlags } from "../shared/mod.ts";
import type { Io } from "../shared/mod.ts";
import { ConfigError } from "../ipamd/config/mod.ts";
import { NODE_FLAG_OPTIONS, resolveNodeFlags, UsageError } from "./node_flags.ts";
import { HOST_NETWORK_PODS, type MaxPodsFigure, UnknownInstanceTypeError } from "../ipamd/limits/mod.ts";
import { type PlanRow, simulatePlan } from "../sim/node/mod.ts";
import type { InstanceLimits, PoolSettings } from "../ipamd/pool/mod.ts";

const PLAN_USAGE = COMMAND_USAGE["plan"];

/** Runs `plan` with the given process IO; returns the exit code. */
export async function planCommand(io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(io.args, {
      ...NODE_FLAG_OPTIONS,
      pods: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    });
  } catch (error) {
    io.stderr(`aws-cni plan: ${flagErrorText(error)}\n${PLAN_USAGE}`);
    return 2;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help === true) return io.stdout(PLAN_USAGE), 0;
  try {
    const request = resolveRequest(values, io.env);
    const rows = await simulatePlan(request);
    const warning = addressWarning(request);
    if (values.json === true) {
      io.stdout(JSON.stringify(rows.map(jsonRow), null, 2) + "\n");
      if (warning !== "") io.stderr(`aws-cni plan: ${warning}\n`);
    } else {
      io.stdout(renderTable(request, rows, warning));
    }
    return 0;
  } catch (error) {
    if (
      error instanceof UsageError || error instanceof ConfigError || error instanceof UnknownInstanceTypeError
    ) {
      io.stderr(`aws-cni plan: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** What `plan` simulates. */
export interface PlanRequest {
  readonly instanceType: string;
  readonly limits: InstanceLimits;
  readonly settings: PoolSettings;
  readonly pods: readonly number[];
  /** kubelet's max pods as EKS computes it, and the pod addresses the ENIs hold. */
  readonly figure: MaxPodsFigure;
  /** Whether MAX_PODS (or --max-pods) set the max pods. */
  readonly maxPodsSet: boolean;
}

function resolveRequest(
  values: Record<string, string | boolean | undefined>,
  env: Readonly<Record<string, string>>,
): PlanRequest {
  if (typeof values.pods !== "string") throw new UsageError("Missing --pods");
  const pods = values.pods.split(",").map((text) => {
    if (!/^[0-9]{1,5}$/.test(text.trim())) throw new UsageError(`Invalid pod count "${text}" in --pods`);
    return Number(text.trim());
  });
  const { instanceType, limits, settings, figure } = resolveNodeFlags(values, env);
  const maxPodsSet = typeof values["max-pods"] === "string" || (env.MAX_PODS ?? "") !== "";
  return { instanceType, limits, settings, pods, figure, maxPodsSet };
}

function jsonRow(row: PlanRow): Record<string, unknown> {
  const { pods, enis, secondaryIps, unusedIps, failedPods, ipsPerEni, prefixesPerEni } = row;
  const out: Record<string, unknown> = { pods, enis, secondaryIps, unusedIps, failedPods, ipsPerEni };
  if (prefixesPerEni !== undefined) out.prefixesPerEni = prefixesPerEni;
  return out;
}

/** Pods the node can give an address: what its ENIs hold, at most max pods (the pool never holds more). */
function addressablePods(request: PlanRequest): number {
  return Math.min(request.figure.addresses, request.limits.maxPods);
}

/** What to say when a pod count or max pods is more than the node can address; "" when none is. */
function addressWarning(request: PlanRequest): string {
  const addressable = addressablePods(request);
  const most = Math.max(...request.pods);
  const host =
    `kubelet's max pods counts ${HOST_NETWORK_PODS} host-network pods, the CNI's and kube-proxy's, which need no address`;
  if (most > addressable) {
    return `${request.instanceType} can address ${addressable} pods; ${most} pods leave ${
      most - addressable
    } ` +
      `without an address (${host})`;
  }
  if (request.maxPodsSet && request.limits.maxPods > request.figure.addresses + HOST_NETWORK_PODS) {
    return `max pods ${request.limits.maxPods} is more than ${request.instanceType} can reach: its ENIs hold ` +
      `${request.figure.addresses} pod addresses, + ${HOST_NETWORK_PODS} host-network pods = ` +
      `${request.figure.addresses + HOST_NETWORK_PODS} (aws-cni max-pods)`;
  }
  return "";
}

function renderTable(request: PlanRequest, rows: readonly PlanRow[], warning: string): string {
  const { settings: s, limits } = request;
  const warmIp = s.warmIpTarget > 0 || s.minimumIpTarget > 0;
  const dash = (n: number, on = true) => on && n > 0 ? String(n) : "-";
  const head = ["Instance type"];
  const fixed = [request.instanceType];
  if (s.prefixDelegation) {
    head.push("WARM_PREFIX_TARGET");
    fixed.push(warmIp ? "-" : String(s.warmPrefixTarget));
  } else {
    head.push("WARM_ENI_TARGET");
    fixed.push(warmIp ? "-" : String(s.warmEniTarget));
  }
  head.push("WARM_IP_TARGET", "MINIMUM_IP_TARGET");
  fixed.push(dash(s.warmIpTarget), dash(s.minimumIpTarget));
  head.push("Pods", "Attached ENIs", "Attached Secondary IPs", "Unused IPs", "IPs per ENI");
  if (s.prefixDelegation) head.push("Prefixes per ENI");
  head.push("Pods without IP");
  const body = rows.map((row) => [
    ...fixed,
    String(row.pods),
    String(row.enis),
    String(row.secondaryIps),
    String(row.unusedIps),
    row.ipsPerEni.join(","),
    ...(s.prefixDelegation ? [(row.prefixesPerEni ?? []).join(",")] : []),
    String(row.failedPods),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |\n";
  const rule = "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|\n";
  const unit = s.prefixDelegation ? "prefixes" : "secondary IPs";
  const { figure } = request;
  const maxPodsText = request.maxPodsSet
    ? `max pods ${limits.maxPods} (MAX_PODS)`
    : figure.ceiling !== null && figure.ceiling < figure.addresses + HOST_NETWORK_PODS
    ? `max pods ${limits.maxPods} (EKS's ceiling with prefix delegation; ${figure.addresses} + ` +
      `${HOST_NETWORK_PODS} host-network pods without it)`
    : `max pods ${limits.maxPods} (${figure.addresses} + ${HOST_NETWORK_PODS} host-network pods)`;
  const about =
    `${request.instanceType}: up to ${limits.maxEnis} ENIs with ${limits.ipv4PerEni - 1} ${unit} each` +
    `${s.maxEni > 0 ? ` (MAX_ENI ${s.maxEni})` : ""}: ${figure.addresses} pod addresses; ${maxPodsText}\n` +
    (warning === "" ? "" : `Warning: ${warning}\n`) + "\n";
  return about + line(head) + rule + body.map(line).join("");
}
