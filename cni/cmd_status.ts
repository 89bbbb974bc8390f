/**
 * STATUS: success when ipamd can serve an ADD; error 50 when ipamd cannot be
 * reached or its pool is empty and cannot grow.
 *
 * @module
 */
import { CniError, CniErrorCode, errorText } from "../shared/mod.ts";
import type { VerbContext } from "./deps.ts";

/** Runs STATUS. */
export async function cmdStatus(ctx: VerbContext): Promise<void> {
  let readiness;
  try {
    readiness = await ctx.ipamd.poolStatus(ctx.deps.deadlines.queryMs);
  } catch (error) {
    throw new CniError(CniErrorCode.NOT_AVAILABLE, "ipamd is not available", { details: errorText(error) });
  }
  if (!readiness.ready) {
    throw new CniError(CniErrorCode.NOT_AVAILABLE, "ipamd cannot assign addresses", {
      details: readiness.reason,
    });
  }
}
