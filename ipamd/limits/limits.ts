/**
 * EC2 instance limits: the built-in table of ENI and IPv4 limits per instance type
 * (instance_limits.json, made by tools/gen_instance_limits.ts and embedded by
 * `deno compile`) and lookups; max_pods.ts holds the max-pods arithmetic.
 *
 * @module
 */

import data from "./instance_limits.json" with { type: "json" };

/** The hypervisor EC2 reports; most bare-metal types report none ("unknown"). */
/** What the instance allows. */
export interface InstanceLimits {
  /** ENIs the instance can attach (default network card). */
  readonly maxEnis: number;
  /** IPv4 addresses per ENI, the ENI's own primary address included. */
  readonly ipv4PerEni: number;
  /** Pods the node runs at most; the pool never holds more addresses than this. */
  readonly maxPods: number;
}

export type Hypervisor = "nitro" | "xen" | "unknown";

/** One network card and the ENIs it can hold. */
export interface NetworkCard {
  readonly index: number;
  readonly maxEnis: number;
}

/** What the daemon needs to know about an instance type. */
export interface InstanceTypeInfo {
  readonly name: string;
  /** ENIs usable on the default network card. */
  readonly maxEnis: number;
  /** IPv4 addresses per ENI, the ENI's own primary address included. */
  readonly ipv4PerEni: number;
  readonly hypervisor: Hypervisor;
  readonly bareMetal: boolean;
  readonly defaultNetworkCard: number;
  /** Every network card, by index. */
  readonly networkCards: readonly NetworkCard[];
  /** DescribeInstanceTypes' default vCPUs, for a type the table does not list (the table's come from the name). */
  readonly vcpus?: number;
}

/**
 * An instance type's limits as DescribeInstanceTypes reports them (`NetworkInfo`,
 * `Hypervisor`, `BareMetal`), for types missing from the built-in table.
 */
export interface DescribedInstanceType {
  /** `NetworkInfo.MaximumNetworkInterfaces`: all network cards together. */
  readonly maximumNetworkInterfaces: number;
  /** `NetworkInfo.Ipv4AddressesPerInterface`. */
  readonly ipv4AddressesPerInterface: number;
  readonly hypervisor?: string | undefined;
  readonly bareMetal?: boolean | undefined;
  /** `VCpuInfo.DefaultVCpus`. */
  readonly defaultVcpus?: number | undefined;
  /** `NetworkInfo.DefaultNetworkCardIndex`; 0 when left out. */
  readonly defaultNetworkCardIndex?: number | undefined;
  /** `NetworkInfo.NetworkCards`; one card holding every ENI when left out. */
  readonly networkCards?:
    | readonly { readonly networkCardIndex: number; readonly maximumNetworkInterfaces: number }[]
    | undefined;
}

/** Thrown by `lookupInstanceType()` for a type the built-in table does not list; `hint` follows the name. */
export class UnknownInstanceTypeError extends Error {
  override readonly name = "UnknownInstanceTypeError";
  readonly instanceType: string;

  constructor(instanceType: string, hint = "", options?: ErrorOptions) {
    super(`Unknown instance type ${JSON.stringify(instanceType)}${hint}`, options);
    this.instanceType = instanceType;
  }
}

const COLUMNS = ["enis", "ipv4PerEni", "hypervisor", "bareMetal", "defaultNetworkCard", "networkCards"];
const ROWS: Readonly<Record<string, unknown>> = readTable(data);

/**
 * Looks an instance type up in the built-in table.
 *
 * @throws {UnknownInstanceTypeError} When the table does not list `name`.
 */
export function lookupInstanceType(name: string): InstanceTypeInfo {
  if (!Object.hasOwn(ROWS, name)) throw new UnknownInstanceTypeError(name);
  return decodeRow(name, ROWS[name]);
}

/** Every instance type in the built-in table, sorted. */
export function instanceTypeNames(): string[] {
  return Object.keys(ROWS).sort();
}

/**
 * Builds an `InstanceTypeInfo` from DescribeInstanceTypes facts, for a type the
 * built-in table does not list. Like the table, `maxEnis` counts the default card only.
 *
 * @throws {TypeError} When `name` is empty.
 * @throws {RangeError} When a count is not a positive integer or the default card is not listed.
 */
export function infoFromDescribe(name: string, described: DescribedInstanceType): InstanceTypeInfo {
  if (name === "") throw new TypeError("Cannot describe an instance type without a name");
  const check = (field: string, value: number, min: number): number => {
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RangeError(
        `Invalid ${field} ${value} for instance type "${name}": must be an integer >= ${min}`,
      );
    }
    return value;
  };
  const defaultNetworkCard = check("default network card index", described.defaultNetworkCardIndex ?? 0, 0);
  const total = check("maximum network interfaces", described.maximumNetworkInterfaces, 1);
  const networkCards =
    (described.networkCards ?? [{ networkCardIndex: defaultNetworkCard, maximumNetworkInterfaces: total }])
      .map((card) => ({
        index: check("network card index", card.networkCardIndex, 0),
        maxEnis: check("network card maximum network interfaces", card.maximumNetworkInterfaces, 1),
      }))
      .sort((a, b) => a.index - b.index);
  const repeated = networkCards.find((card, i) => i > 0 && networkCards[i - 1]?.index === card.index);
  if (repeated !== undefined) {
    throw new RangeError(
      `Invalid network card ${repeated.index} for instance type "${name}": it is listed twice`,
    );
  }
  const defaultCard = networkCards.find((card) => card.index === defaultNetworkCard);
  if (defaultCard === undefined) {
    throw new RangeError(
      `Invalid default network card ${defaultNetworkCard} for instance type "${name}": no such card is listed`,
    );
  }
  const hypervisor = described.hypervisor;
  return Object.freeze({
    name,
    maxEnis: defaultCard.maxEnis,
    ipv4PerEni: check("IPv4 addresses per interface", described.ipv4AddressesPerInterface, 1),
    hypervisor: hypervisor === "nitro" || hypervisor === "xen" ? hypervisor : "unknown",
    bareMetal: described.bareMetal ?? false,
    defaultNetworkCard,
    networkCards: Object.freeze(networkCards.map((card) => Object.freeze(card))),
    ...(described.defaultVcpus === undefined
      ? {}
      : { vcpus: check("default vCPUs", described.defaultVcpus, 1) }),
  });
}

/** Whether the type can take /28 prefixes: Nitro or bare metal. */
export function supportsPrefixDelegation(info: Pick<InstanceTypeInfo, "hypervisor" | "bareMetal">): boolean {
  return info.hypervisor === "nitro" || info.bareMetal;
}

function readTable(file: unknown): Readonly<Record<string, unknown>> {
  const header = isRecord(file) && isRecord(file.header) ? file.header : undefined;
  const fields = header !== undefined && Array.isArray(header.fields) ? header.fields : [];
  const names = fields.map((field) => typeof field === "string" ? field.split(":", 1)[0] : undefined);
  if (names.join() !== COLUMNS.join() || !isRecord(file) || !isRecord(file.instanceTypes)) {
    throw new SyntaxError(`Cannot read instance_limits.json: expected columns ${JSON.stringify(COLUMNS)}`);
  }
  return file.instanceTypes;
}

function decodeRow(name: string, row: unknown): InstanceTypeInfo {
  const malformed = (): never => {
    throw new SyntaxError(`Cannot read instance type "${name}" from instance_limits.json: malformed row`);
  };
  const [maxEnis, ipv4PerEni, hypervisor, bareMetal, defaultNetworkCard, runs]: unknown[] = Array.isArray(row)
    ? row
    : malformed();
  if (!isCount(maxEnis) || !isCount(ipv4PerEni) || typeof bareMetal !== "boolean") return malformed();
  if (hypervisor !== "nitro" && hypervisor !== "xen" && hypervisor !== "unknown") return malformed();
  if (!Array.isArray(runs) || runs.length === 0) return malformed();
  const networkCards: NetworkCard[] = [];
  for (const run of runs) {
    const [count, cardMaxEnis]: unknown[] = Array.isArray(run) ? run : malformed();
    if (!isCount(count) || !isCount(cardMaxEnis)) return malformed();
    for (let n = 0; n < count; n++) {
      networkCards.push(Object.freeze({ index: networkCards.length, maxEnis: cardMaxEnis }));
    }
  }
  if (typeof defaultNetworkCard !== "number" || networkCards[defaultNetworkCard] === undefined) {
    return malformed();
  }
  return Object.freeze({
    name,
    maxEnis,
    ipv4PerEni,
    hypervisor,
    bareMetal,
    defaultNetworkCard,
    networkCards: Object.freeze(networkCards),
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

export { instanceLimits } from "./max_pods.ts";
