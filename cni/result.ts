/**
 * CNI results: one internal shape (spec 1.1.0 fields), parsed leniently from a
 * `prevResult` of any supported version and rendered for the requested version
 * at the edge (0.4.0 adds `ips[].version`; fields new in 1.1.0 are dropped for
 * older versions).
 *
 * What DEL and CHECK need without ipamd is kept in the result itself:
 * - interface 0 is the host veth with its real MAC, interface 1 the pod
 *   interface (`sandbox` = netns) with its real MAC, and `ips[].interface`
 *   points at it;
 * - one more entry, `{"name": "aws-cni/route-table/<n>"}`, records the route
 *   table of the pod's `from` rule (254 = main, no rule). A name with "/"
 *   can never be a real link, and it has no `sandbox`, so runtimes ignore it.
 *   The reference stores the table in the pod interface's `mac` instead; that
 *   form is still understood when reading.
 *
 * @module
 */
import type { CniVersion } from "./netconf.ts";

/** `interfaces[]` entries. */
export interface CniInterface {
  readonly name: string;
  readonly mac?: string;
  /** 1.1.0 */
  readonly mtu?: number;
  readonly sandbox?: string;
  readonly [extra: string]: unknown;
}

/** `ips[]` entries (without the 0.4.0 `version`, which is derived). */
export interface CniIpConfig {
  readonly address: string;
  readonly gateway?: string;
  readonly interface?: number;
  readonly [extra: string]: unknown;
}

/** `routes[]` entries; 1.1.0 adds mtu, advmss, priority, table, scope. */
export interface CniRoute {
  readonly dst: string;
  readonly gw?: string;
  readonly [extra: string]: unknown;
}

/** A result in the internal shape. */
export interface CniResult {
  readonly interfaces: readonly CniInterface[];
  readonly ips: readonly CniIpConfig[];
  readonly routes: readonly CniRoute[];
  readonly dns?: Readonly<Record<string, unknown>>;
}

/** Prefix of the interface entry that records the pod's route table. */
export const ROUTE_TABLE_ENTRY = "aws-cni/route-table/";

/** The main routing table. */
export const MAIN_TABLE = 254;

const V110_INTERFACE_FIELDS = ["mtu", "socketPath", "pciID"];
const V110_ROUTE_FIELDS = ["mtu", "advmss", "priority", "table", "scope"];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function list(value: unknown, what: string): Record<string, unknown>[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isRecord)) {
    throw new TypeError(`${what} must be an array of objects`);
  }
  return value;
}

function requireString(entry: Record<string, unknown>, key: string, what: string): void {
  if (typeof entry[key] !== "string" || entry[key] === "") {
    throw new TypeError(`${what}.${key} must be a string`);
  }
}

/** Parses a `prevResult`; throws TypeError naming the bad field. */
export function parseResult(value: unknown): CniResult {
  if (!isRecord(value)) throw new TypeError("must be an object");
  const interfaces = list(value["interfaces"], "interfaces");
  interfaces.forEach((entry, i) => requireString(entry, "name", `interfaces[${i}]`));
  const ips = list(value["ips"], "ips").map((entry, i) => {
    requireString(entry, "address", `ips[${i}]`);
    if (!/^[0-9a-fA-F:.]{2,45}\/\d{1,3}$/.test(entry["address"] as string)) {
      throw new TypeError(`ips[${i}].address must be an address with a prefix length`);
    }
    const index = entry["interface"];
    if (index !== undefined && (!Number.isInteger(index) || (index as number) < 0)) {
      throw new TypeError(`ips[${i}].interface must be a non-negative integer`);
    }
    const { version: _version, ...rest } = entry;
    return rest as unknown as CniIpConfig;
  });
  const routes = list(value["routes"], "routes");
  routes.forEach((entry, i) => requireString(entry, "dst", `routes[${i}]`));
  const dns = value["dns"];
  if (dns !== undefined && !isRecord(dns)) throw new TypeError("dns must be an object");
  return {
    interfaces: interfaces as unknown as CniInterface[],
    ips,
    routes: routes as unknown as CniRoute[],
    ...(dns === undefined ? {} : { dns }),
  };
}

/** Appends `ours` to `prev` (chaining), shifting our `ips[].interface` indexes past prev's interfaces. */
export function mergeResults(prev: CniResult | undefined, ours: CniResult): CniResult {
  if (prev === undefined) return ours;
  const offset = prev.interfaces.length;
  return {
    interfaces: [...prev.interfaces, ...ours.interfaces],
    ips: [
      ...prev.ips,
      ...ours.ips.map((ip) => ip.interface === undefined ? ip : { ...ip, interface: ip.interface + offset }),
    ],
    routes: [...prev.routes, ...ours.routes],
    ...(prev.dns ?? ours.dns ? { dns: prev.dns ?? ours.dns } : {}),
  };
}

function without(entry: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entry).filter(([key]) => !keys.includes(key)));
}

/** The result as JSON for `version`. */
export function renderResult(result: CniResult, version: CniVersion): Record<string, unknown> {
  const old = version !== "1.1.0";
  const out: Record<string, unknown> = {
    cniVersion: version,
    interfaces: result.interfaces.map((entry) => old ? without(entry, V110_INTERFACE_FIELDS) : { ...entry }),
    ips: result.ips.map((ip) =>
      version === "0.4.0" ? { version: ip.address.includes(":") ? "6" : "4", ...ip } : { ...ip }
    ),
  };
  if (result.routes.length > 0) {
    out["routes"] = result.routes.map((route) => old ? without(route, V110_ROUTE_FIELDS) : { ...route });
  }
  if (result.dns !== undefined) out["dns"] = { ...result.dns };
  return out;
}

/** What our ADD left in a result for one pod interface. */
export interface Attachment {
  /** Host veth entry name and MAC, when present. */
  readonly hostVeth?: CniInterface;
  /** The pod interface entry. */
  readonly podInterface?: CniInterface;
  /** IPv4 addresses (no prefix) on the pod interface. */
  readonly podIps: readonly string[];
  /** Route table of the `from` rule, or undefined when the result does not say. */
  readonly routeTable?: number;
}

/** Finds our attachment for `ifName` in a (possibly chained) result. */
export function findAttachment(result: CniResult, ifName: string): Attachment {
  const podIndex = result.interfaces.findIndex((entry) =>
    entry.name === ifName && entry.sandbox !== undefined
  );
  const podInterface = podIndex < 0 ? undefined : result.interfaces[podIndex];
  const podIps = result.ips
    .filter((ip) => podIndex < 0 ? ip.interface === undefined : ip.interface === podIndex)
    .map((ip) => ip.address.split("/")[0] ?? "")
    .filter((address) => /^\d+\.\d+\.\d+\.\d+$/.test(address));
  const tableEntry = result.interfaces.find((entry) => entry.name.startsWith(ROUTE_TABLE_ENTRY));
  const tableText = tableEntry?.name.slice(ROUTE_TABLE_ENTRY.length) ??
    (/^\d+$/.test(podInterface?.mac ?? "") ? podInterface?.mac : undefined);
  const routeTable = tableText === undefined ? undefined : Number(tableText);
  const hostVeth = podIndex > 0 ? result.interfaces[podIndex - 1] : undefined;
  return {
    podIps,
    ...(hostVeth?.sandbox === undefined && hostVeth !== undefined ? { hostVeth } : {}),
    ...(podInterface === undefined ? {} : { podInterface }),
    ...(routeTable === undefined || !Number.isSafeInteger(routeTable) ? {} : { routeTable }),
  };
}
