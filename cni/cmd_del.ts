/**
 * DEL: idempotent. Releases the address through ipamd (queued when ipamd is
 * unreachable), removes the pod interface (which takes the veth pair and the
 * host route with it; the kernel finishes that after DEL answered) and the
 * host route and rules. Anything already gone is success.
 *
 * @module
 */
import {
  CniError,
  CniErrorCode,
  errorText,
  type IpCommand,
  type IpLineFailure,
  NotFoundError,
} from "../shared/mod.ts";
import type { VerbContext } from "./deps.ts";
import type { IpSession } from "./ip_session.ts";
import { doomedName, hostTeardownCommands, podTeardownCommands } from "./pod_net.ts";
import { releaseOrQueue } from "./release.ts";
import { delRequest } from "./requests.ts";
import { findAttachment } from "./result.ts";
import { addressesFromInterfaces } from "./pod_addresses.ts";

/** Runs DEL. Throws only for failures a retry could fix. */
export async function cmdDel(ctx: VerbContext): Promise<void> {
  const { env, conf, log } = ctx;
  const fromPrev = conf.prevResult === undefined ? [] : findAttachment(conf.prevResult, env.ifName).podIps;
  // No prevResult (the ADD never answered): the interfaces say which address to unwire and queue.
  // They are read while ipamd answers; addressesFromInterfaces never rejects.
  const knownSoon = fromPrev.length > 0 ? Promise.resolve(fromPrev) : addressesFromInterfaces(ctx);
  const releasing = releaseOrQueue(ctx, delRequest(env, conf, "PodDeleted"), knownSoon).then(
    (outcome) => ({ released: outcome.kind === "released" ? outcome.ipv4Addrs : [], error: undefined }),
    (error: unknown) => ({ released: [] as readonly string[], error }),
  );
  // The unwiring starts once the addresses are known (with prevResult: at once), while ipamd answers.
  const known = await knownSoon;
  const problems = await teardown(ctx, known);
  const { released, error: releaseError } = await releasing;
  const extra = released.filter((ip) => !known.includes(ip));
  if (extra.length > 0) problems.push(...await teardown(ctx, extra, { podSide: false }));
  const podIps = [...known, ...extra];
  log.info("pod unwired", { op: "DEL", ips: podIps.join(","), problems: problems.length });
  if (releaseError !== undefined) throw releaseError;
  if (problems.length > 0) {
    throw new CniError(CniErrorCode.INTERNAL, `Cannot remove pod interface "${env.ifName}" completely`, {
      details: problems.map(errorText).join("; "),
    });
  }
}

/**
 * Pod end and host rules, in parallel; returns the failures that are not
 * "already gone". The pod end is renamed, then deleted by an `ip` left to
 * finish after DEL has answered: the kernel takes 15-30 ms to delete a veth
 * pair, and by then the pod's interface name is free and its address,
 * route and rules are gone.
 */
export async function teardown(
  ctx: VerbContext,
  podIps: readonly string[],
  options: { readonly podSide?: boolean } = {},
): Promise<Error[]> {
  const { env, deps } = ctx;
  const podSide =
    options.podSide !== false && env.netns !== "" && (await deps.checkNetns(env.netns)).problem === undefined
      ? removePodEnd(ctx)
      : Promise.resolve([]);
  const hostSide = runAndLeave(deps.ip.open(), hostTeardownCommands(podIps));
  const results = await Promise.allSettled([podSide, hostSide]);
  const problems: Error[] = [];
  for (const result of results) {
    if (result.status === "rejected") {
      const error = result.reason instanceof Error ? result.reason : new Error(String(result.reason));
      if (!(error instanceof NotFoundError)) problems.push(error);
      continue;
    }
    for (const failure of result.value) {
      if (!(failure.error instanceof NotFoundError)) problems.push(failure.error);
    }
  }
  return problems;
}

/** Runs `commands` as one step, then `after` without waiting for it (nor for `ip` to exit). */
async function runAndLeave(
  session: IpSession,
  commands: readonly IpCommand[],
  after: readonly IpCommand[] = [],
): Promise<readonly IpLineFailure[]> {
  const failures = await session.step(commands);
  session.detach(failures.length === 0 ? after : []);
  return failures;
}

/** Renames the pod end, then leaves its deletion to `ip`. */
function removePodEnd({ env, deps }: VerbContext): Promise<readonly IpLineFailure[]> {
  const { rename, remove } = podTeardownCommands(env.ifName, doomedName(deps.randomBytes));
  return runAndLeave(deps.ip.open({ netns: env.netns }), rename, remove);
}
