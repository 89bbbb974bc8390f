/**
 * GC: releases every allocation ipamd holds for this network whose attachment
 * (container ID, interface) is not in `cni.dev/valid-attachments`, and removes
 * its host rules and route. Continues past failures and reports them at the end.
 *
 * @module
 */
import { CniError, CniErrorCode, errorText, NotFoundError } from "../shared/mod.ts";
import type { VerbContext } from "./deps.ts";
import { cniErrorFromIpamd } from "./ipamd_api.ts";
import { hostTeardownCommands } from "./pod_net.ts";
import { delRequest } from "./requests.ts";

const NO_K8S = { podName: "", podNamespace: "", podInfraContainerId: "", podUid: "" };

/** Runs GC; returns how many allocations were released. */
export async function cmdGc(ctx: VerbContext): Promise<number> {
  const { conf, deps, log } = ctx;
  const valid = new Set((conf.validAttachments ?? []).map((a) => `${a.containerId}/${a.ifName}`));
  let allocations;
  try {
    allocations = await ctx.ipamd.listAllocations(conf.name, deps.deadlines.queryMs);
  } catch (error) {
    throw cniErrorFromIpamd(error, "list ipamd's allocations for GC");
  }
  const stale = allocations.filter((a) => !valid.has(`${a.containerId}/${a.ifName}`));
  const problems: string[] = [];
  let released = 0;
  for (const allocation of stale) {
    const who = { containerId: allocation.containerId, ifName: allocation.ifName, k8s: NO_K8S };
    try {
      const reply = await ctx.ipamd.delNetwork(
        delRequest(who, conf, "GarbageCollected"),
        deps.deadlines.delMs,
      );
      if (!reply.success) throw new Error("ipamd answered success=false");
      released++;
    } catch (error) {
      problems.push(
        `${allocation.containerId}/${allocation.ifName}: ${cniErrorFromIpamd(error, "release").message}`,
      );
      continue;
    }
    const failures = await deps.ip.applyAll(hostTeardownCommands([allocation.ipv4Addr])).catch((
      e,
    ) => [{ error: e }]);
    for (const failure of failures) {
      if (!(failure.error instanceof NotFoundError)) problems.push(errorText(failure.error));
    }
  }
  log.info("garbage collected", { op: "GC", held: allocations.length, released, problems: problems.length });
  if (problems.length > 0) {
    throw new CniError(
      CniErrorCode.INTERNAL,
      `GC released ${released} of ${stale.length} stale allocations`,
      {
        details: problems.join("; "),
      },
    );
  }
  return released;
}
