/**
 * CHECK: compares prevResult with the pod and host namespaces (address,
 * routes, neighbour, host veth, route and rules) and asks ipamd whether it
 * still holds the address. The error lists each piece as "missing …" (absent) or
 * "different …" (present, but not as ADD made it).
 *
 * @module
 */
import { CniError, CniErrorCode, errorText, LinkNotFoundError, NetnsNotFoundError } from "../shared/mod.ts";
import { RpcCallError, Status } from "../shared/rpc/mod.ts";
import type { VerbContext } from "./deps.ts";
import { cniErrorFromIpamd } from "./ipamd_api.ts";
import {
  FROM_POD_RULE_PRIORITY,
  hostVethKey,
  hostVethName,
  POD_GATEWAY,
  TO_POD_RULE_PRIORITY,
} from "./pod_net.ts";
import { type Attachment, findAttachment, MAIN_TABLE } from "./result.ts";

type Json = Record<string, unknown>;

function rows(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter((v): v is Json => typeof v === "object" && v !== null) : [];
}

/** Runs CHECK; throws a CniError naming every piece that is missing or different. */
export async function cmdCheck(ctx: VerbContext): Promise<void> {
  const { env, conf } = ctx;
  if (conf.prevResult === undefined) {
    throw new CniError(CniErrorCode.INVALID_CONFIG, "Invalid network configuration: CHECK needs prevResult");
  }
  const attachment = findAttachment(conf.prevResult, env.ifName);
  const podIp = attachment.podIps[0];
  if (attachment.podInterface === undefined || podIp === undefined) {
    throw new CniError(
      CniErrorCode.INVALID_CONFIG,
      `Invalid network configuration: prevResult has no address on interface "${env.ifName}"`,
    );
  }
  const hostVeth = attachment.hostVeth?.name ??
    await hostVethName(conf.vethPrefix, hostVethKey(env.k8s.podNamespace, env.k8s.podName, env.containerId));
  const [pod, host, ipamd] = await Promise.all([
    checkPod(ctx, attachment, podIp),
    checkHost(ctx, attachment, podIp, hostVeth),
    checkIpamd(ctx, podIp),
  ]);
  const missing = [...pod, ...host, ...ipamd];
  if (missing.length > 0) {
    throw new CniError(CniErrorCode.INTERNAL, `CHECK failed for "${env.ifName}": ${missing.join("; ")}`);
  }
}

async function checkPod(ctx: VerbContext, attachment: Attachment, podIp: string): Promise<string[]> {
  const { ifName, netns } = ctx.env;
  let addr, routes, neigh;
  try {
    [addr, routes, neigh] = await ctx.deps.ip.query([
      ["addr", "show", "dev", ifName],
      ["route", "show", "dev", ifName],
      ["neigh", "show", "dev", ifName],
    ], { netns });
  } catch (error) {
    if (error instanceof LinkNotFoundError) return [`missing pod interface "${ifName}" in ${netns}`];
    if (error instanceof NetnsNotFoundError) return [`missing pod network namespace ${netns}`];
    throw error;
  }
  const missing: string[] = [];
  const link = rows(addr)[0];
  const podMac = attachment.podInterface?.mac;
  if (podMac !== undefined && /:/.test(podMac) && link?.["address"] !== podMac) {
    missing.push(`different pod interface MAC: ${link?.["address"]}, expected ${podMac}`);
  }
  const addresses = rows(link?.["addr_info"]);
  if (!addresses.some((a) => a["family"] === "inet" && a["local"] === podIp && a["prefixlen"] === 32)) {
    missing.push(`missing address ${podIp}/32 on pod interface`);
  }
  const routeRows = rows(routes);
  if (!routeRows.some((r) => r["dst"] === POD_GATEWAY && r["scope"] === "link")) {
    missing.push(`missing pod route ${POD_GATEWAY} scope link`);
  }
  if (!routeRows.some((r) => r["dst"] === "default" && r["gateway"] === POD_GATEWAY)) {
    missing.push(`missing pod default route via ${POD_GATEWAY}`);
  }
  const hostMac = attachment.hostVeth?.mac;
  const entry = rows(neigh).find((n) => n["dst"] === POD_GATEWAY);
  const permanent = Array.isArray(entry?.["state"]) && (entry["state"] as unknown[]).includes("PERMANENT");
  const wanted = `permanent pod neighbour ${POD_GATEWAY} -> ${hostMac ?? "host veth MAC"}`;
  if (entry === undefined) missing.push(`missing ${wanted}`);
  else if (!permanent || (hostMac !== undefined && entry["lladdr"] !== hostMac)) {
    const state = Array.isArray(entry["state"]) ? (entry["state"] as unknown[]).join(",") : "no state";
    missing.push(
      `different pod neighbour ${POD_GATEWAY}: ${
        entry["lladdr"] ?? "no address"
      } ${state}, expected ${wanted}`,
    );
  }
  return missing;
}

async function checkHost(
  ctx: VerbContext,
  attachment: Attachment,
  podIp: string,
  hostVeth: string,
): Promise<string[]> {
  let link, routes, rules;
  try {
    [link, routes, rules] = await ctx.deps.ip.query([
      ["link", "show", "dev", hostVeth],
      ["route", "show", "dev", hostVeth],
      ["rule", "show"],
    ]);
  } catch (error) {
    if (!(error instanceof LinkNotFoundError)) throw error;
    return [`missing host veth "${hostVeth}"`, ...ruleProblems(attachment, podIp, await ruleRows(ctx))];
  }
  const missing: string[] = [];
  const hostMac = attachment.hostVeth?.mac;
  const actualMac = rows(link)[0]?.["address"];
  if (hostMac !== undefined && actualMac !== hostMac) {
    missing.push(`different host veth MAC: ${actualMac}, expected ${hostMac}`);
  }
  if (!rows(routes).some((r) => r["dst"] === podIp && r["scope"] === "link")) {
    missing.push(`missing host route ${podIp}/32 dev ${hostVeth} scope link`);
  }
  return [...missing, ...ruleProblems(attachment, podIp, rows(rules))];
}

async function ruleRows(ctx: VerbContext): Promise<Json[]> {
  const [rules] = await ctx.deps.ip.query([["rule", "show"]]);
  return rows(rules);
}

function ruleProblems(attachment: Attachment, podIp: string, rules: readonly Json[]): string[] {
  const missing: string[] = [];
  const has = (priority: number, key: "src" | "dst", table: string): boolean =>
    rules.some((r) => r["priority"] === priority && r[key] === podIp && r["table"] === table);
  if (!has(TO_POD_RULE_PRIORITY, "dst", "main")) {
    missing.push(`missing host rule "to ${podIp} lookup main" prio ${TO_POD_RULE_PRIORITY}`);
  }
  const table = attachment.routeTable;
  if (table !== undefined && table !== MAIN_TABLE && !has(FROM_POD_RULE_PRIORITY, "src", String(table))) {
    missing.push(`missing host rule "from ${podIp} lookup ${table}" prio ${FROM_POD_RULE_PRIORITY}`);
  }
  return missing;
}

async function checkIpamd(ctx: VerbContext, podIp: string): Promise<string[]> {
  const { env, conf } = ctx;
  try {
    const allocations = await ctx.ipamd.listAllocations(conf.name, ctx.deps.deadlines.queryMs);
    const held = allocations.some((a) =>
      a.containerId === env.containerId && a.ifName === env.ifName && a.ipv4Addr === podIp
    );
    return held ? [] : [`missing ipamd allocation of ${podIp} to ${env.containerId}/${env.ifName}`];
  } catch (error) {
    if (error instanceof RpcCallError && error.code === Status.UNIMPLEMENTED) {
      ctx.log.debug("ipamd cannot list allocations; skipping that check", { error: errorText(error) });
      return [];
    }
    throw cniErrorFromIpamd(error, "ask ipamd about the allocation");
  }
}
