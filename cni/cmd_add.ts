/**
 * ADD: two `ip` sessions start at once, one on the host and one in the pod's
 * netns, and make the veth pair and the pod side that needs no address while
 * ipamd picks the address (the pod side only once the pod end is seen outside
 * the node's namespace, when the plugin could not look at CNI_NETNS itself);
 * then the host route and rules and the pod's address go to both sessions at
 * once, which are left to exit on their own.
 * If anything fails, everything done so far is undone and the address is
 * released (or queued).
 *
 * @module
 */
import {
  CniError,
  CniErrorCode,
  errorText,
  type IpLineFailure,
  NetnsNotFoundError,
  NotNetnsError,
  parseIpv4,
} from "../shared/mod.ts";
import type { IpAllocationMetadata } from "../shared/rpc/mod.ts";
import type { VerbContext } from "./deps.ts";
import type { IpSession } from "./ip_session.ts";
import { cniErrorFromIpamd } from "./ipamd_api.ts";
import {
  hostRouteCommands,
  hostUndoCommands,
  hostVethKey,
  hostVethName,
  pairSetupCommands,
  POD_GATEWAY,
  podAddressCommands,
  podLinkCommands,
  type PodPair,
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
  // The request goes out first; the `ip` sessions start while ipamd picks the address.
  const replying = ctx.ipamd.addNetwork(addRequest(env, conf), deps.deadlines.addMs);
  replying.catch(() => {}); // awaited below
  const p = await pair(ctx);
  const sessions: Sessions = { host: deps.ip.open(), pod: deps.ip.open({ netns: env.netns }) };
  const made = makePair(ctx, sessions, p);
  made.catch(() => {}); // awaited below; a failure is handled there
  let reply;
  try {
    reply = await replying;
    if (!reply.success) {
      throw new CniError(CniErrorCode.INTERNAL, "Cannot get an address: ipamd answered success=false");
    }
  } catch (error) {
    await dropPair(ctx, p, made, sessions);
    throw error instanceof CniError ? error : cniErrorFromIpamd(error, "get an address from ipamd");
  }
  const allocation = reply.ipAllocations.find((a) => a.ipv4Addr !== "");
  const wiring = allocation === undefined ? undefined : plan(p, allocation);
  if (wiring === undefined) {
    await dropPair(ctx, p, made, sessions);
    await rollback(ctx, undefined, reply.ipAllocations.map((a) => a.ipv4Addr));
    throw new CniError(CniErrorCode.INTERNAL, "Cannot wire the pod: ipamd returned no usable IPv4 address", {
      details: JSON.stringify(reply.ipAllocations),
    });
  }
  const ipamdMs = deps.now() - started;
  try {
    await made;
    await wireAddress(sessions, wiring);
  } catch (error) {
    await Promise.all([sessions.host.end(), sessions.pod.end()]);
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

/** The `ip` sessions of one ADD: the host's and the pod netns'. */
interface Sessions {
  readonly host: IpSession;
  readonly pod: IpSession;
}

/** Throws the first failure of a step, except in its first `cleanup` commands (nothing stale to remove). */
function throwFatal(failures: readonly IpLineFailure[], cleanup = 0): void {
  const fatal = failures.find((f) => f.index < 0 || f.index >= cleanup);
  if (fatal !== undefined) throw fatal.error;
}

/**
 * The pair (after removing a stale host veth of the same name), then, once the
 * pod end is known to be elsewhere than the node's namespace, the pod side that
 * needs no address.
 */
async function makePair(ctx: VerbContext, { host, pod }: Sessions, p: PodPair): Promise<void> {
  const stale = staleLinkCommands(p);
  throwFatal(await host.step([...stale, ...pairSetupCommands(p)]), stale.length);
  await checkPodEndElsewhere(ctx, p);
  throwFatal(await pod.step(podLinkCommands(p)));
}

/**
 * With the pair in place: host route and rules (after any stale ones), and the
 * pod's address, at once. Once both steps ran, the sessions are left to exit
 * on their own.
 */
async function wireAddress({ host, pod }: Sessions, w: PodWiring): Promise<void> {
  const stale = staleAddressCommands(w);
  const [onHost, inPod] = await Promise.all([
    host.step([...stale, ...hostRouteCommands(w)]),
    pod.step(podAddressCommands(w)),
  ]);
  throwFatal(onHost, stale.length);
  throwFatal(inPod);
  host.detach([]);
  pod.detach([]);
}

/** Ends the sessions of an ADD that gets no address, removing the pair. Never throws. */
async function dropPair(ctx: VerbContext, p: PodPair, made: Promise<void>, s: Sessions): Promise<void> {
  await made.catch(() => {});
  const [left] = await Promise.all([s.host.end([["link", "del", p.hostVeth]]), s.pod.end()]);
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
