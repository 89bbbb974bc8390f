/**
 * The suite's one check of a node against what the runtime believes: every pod
 * the runtime holds as running (its ADD was acknowledged and no DEL succeeded
 * since) must still have its address in the checkpoint, in ipamd's pool, on its
 * interface, and its host route and rules; nothing else may hold an address or
 * leave a route, rule or veth behind; no address may be held twice.
 *
 * @module
 */
import type { Netns } from "../../testing/netns.ts";
import type { TestNode } from "../../testing/node.ts";

/** A pod the runtime believes is running. */
export interface LivePod {
  readonly containerId: string;
  readonly ip: string;
  readonly hostVeth: string;
  /** Route table of the `from` rule; 254 (main) means none. */
  readonly table: number;
  readonly netns: Netns;
}

/** What the audit found; each entry says what and where. */
export interface Findings {
  readonly duplicates: string[];
  readonly leaks: string[];
  readonly lost: string[];
}

/** An allocation as the checkpoint file stores it. */
export interface SavedAllocation {
  readonly containerId: string;
  readonly ifName: string;
  readonly ip: string;
}

/** Reads the checkpoint's allocations (an absent file holds none). */
export async function savedAllocations(node: TestNode): Promise<SavedAllocation[]> {
  const text = await node.readFile(node.paths.checkpoint);
  if (text === null) return [];
  const saved = JSON.parse(text) as { allocations?: { containerID: string; ifName: string; ipv4: string }[] };
  return (saved.allocations ?? []).map((a) => ({ containerId: a.containerID, ifName: a.ifName, ip: a.ipv4 }));
}

/** Host-side pod plumbing in the node namespace. */
export interface HostPlumbing {
  /** `/32` scope-link routes in main: address → device. */
  readonly routes: Map<string, string>;
  /** Priority-512 `to <ip> lookup main` rules (address → count). */
  readonly toRules: Map<string, number>;
  /** Priority-1536 `from <ip> lookup <table>` rules: address → tables. */
  readonly fromRules: Map<string, string[]>;
  /** Pods' host veths (the ENIs' links left out). */
  readonly veths: Set<string>;
}

/** Reads the node's routes, rules and veths. */
export async function hostPlumbing(node: Netns): Promise<HostPlumbing> {
  const [routes, rules, links] = await Promise.all([
    node.ipJson("route", "show", "table", "main"),
    node.ipJson("rule", "show"),
    node.ipJson("-d", "link", "show", "type", "veth"),
  ]);
  const plumbing: HostPlumbing = {
    routes: new Map(),
    toRules: new Map(),
    fromRules: new Map(),
    veths: new Set(),
  };
  for (const route of routes) {
    const dst = String(route["dst"]);
    if (route["scope"] === "link" && route["protocol"] === undefined && /^\d+\.\d+\.\d+\.\d+$/.test(dst)) {
      plumbing.routes.set(dst, String(route["dev"]));
    }
  }
  for (const rule of rules) {
    if (rule["priority"] === 512) {
      const ip = String(rule["dst"]);
      plumbing.toRules.set(ip, (plumbing.toRules.get(ip) ?? 0) + 1);
    } else if (rule["priority"] === 1536) {
      const ip = String(rule["src"]);
      plumbing.fromRules.set(ip, [...plumbing.fromRules.get(ip) ?? [], String(rule["table"])]);
    }
  }
  // The ENIs' own links are veths too (the simulated cloud plugs them as eth<device>): they are not pod plumbing.
  for (const link of links) {
    const name = String(link["ifname"]);
    if (!/^eth\d+$/.test(name)) plumbing.veths.add(name);
  }
  return plumbing;
}

/** The IPv4 addresses on `ifName` inside a pod namespace ([] when the link is gone). */
export async function podAddresses(pod: Netns, ifName = "eth0"): Promise<string[]> {
  const links = await pod.ipJson("-4", "addr", "show").catch(() => []);
  const link = links.find((l) => l["ifname"] === ifName);
  const infos = (link?.["addr_info"] ?? []) as { local?: string }[];
  return infos.map((info) => String(info.local));
}

function counts<T>(items: readonly T[]): Map<T, number> {
  const seen = new Map<T, number>();
  for (const item of items) seen.set(item, (seen.get(item) ?? 0) + 1);
  return seen;
}

/** Audits `node` against `live`; `all` lists every pod namespace (live or not) the test made. */
export async function auditNode(
  node: TestNode,
  live: readonly LivePod[],
  all: readonly Netns[],
): Promise<Findings> {
  const findings: Findings = { duplicates: [], leaks: [], lost: [] };
  const queued = async () =>
    (await node.readFile(node.paths.queue) ?? "").trim().split("\n")
      .filter((line) => line !== "").length;
  // A running ipamd applies queued releases within a few seconds.
  for (let waited = 0; node.daemon.running && waited < 6_000; waited += 200) {
    if (await queued() === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const saved = await savedAllocations(node);
  let host = await hostPlumbing(node.netns);
  // A DEL answers before the kernel has finished deleting the pod's veth pair (the `ip` it started
  // finishes that): give such veths a moment, routes and rules not.
  const liveVeths = new Set(live.map((p) => p.hostVeth));
  for (let waited = 0; waited < 2_000 && [...host.veths].some((v) => !liveVeths.has(v)); waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    host = { ...host, veths: (await hostPlumbing(node.netns)).veths };
  }
  const inPods = await Promise.all(all.map(async (pod) => ({ pod, ips: await podAddresses(pod) })));
  for (const [ip, n] of counts(saved.map((a) => a.ip))) {
    if (n > 1) findings.duplicates.push(`checkpoint holds ${ip} ${n} times`);
  }
  for (const [ip, n] of counts(live.map((p) => p.ip))) {
    if (n > 1) findings.duplicates.push(`${n} running pods were given ${ip}`);
  }
  for (const [ip, n] of counts(inPods.flatMap((p) => p.ips))) {
    if (n > 1) findings.duplicates.push(`${n} pod namespaces carry ${ip}`);
  }
  for (const [ip, n] of host.toRules) {
    if (n > 1) findings.duplicates.push(`${n} "to ${ip}" rules`);
  }
  const savedById = new Map(saved.map((a) => [a.containerId, a]));
  for (const pod of live) {
    const where = `${pod.containerId} (${pod.ip})`;
    if (savedById.get(pod.containerId)?.ip !== pod.ip) findings.lost.push(`${where}: not in the checkpoint`);
    if (host.routes.get(pod.ip) !== pod.hostVeth) {
      findings.lost.push(`${where}: no host route via ${pod.hostVeth}`);
    }
    if (!host.toRules.has(pod.ip)) findings.lost.push(`${where}: no "to" rule`);
    const from = host.fromRules.get(pod.ip) ?? [];
    if (pod.table !== 254 && !from.includes(String(pod.table))) {
      findings.lost.push(`${where}: no "from" rule`);
    }
    if (!host.veths.has(pod.hostVeth)) findings.lost.push(`${where}: host veth ${pod.hostVeth} is gone`);
    const carried = inPods.find((p) => p.pod === pod.netns)?.ips ?? [];
    if (!carried.includes(pod.ip)) findings.lost.push(`${where}: the pod's eth0 lost its address`);
  }
  const liveIds = new Set(live.map((p) => p.containerId));
  const liveIps = new Set(live.map((p) => p.ip));
  const liveNetns = new Set(live.map((p) => p.netns));
  for (const a of saved) {
    if (!liveIds.has(a.containerId)) findings.leaks.push(`checkpoint: ${a.containerId} holds ${a.ip}`);
  }
  for (const [ip, dev] of host.routes) {
    if (!liveIps.has(ip)) findings.leaks.push(`host route ${ip} dev ${dev}`);
  }
  for (const ip of host.toRules.keys()) if (!liveIps.has(ip)) findings.leaks.push(`host rule to ${ip}`);
  for (const ip of host.fromRules.keys()) if (!liveIps.has(ip)) findings.leaks.push(`host rule from ${ip}`);
  for (const veth of host.veths) if (!liveVeths.has(veth)) findings.leaks.push(`host veth ${veth}`);
  for (const { pod, ips } of inPods) {
    if (!liveNetns.has(pod) && ips.length > 0) {
      findings.leaks.push(`${pod.name} still has eth0 ${ips.join(",")}`);
    }
  }
  const left = await queued();
  if (node.daemon.running && left > 0) {
    findings.leaks.push(`${left} queued releases not applied by the running ipamd`);
  }
  if (node.daemon.running) {
    const { pool } = await node.pool();
    if (pool.assigned < live.length) {
      findings.lost.push(`ipamd's pool says ${pool.assigned} assigned, the runtime runs ${live.length} pods`);
    } else if (pool.assigned > live.length) {
      findings.leaks.push(
        `ipamd's pool says ${pool.assigned} assigned, the runtime runs ${live.length} pods`,
      );
    }
  }
  return findings;
}
