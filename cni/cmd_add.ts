/**
 * ADD: the veth pair is made while ipamd picks the address (it needs none);
 * then the host routes and rules and the pod side go in two `ip` batches at
 * once. If anything fails, everything done so far is undone and the address is
 * released (or queued).
 *
 * @module
 */
import {
  CniError,
  CniErrorCode,
  errorText,
  type IpCommand,
  type IpRunner,
  NetnsNotFoundError,
  NotNetnsError,
  parseIpv4,
} from "../shared/mod.ts";
import type { IpAllocationMetadata } from "../shared/rpc/mod.ts";
import type { VerbContext } from "./deps.ts";
import { cniErrorFromIpamd } from "./ipamd_api.ts";
import {
  hostRouteCommands,
  hostUndoCommands,
  hostVethKey,
  hostVethName,
  pairSetupCommands,
  POD_GATEWAY,
  type PodPair,
  podSetupCommands,
  type PodWiring,
  randomMac,
  routeTableFor,
  staleAddressCommands,
  staleLinkCommands,
} from "./pod_net.ts";
import { releaseOrQueue } from "./release.ts";
import { addRequest, delRequest } from "./requests.ts";
import { type CniResult, mergeResults, ROUTE_TABLE_ENTRY } from "./result.ts";

/** Runs ADD and returns the result (prevResult, if any, with ours appended). */
export async function cmdAdd(ctx: VerbContext): Promise<CniResult> {
  const { env, conf, deps, log } = ctx;
  const started = deps.now();
  const p = await pair(ctx);
  const made = applyAfterCleanup(deps.ip, staleLinkCommands(p), pairSetupCommands(p));
  made.catch(() => {}); // awaited below; a failure is handled there
  let reply;
  try {
    reply = await ctx.ipamd.addNetwork(addRequest(env, conf), deps.deadlines.addMs);
    if (!reply.success) {
      throw new CniError(CniErrorCode.INTERNAL, "Cannot get an address: ipamd answered success=false");
    }
  } catch (error) {
    await dropPair(ctx, p, made);
    throw error instanceof CniError ? error : cniErrorFromIpamd(error, "get an address from ipamd");
  }
  const allocation = reply.ipAllocations.find((a) => a.ipv4Addr !== "");
  const wiring = allocation === undefined ? undefined : plan(p, allocation);
  if (wiring === undefined) {
    await dropPair(ctx, p, made);
    await rollback(ctx, undefined, reply.ipAllocations.map((a) => a.ipv4Addr));
    throw new CniError(CniErrorCode.INTERNAL, "Cannot wire the pod: ipamd returned no usable IPv4 address", {
      details: JSON.stringify(reply.ipAllocations),
    });
  }
  const ipamdMs = deps.now() - started;
  try {
    await made;
    await checkPodEndElsewhere(ctx, p);
    await wireAddress(deps.ip, wiring);
  } catch (error) {
    log.error("wiring failed; rolling back", { error: errorText(error), hostVeth: wiring.hostVeth });
    await rollback(ctx, wiring, [wiring.podIp]);
    if (error instanceof CniError) throw error;
    if (error instanceof NetnsNotFoundError) {
      const problem = error instanceof NotNetnsError ? "is not a network namespace" : "cannot be opened";
      throw new CniError(
        CniErrorCode.INVALID_ENV,
        `Invalid environment: CNI_NETNS "${env.netns}" ${problem}`,
        {
          details: errorText(error),
          cause: error,
        },
      );
    }
    throw new CniError(CniErrorCode.INTERNAL, `Cannot wire pod interface "${env.ifName}"`, {
      details: errorText(error),
      cause: error,
    });
  }
  log.info("pod wired", {
    op: "ADD",
    ip: wiring.podIp,
    hostVeth: wiring.hostVeth,
    table: wiring.routeTable,
    ipamdMs,
    totalMs: deps.now() - started,
  });
  return mergeResults(conf.prevResult, podResult(wiring));
}

/** The pair for this pod: its host veth name and fresh MACs. */
async function pair(ctx: VerbContext): Promise<PodPair> {
  const { env, conf, deps } = ctx;
  const key = hostVethKey(env.k8s.podNamespace, env.k8s.podName, env.containerId);
  return {
    hostVeth: await hostVethName(conf.vethPrefix, key),
    hostMac: randomMac(deps.randomBytes),
    podMac: randomMac(deps.randomBytes),
    ifName: env.ifName,
    netns: env.netns,
    mtu: conf.mtu,
  };
}

/**
 * When the plugin could not look at CNI_NETNS itself (a /proc link, or a path
 * outside its read permission), the kernel has now opened it: the pod end of the
 * pair must have landed in another namespace than the node's, which `ip` shows
 * as the host end's `link_netnsid`. Otherwise CNI_NETNS is the node's own.
 */
async function checkPodEndElsewhere(ctx: VerbContext, p: PodPair): Promise<void> {
  if (ctx.netnsLooked) return;
  const [links] = await ctx.deps.ip.query([["link", "show", "dev", p.hostVeth]]);
  const link = Array.isArray(links) ? links[0] as Record<string, unknown> | undefined : undefined;
  if (link !== undefined && link["link_netnsid"] === undefined) {
    throw new CniError(
      CniErrorCode.INVALID_ENV,
      `Invalid environment: CNI_NETNS "${p.netns}" is the node's own network namespace`,
    );
  }
}

/** The wiring for an allocation, or undefined when its address is not IPv4. */
function plan(p: PodPair, allocation: IpAllocationMetadata): PodWiring | undefined {
  try {
    parseIpv4(allocation.ipv4Addr);
  } catch {
    return undefined;
  }
  return {
    ...p,
    podIp: allocation.ipv4Addr,
    routeTable: routeTableFor(allocation.deviceNumber, allocation.routeTableId),
  };
}

/** One `-force` batch: `cleanup` may fail (nothing stale to remove), any failure in `setup` throws. */
async function applyAfterCleanup(
  ip: IpRunner,
  cleanup: readonly IpCommand[],
  setup: readonly IpCommand[],
): Promise<void> {
  const failures = await ip.applyAll([...cleanup, ...setup]);
  const fatal = failures.find((f) => f.index < 0 || f.index >= cleanup.length);
  if (fatal !== undefined) throw fatal.error;
}

/** With the pair in place: host route and rules, and the pod side, as two batches at once. */
export async function wireAddress(ip: IpRunner, w: PodWiring): Promise<void> {
  const results = await Promise.allSettled([
    applyAfterCleanup(ip, staleAddressCommands(w), hostRouteCommands(w)),
    ip.apply(podSetupCommands(w), { netns: w.netns }),
  ]);
  const failed = results.find((r) => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}

/** Removes the pair made for an ADD that gets no address. Never throws. */
async function dropPair(ctx: VerbContext, p: PodPair, made: Promise<void>): Promise<void> {
  await made.catch(() => {});
  const left = await ctx.deps.ip.applyAll([["link", "del", p.hostVeth]]).catch((error) => [{ error }]);
  for (const f of left) ctx.log.debug("no pair to remove", { error: errorText(f.error) });
}

/** Undoes the host side (which takes the pod end with it) and gives the address back. Never throws. */
async function rollback(ctx: VerbContext, w: PodWiring | undefined, ips: readonly string[]): Promise<void> {
  if (w !== undefined) {
    try {
      const left = await ctx.deps.ip.applyAll(hostUndoCommands(w));
      for (const f of left) {
        ctx.log.debug("rollback step found nothing to undo", { error: errorText(f.error) });
      }
    } catch (error) {
      ctx.log.error("rollback of the host side failed", { error: errorText(error) });
    }
  }
  try {
    const outcome = await releaseOrQueue(ctx, delRequest(ctx.env, ctx.conf, "SetupNSFailed"), ips);
    ctx.log.info("address given back after a failed ADD", { outcome: outcome.kind });
  } catch (error) {
    ctx.log.error("cannot give the address back after a failed ADD", { error: errorText(error) });
  }
}

/** Our part of the result; see result.ts for what each entry records. */
export function podResult(w: PodWiring): CniResult {
  return {
    interfaces: [
      { name: w.hostVeth, mac: w.hostMac },
      { name: w.ifName, mac: w.podMac, mtu: w.mtu, sandbox: w.netns },
      { name: `${ROUTE_TABLE_ENTRY}${w.routeTable}` },
    ],
    ips: [{ address: `${w.podIp}/32`, gateway: POD_GATEWAY, interface: 1 }],
    routes: [{ dst: "0.0.0.0/0", gw: POD_GATEWAY }],
  };
}
