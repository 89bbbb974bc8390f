/**
 * The simulated cloud's command line, read into `CloudOptions`. Every problem
 * is a RangeError or TypeError naming the flag; nothing falls back quietly.
 *
 * ```
 * deno run -A sim/cloud/main.ts --instance-type T [--subnet-cidr CIDR]... [--vpc-cidr CIDR]
 *   [--attach-latency-ms MS] [--detach-latency-ms MS] [--api-latency-ms ACTION=MS,...]
 *   [--imds-lag-ms MS] [--seed N] [--listen HOST:PORT] [--control PATH] [--vpc-netns PATH] [--no-links]
 *   [--withhold ACTION,...]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cidrContains, cidrSize, parseCidr } from "../../shared/mod.ts";
import type { Ec2Action } from "../ec2/mod.ts";
import { EC2_ACTIONS, parseListenAddress } from "../emulator/mod.ts";

/** What the cloud stands in for, and how it behaves at start. */
export interface CloudOptions {
  readonly instanceType: string;
  /** The VPC's IPv4 CIDR (default 10.0.0.0/16). */
  readonly vpcCidr: string;
  /** The node's subnet first, then the VPC's others (default one: 10.0.0.0/20). */
  readonly subnetCidrs: readonly string[];
  /** A fixed attach time; unset: EC2's measured spread (median 2.5 s). */
  readonly attachLatencyMs: number | null;
  /** A fixed detach time; unset: EC2's 2 to 3 s. */
  readonly detachLatencyMs: number | null;
  /** Extra time before EC2 answers, per action. */
  readonly apiLatencyMs: ReadonlyMap<Ec2Action, number>;
  /** How long ENI changes take to show in IMDS. */
  readonly imdsLagMs: number;
  /** Seed of ids, addresses, latencies and rate faults. */
  readonly seed: number;
  /** `HOST:PORT`: EC2 on PORT, IMDS on PORT + 1; null: free loopback ports. */
  readonly listen: string | null;
  /** The control socket; null: one in a temp directory of its own. */
  readonly controlPath: string | null;
  /** A network namespace to put the VPC side of the ENI links in; null: one the cloud makes. */
  readonly vpcNetns: string | null;
  /** Attach ENIs without links (no root needed). */
  readonly links: boolean;
  /** Actions the node's role may not call (its IAM policy lacks them) from the start. */
  readonly withheld?: readonly Ec2Action[];
}

/** The usage text, for errors and `--help`. */
export const CLOUD_USAGE =
  `usage: deno run -A sim/cloud/main.ts --instance-type T [--subnet-cidr CIDR]... [--vpc-cidr CIDR]
  [--attach-latency-ms MS] [--detach-latency-ms MS] [--api-latency-ms ACTION=MS,...]
  [--imds-lag-ms MS] [--seed N] [--listen HOST:PORT] [--control PATH] [--vpc-netns PATH] [--no-links]
  [--withhold ACTION,...]

--withhold takes EC2 actions out of the node role's IAM policy: EC2 answers them (and their
DryRun) with UnauthorizedOperation, as it does for a role without the permission.

A simulated EC2 instance for one node: EC2's Query API and IMDSv2 on loopback, each attached
ENI a link with its MAC in this network namespace (a veth whose peer sits in the VPC side's
namespace), and a control socket to turn faults and read the account. Prints one JSON line
with its endpoints once it serves; SIGTERM removes its links and namespaces.
`;

/** Reads the command line; throws a RangeError or TypeError naming the flag at fault. */
export function parseCloudArgs(args: readonly string[]): CloudOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      "instance-type": { type: "string" },
      "subnet-cidr": { type: "string", multiple: true },
      "vpc-cidr": { type: "string" },
      "attach-latency-ms": { type: "string" },
      "detach-latency-ms": { type: "string" },
      "api-latency-ms": { type: "string" },
      "imds-lag-ms": { type: "string" },
      seed: { type: "string" },
      listen: { type: "string" },
      control: { type: "string" },
      "vpc-netns": { type: "string" },
      "no-links": { type: "boolean" },
      withhold: { type: "string" },
    },
    strict: true,
  });
  const instanceType = values["instance-type"];
  if (instanceType === undefined || instanceType === "") throw new TypeError("Missing --instance-type");
  const vpcCidr = cidrFlag("--vpc-cidr", values["vpc-cidr"] ?? "10.0.0.0/16");
  const subnetCidrs = (values["subnet-cidr"] ?? ["10.0.0.0/20"]).map((text) => {
    const cidr = cidrFlag("--subnet-cidr", text);
    const vpc = parseCidr(vpcCidr);
    const subnet = parseCidr(cidr);
    if (!cidrContains(vpc, subnet.base) || !cidrContains(vpc, subnet.base + cidrSize(subnet) - 1)) {
      throw new RangeError(`Invalid --subnet-cidr "${text}": outside the VPC ${vpcCidr}`);
    }
    return cidr;
  });
  if (values.listen !== undefined) parseListenAddress(values.listen);
  const path = (flag: string, value: string | undefined): string | null => {
    if (value === undefined) return null;
    if (!value.startsWith("/")) throw new RangeError(`Invalid ${flag} "${value}": expected an absolute path`);
    return value;
  };
  return {
    instanceType,
    vpcCidr,
    subnetCidrs,
    attachLatencyMs: optionalMs("--attach-latency-ms", values["attach-latency-ms"]),
    detachLatencyMs: optionalMs("--detach-latency-ms", values["detach-latency-ms"]),
    apiLatencyMs: parseApiLatency(values["api-latency-ms"] ?? ""),
    imdsLagMs: optionalMs("--imds-lag-ms", values["imds-lag-ms"]) ?? 0,
    seed: wholeNumber("--seed", values.seed ?? "1"),
    listen: values.listen ?? null,
    controlPath: path("--control", values.control),
    vpcNetns: path("--vpc-netns", values["vpc-netns"]),
    links: values["no-links"] !== true,
    withheld: parseActions("--withhold", values.withhold ?? ""),
  };
}

/** Reads `Action,…`; throws a RangeError naming the item at fault. */
export function parseActions(flag: string, text: string): Ec2Action[] {
  return text.split(",").map((part) => part.trim()).filter((part) => part !== "").map((action) => {
    if (!Object.hasOwn(EC2_ACTIONS, action)) {
      throw new RangeError(`Invalid ${flag} "${action}": expected an EC2 action ipamd calls`);
    }
    return action as Ec2Action;
  });
}

/** Reads `Action=MS,…`; throws a RangeError naming the item at fault. */
export function parseApiLatency(text: string): Map<Ec2Action, number> {
  const latencies = new Map<Ec2Action, number>();
  for (const item of text.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
    const [, action = "", ms = ""] = /^([A-Za-z]+)=(\d+)$/.exec(item) ?? [];
    if (!Object.hasOwn(EC2_ACTIONS, action)) {
      throw new RangeError(`Invalid --api-latency-ms "${item}": expected Action=MS with an EC2 action`);
    }
    latencies.set(action as Ec2Action, Number(ms));
  }
  return latencies;
}

function cidrFlag(flag: string, text: string): string {
  try {
    parseCidr(text);
  } catch (error) {
    throw new RangeError(`Invalid ${flag} "${text}": expected an IPv4 CIDR`, { cause: error });
  }
  return text;
}

function wholeNumber(flag: string, text: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`Invalid ${flag} "${text}": expected a whole number`);
  }
  return value;
}

function optionalMs(flag: string, text: string | undefined): number | null {
  return text === undefined ? null : wholeNumber(flag, text);
}
