/**
 * Giving a pod's address back: DelNetwork, or, when ipamd cannot be reached,
 * a line in the durable release queue that ipamd drains at startup.
 *
 * @module
 */
import { CniError, CniErrorCode, errorText, releaseQueuePath } from "../shared/mod.ts";
import { type DelNetworkRequest, RpcCallError, Status } from "../shared/rpc/mod.ts";
import type { VerbContext } from "./deps.ts";
import { cniErrorFromIpamd, isUnreachable } from "./ipamd_api.ts";

/** What happened to a release. */
export type ReleaseOutcome =
  /** ipamd released these addresses (none when it did not know the pod). */
  | { readonly kind: "released"; readonly ipv4Addrs: readonly string[] }
  /** ipamd was unreachable; the release is in the queue file. */
  | { readonly kind: "queued"; readonly path: string };

/**
 * Releases through ipamd; queues the release when ipamd is unreachable.
 * `knownIps` (from prevResult or the interfaces; awaited only then) go into
 * the queue line. Other ipamd failures throw a CniError.
 */
export async function releaseOrQueue(
  ctx: Pick<VerbContext, "ipamd" | "deps" | "log" | "conf">,
  request: DelNetworkRequest,
  knownIps: readonly string[] | Promise<readonly string[]>,
): Promise<ReleaseOutcome> {
  try {
    const reply = await ctx.ipamd.delNetwork(request, ctx.deps.deadlines.delMs);
    if (!reply.success) {
      throw new CniError(CniErrorCode.INTERNAL, "Cannot release the address: ipamd answered success=false");
    }
    return {
      kind: "released",
      ipv4Addrs: reply.ipAllocations.map((a) => a.ipv4Addr).filter((a) => a !== ""),
    };
  } catch (error) {
    if (error instanceof RpcCallError && error.code === Status.NOT_FOUND) {
      return { kind: "released", ipv4Addrs: [] };
    }
    if (!isUnreachable(error)) throw cniErrorFromIpamd(error, "release the address");
    const path = releaseQueuePath(ctx.conf.ipamdSocket);
    ctx.log.warn("ipamd unreachable; queueing the release", { path, error: errorText(error) });
    try {
      await ctx.deps.releaseQueue(path).append({
        v: 1,
        queuedAt: new Date(ctx.deps.now()).toISOString(),
        ipv4Addrs: await knownIps,
        request,
      });
    } catch (queueError) {
      throw new CniError(CniErrorCode.IO_FAILURE, `Cannot queue the release in "${path}"`, {
        details: `ipamd is unreachable (${errorText(error)}) and the queue write failed: ${
          errorText(queueError)
        }`,
        cause: queueError,
      });
    }
    return { kind: "queued", path };
  }
}
