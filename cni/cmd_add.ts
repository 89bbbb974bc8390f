/**
 * ADD: an address from ipamd, then the veth pair, pod and host routes and rules
 * in two `ip` batches (host, then pod). If anything fails after ipamd answered,
 * everything done so far is undone and the address is released (or queued).
 *
 * @module
 */
import { CniError, CniErrorCode } from "../shared/errors.ts";
import { parseIpv4 } from "../shared/ipv4.ts";
import { type IpRunner, NetnsNotFoundError } from "../shared/ip_cmd.ts";
import { errorText } from "../shared/log.ts";
import type { IpAllocationMetadata } from "../shared/rpc/messages.ts";
import type { VerbContext } from "./deps.ts";
import { cniErrorFromIpamd } from "./ipamd_api.ts";
import {
  hostCleanupCommands,
  hostSetupCommands,
  hostUndoCommands,
  hostVethKey,
  hostVethName,
  POD_GATEWAY,
  podSetupCommands,
  type PodWiring,
  randomMac,
  routeTableFor,
} from "./pod_net.ts";
import { releaseOrQueue } from "./release.ts";
import { addRequest, delRequest } from "./requests.ts";
import { type CniResult, mergeResults, ROUTE_TABLE_ENTRY } from "./result.ts";

/** Runs ADD and returns the result (prevResult, if any, with ours appended). */
export async function cmdAdd(ctx: VerbContext): Promise<CniResult> {
  const { env, conf, deps, log } = ctx;
  const started = deps.now();
  let reply;
  try {
    reply = await ctx.ipamd.addNetwork(addRequest(env, conf), deps.deadlines.addMs);
  } catch (error) {
    throw cniErrorFromIpamd(error, "get an address from ipamd");
  }
  if (!reply.success) {
    throw new CniError(CniErrorCode.INTERNAL, "Cannot get an address: ipamd answered success=false");
  }
  const allocation = reply.ipAllocations.find((a) => a.ipv4Addr !== "");
  const wiring = allocation === undefined ? undefined : await plan(ctx, allocation);
  if (wiring === undefined) {
    await rollback(ctx, undefined, reply.ipAllocations.map((a) => a.ipv4Addr));
    throw new CniError(CniErrorCode.INTERNAL, "Cannot wire the pod: ipamd returned no usable IPv4 address", {
      details: JSON.stringify(reply.ipAllocations),
    });
  }
  const ipamdMs = deps.now() - started;
  try {
    await wire(deps.ip, wiring);
  } catch (error) {
    log.error("wiring failed; rolling back", { error: errorText(error), hostVeth: wiring.hostVeth });
    await rollback(ctx, wiring, [wiring.podIp]);
    if (error instanceof NetnsNotFoundError) {
      throw new CniError(
        CniErrorCode.INVALID_ENV,
        `Invalid environment: CNI_NETNS "${env.netns}" is not a network namespace`,
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

/** The wiring for an allocation, or undefined when its address is not IPv4. */
async function plan(ctx: VerbContext, allocation: IpAllocationMetadata): Promise<PodWiring | undefined> {
  try {
    parseIpv4(allocation.ipv4Addr);
  } catch {
    return undefined;
  }
  const { env, conf, deps } = ctx;
  const key = hostVethKey(env.k8s.podNamespace, env.k8s.podName, env.containerId);
  return {
    hostVeth: await hostVethName(conf.vethPrefix, key),
    hostMac: randomMac(deps.randomBytes),
    podMac: randomMac(deps.randomBytes),
    ifName: env.ifName,
    netns: env.netns,
    podIp: allocation.ipv4Addr,
    mtu: conf.mtu,
    routeTable: routeTableFor(allocation.deviceNumber, allocation.routeTableId),
  };
}

/** Two execs: host cleanup + setup in one `-force` batch (cleanup failures are expected), then the pod batch. */
export async function wire(ip: IpRunner, w: PodWiring): Promise<void> {
  const cleanup = hostCleanupCommands(w);
  const failures = await ip.applyAll([...cleanup, ...hostSetupCommands(w)]);
  const fatal = failures.find((f) => f.index < 0 || f.index >= cleanup.length);
  if (fatal !== undefined) throw fatal.error;
  await ip.apply(podSetupCommands(w), { netns: w.netns });
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
