/**
 * Typed views of `ip -j` output: links, IPv4 addresses, IPv4 routes and rules.
 * Parsing is lenient: fields we do not use are ignored, and entries of the wrong
 * shape or family are dropped.
 *
 * @module
 */

/** One link. */
export interface LinkState {
  readonly name: string;
  /** Lower-case MAC, "" when the link has none. */
  readonly mac: string;
  readonly mtu: number;
  /** Administratively up. */
  readonly up: boolean;
  /** `ip link set … alias`, "" when unset. */
  readonly alias: string;
}

/** One IPv4 address on a link. */
export interface AddrState {
  readonly dev: string;
  readonly local: string;
  readonly prefixLength: number;
  readonly scope: string;
  readonly secondary: boolean;
}

/** One IPv4 route. `table` is "main" when `ip` printed none. */
export interface RouteState {
  /** "default", an address, or a CIDR as `ip` prints it (host routes have no /32). */
  readonly dst: string;
  readonly table: string;
  readonly dev?: string;
  readonly gateway?: string;
  readonly scope?: string;
  readonly metric?: number;
}

/** One IPv4 rule. */
export interface RuleState {
  readonly priority: number;
  /** "all" or a CIDR (`a.b.c.d/32` for a host). */
  readonly from: string;
  /** "all" or a CIDR. */
  readonly to: string;
  readonly table: string;
  /** Numeric fwmark and mask, or undefined. */
  readonly fwmark?: number;
  readonly fwmask?: number;
}

type Json = Record<string, unknown>;

function entries(value: unknown): Json[] {
  return Array.isArray(value)
    ? value.filter((entry): entry is Json => typeof entry === "object" && entry !== null)
    : [];
}

function text(entry: Json, key: string): string | undefined {
  const value = entry[key];
  return typeof value === "string" ? value : undefined;
}

function num(entry: Json, key: string): number | undefined {
  const value = entry[key];
  return typeof value === "number" ? value : undefined;
}

/** `ip -j link show`. */
export function parseLinks(json: unknown): LinkState[] {
  return entries(json).flatMap((entry) => {
    const name = text(entry, "ifname");
    if (name === undefined) return [];
    const flags = Array.isArray(entry.flags) ? entry.flags : [];
    return [{
      name,
      mac: (text(entry, "address") ?? "").toLowerCase(),
      mtu: num(entry, "mtu") ?? 0,
      up: flags.includes("UP"),
      alias: text(entry, "ifalias") ?? "",
    }];
  });
}

/** `ip -j addr show`: IPv4 addresses only. */
export function parseAddrs(json: unknown): AddrState[] {
  return entries(json).flatMap((link) => {
    const dev = text(link, "ifname");
    if (dev === undefined) return [];
    return entries(link.addr_info).flatMap((addr) => {
      const local = text(addr, "local");
      const prefixLength = num(addr, "prefixlen");
      if (text(addr, "family") !== "inet" || local === undefined || prefixLength === undefined) return [];
      return [{
        dev,
        local,
        prefixLength,
        scope: text(addr, "scope") ?? "global",
        secondary: addr.secondary === true,
      }];
    });
  });
}

/** `ip -j route show table …`: IPv4 unicast routes only. */
export function parseRoutes(json: unknown): RouteState[] {
  return entries(json).flatMap((entry) => {
    const dst = text(entry, "dst");
    const type = text(entry, "type") ?? "unicast";
    if (dst === undefined || dst.includes(":") || type !== "unicast") return [];
    const dev = text(entry, "dev");
    const gateway = text(entry, "gateway");
    const scope = text(entry, "scope");
    const metric = num(entry, "metric");
    return [{
      dst,
      table: text(entry, "table") ?? "main",
      ...(dev === undefined ? {} : { dev }),
      ...(gateway === undefined ? {} : { gateway }),
      ...(scope === undefined ? {} : { scope }),
      ...(metric === undefined ? {} : { metric }),
    }];
  });
}

function prefix(entry: Json, key: string, lengthKey: string): string {
  const address = text(entry, key) ?? "all";
  if (address === "all") return "all";
  return `${address}/${num(entry, lengthKey) ?? 32}`;
}

function mark(entry: Json, key: string): number | undefined {
  const value = entry[key];
  if (typeof value === "number") return value;
  if (typeof value !== "string" || !/^(0x[0-9a-f]+|[0-9]+)$/i.test(value)) return undefined;
  return Number(value);
}

/** `ip -j rule show`: IPv4 rules. */
export function parseRules(json: unknown): RuleState[] {
  return entries(json).flatMap((entry) => {
    const priority = num(entry, "priority");
    if (priority === undefined) return [];
    const fwmark = mark(entry, "fwmark");
    const fwmask = mark(entry, "fwmask");
    return [{
      priority,
      from: prefix(entry, "src", "srclen"),
      to: prefix(entry, "dst", "dstlen"),
      table: text(entry, "table") ?? String(num(entry, "table") ?? "main"),
      ...(fwmark === undefined ? {} : { fwmark }),
      ...(fwmark === undefined ? {} : { fwmask: fwmask ?? 0xffffffff }),
    }];
  });
}

/** Normalises a MAC for comparison. */
export function normalizeMac(mac: string): string {
  const lower = mac.trim().toLowerCase();
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(lower)) {
    throw new SyntaxError(`Cannot parse MAC address "${mac}"`);
  }
  return lower;
}
