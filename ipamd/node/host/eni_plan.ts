/**
 * Pure planning of `ip` commands: given what the namespace holds now, the
 * commands that bring one secondary ENI (or the node-wide rules) to the wanted
 * state. Nothing here runs a command; an empty plan means "already right".
 *
 * @module
 */
import { formatIpv4, type IpCommand, parseCidr } from "../../../shared/mod.ts";
import type { AddrState, LinkState, RouteState, RuleState } from "./ip_state.ts";
import {
  ENI_RULE_PRIORITY,
  eniRouteTable,
  EXTERNAL_SERVICE_RULE_PRIORITY,
  FWMARK_RULE_PRIORITY,
} from "./types.ts";

/** What the planners read. */
export interface NetState {
  readonly addrs: readonly AddrState[];
  /** Routes of every table (`ip -j route show table all`). */
  readonly routes: readonly RouteState[];
  readonly rules: readonly RuleState[];
}

/** An ENI as the planner needs it, MTU resolved. */
export interface EniTarget {
  readonly primaryIp: string;
  readonly subnetCidr: string;
  readonly deviceNumber: number;
  readonly mtu: number;
}

/** Commands split by how they run: deletions may race with the kernel and tolerate "not found". */
export interface Plan {
  readonly remove: readonly IpCommand[];
  readonly add: readonly IpCommand[];
}

/** The subnet's gateway: network address + 1. */
export function subnetGateway(subnetCidr: string): string {
  const cidr = parseCidr(subnetCidr);
  if (cidr.bits > 30) throw new RangeError(`Invalid ENI subnet "${subnetCidr}": must be /30 or larger`);
  return formatIpv4(cidr.base + 1);
}

function host(cidr: string): string {
  return cidr.endsWith("/32") ? cidr.slice(0, -3) : cidr;
}

function routeDelete(route: RouteState): IpCommand {
  return [
    "route",
    "del",
    route.dst,
    ...(route.dev === undefined ? [] : ["dev", route.dev]),
    "table",
    route.table,
    ...(route.metric === undefined ? [] : ["metric", String(route.metric)]),
  ];
}

function ruleDelete(rule: RuleState): IpCommand {
  return [
    "rule",
    "del",
    "prio",
    String(rule.priority),
    ...(rule.from === "all" ? [] : ["from", rule.from]),
    ...(rule.to === "all" ? [] : ["to", rule.to]),
    ...(rule.fwmark === undefined ? [] : ["fwmark", `${hex(rule.fwmark)}/${hex(rule.fwmask ?? 0xffffffff)}`]),
    "lookup",
    rule.table,
  ];
}

/** `0x80` style. */
export function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

/** Commands that configure `link` as the ENI `eni`. */
export function planEni(state: NetState, link: LinkState, eni: EniTarget): Plan {
  const table = String(eniRouteTable(eni.deviceNumber));
  const gateway = subnetGateway(eni.subnetCidr);
  const { bits } = parseCidr(eni.subnetCidr);
  const dev = link.name;
  const remove: IpCommand[] = [];
  const add: IpCommand[] = [];

  if (link.mtu !== eni.mtu || !link.up) add.push(["link", "set", "dev", dev, "mtu", String(eni.mtu), "up"]);

  // Addresses: keep exactly primaryIp/bits among the link's global IPv4 addresses.
  const globals = state.addrs.filter((a) => a.dev === dev && a.scope === "global");
  const keep = (a: AddrState) => a.local === eni.primaryIp && a.prefixLength === bits;
  // Deleting a primary address takes its secondaries with it: delete secondaries first, and
  // when ours is a secondary of an address that goes, delete and add it again.
  const kept = globals.find(keep);
  const stale = globals.filter((a) => !keep(a));
  const readd = kept !== undefined && kept.secondary && stale.some((a) => !a.secondary);
  const drop = [...stale, ...(readd ? [kept] : [])].sort((a, b) => Number(b.secondary) - Number(a.secondary));
  for (const a of drop) remove.push(["addr", "del", `${a.local}/${a.prefixLength}`, "dev", dev]);
  if (kept === undefined || readd) {
    add.push(["addr", "add", `${eni.primaryIp}/${bits}`, "dev", dev, "noprefixroute"]);
  }

  // Main table: the kernel's subnet route for this link goes.
  for (const r of state.routes) {
    if (r.table === "main" && r.dev === dev && r.dst === eni.subnetCidr) remove.push(routeDelete(r));
  }

  // Table N: exactly the gateway host route and the default route.
  const isGatewayRoute = (r: RouteState) =>
    r.dst === gateway && r.dev === dev && r.scope === "link" && r.gateway === undefined &&
    r.metric === undefined;
  const isDefault = (r: RouteState) =>
    r.dst === "default" && r.dev === dev && r.gateway === gateway && r.metric === undefined;
  const inTable = state.routes.filter((r) => r.table === table);
  for (const r of inTable) {
    if (!isGatewayRoute(r) && !isDefault(r)) remove.push(routeDelete(r));
  }
  if (!inTable.some(isGatewayRoute)) {
    add.push(["route", "replace", `${gateway}/32`, "dev", dev, "scope", "link", "table", table]);
  }
  if (!inTable.some(isDefault)) {
    add.push(["route", "replace", "default", "via", gateway, "dev", dev, "table", table]);
  }

  // Rule: from <primaryIp> lookup N, and no other priority-32765 rule for this IP or table.
  add.push(...planEniRule(state.rules, { from: `${eni.primaryIp}/32`, table }, remove));
  return { remove, add };
}

function planEniRule(
  rules: readonly RuleState[],
  want: { from: string; table: string },
  remove: IpCommand[],
): IpCommand[] {
  const ours = rules.filter((r) => r.priority === ENI_RULE_PRIORITY);
  const exact = (r: RuleState) =>
    r.from === want.from && r.to === "all" && r.table === want.table && r.fwmark === undefined;
  for (const r of ours) {
    if (!exact(r) && (r.from === want.from || r.table === want.table)) remove.push(ruleDelete(r));
  }
  if (ours.some(exact)) return [];
  return [["rule", "add", "from", host(want.from), "lookup", want.table, "prio", String(ENI_RULE_PRIORITY)]];
}

/** Commands that remove a freed ENI's rules and routes. */
export function planEniTeardown(state: NetState, eni: { deviceNumber: number; primaryIp?: string }): Plan {
  const table = String(eniRouteTable(eni.deviceNumber));
  const from = eni.primaryIp === undefined ? undefined : `${eni.primaryIp}/32`;
  const remove: IpCommand[] = state.rules
    .filter((r) => r.priority === ENI_RULE_PRIORITY && (r.table === table || r.from === from))
    .map(ruleDelete);
  if (state.routes.some((r) => r.table === table)) remove.push(["route", "flush", "table", table]);
  return { remove, add: [] };
}

/** Device numbers whose priority-32765 rule or table is not among `keep` (devices to tear down). */
export function staleEniDevices(state: NetState, keep: readonly number[]): number[] {
  const tables = new Set(keep.map((device) => String(eniRouteTable(device))));
  const stale = new Set<number>();
  for (const r of state.rules) {
    const device = Number(r.table) - 1;
    if (r.priority === ENI_RULE_PRIORITY && !tables.has(r.table) && device >= 1 && device <= 250) {
      stale.add(device);
    }
  }
  return [...stale].sort((a, b) => a - b);
}

/** Node-wide rule settings. */
export interface HostRuleTarget {
  /** Whether `fwmark <mark>/<mark> lookup main` should exist. */
  readonly fwmarkRule: boolean;
  readonly connmark: number;
  readonly externalServiceCidrs: readonly string[];
}

/** Commands for the fwmark rule (priority 1024) and the external-service rules (priority 1535). */
export function planHostRules(rules: readonly RuleState[], target: HostRuleTarget): Plan {
  const remove: IpCommand[] = [];
  const add: IpCommand[] = [];
  const mark = target.connmark;
  const fwmarkRules = rules.filter((r) => r.priority === FWMARK_RULE_PRIORITY && r.fwmark !== undefined);
  const exactMark = (r: RuleState) =>
    r.fwmark === mark && r.fwmask === mark && r.table === "main" && r.from === "all" && r.to === "all";
  for (const r of fwmarkRules) if (!target.fwmarkRule || !exactMark(r)) remove.push(ruleDelete(r));
  if (target.fwmarkRule && !fwmarkRules.some(exactMark)) {
    add.push([
      "rule",
      "add",
      "fwmark",
      `${hex(mark)}/${hex(mark)}`,
      "lookup",
      "main",
      "prio",
      String(FWMARK_RULE_PRIORITY),
    ]);
  }
  const wanted = new Set(target.externalServiceCidrs);
  const present = new Set<string>();
  for (const r of rules) {
    if (r.priority !== EXTERNAL_SERVICE_RULE_PRIORITY || r.table !== "main") continue;
    const keep = wanted.has(r.to) && r.from === "all" && r.fwmark === undefined && !present.has(r.to);
    if (keep) present.add(r.to);
    else remove.push(ruleDelete(r));
  }
  for (const cidr of wanted) {
    if (present.has(cidr)) continue;
    add.push(["rule", "add", "to", cidr, "lookup", "main", "prio", String(EXTERNAL_SERVICE_RULE_PRIORITY)]);
  }
  return { remove, add };
}
