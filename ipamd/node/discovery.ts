/**
 * Startup discovery: the ENIs attached to this node, minus the ones ipamd must
 * leave alone (tagged `node.k8s.amazonaws.com/no_manage=true`; EFA and trunk ENIs,
 * which the port leaves out). A throttled or unreachable cloud is retried with
 * back-off instead of failing the start.
 *
 * @module
 */
import { type Clock, errorText, type Logger, sleep as realSleep } from "../../shared/mod.ts";
import { type AttachedEni, backoffMs, type BackoffPolicy, CloudError, type Ec2Port } from "../cloud/mod.ts";
import { NO_MANAGE_TAG, UNMANAGED_INTERFACE_TYPES } from "../cloud/mod.ts";

/** Why an ENI is left alone, or null when ipamd manages it. */
export function unmanagedReason(
  eni: { readonly tags: Readonly<Record<string, string>> },
  interfaceType = "",
): string | null {
  if (eni.tags[NO_MANAGE_TAG] === "true") return `tagged ${NO_MANAGE_TAG}=true`;
  if (UNMANAGED_INTERFACE_TYPES.has(interfaceType)) return `interface type "${interfaceType}"`;
  return null;
}

/** How startup retries. */
export interface StartupRetryOptions {
  readonly log: Logger;
  readonly clock: Clock;
  /** Default: real timers. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Tries in all (default 30: about 12 minutes with the default back-off). */
  readonly tries?: number;
  readonly backoff?: BackoffPolicy;
  /** Draws the jitter (default Math.random). */
  readonly random?: () => number;
}

/** Up to 1 s, 2 s, 4 s, … up to 30 s, drawn from 0 (full jitter), so nodes started together spread out. */
export const STARTUP_BACKOFF: BackoffPolicy = { initialMs: 1_000, factor: 2, maxMs: 30_000, jitter: 1 };

/**
 * Runs `step` until it succeeds, waiting with back-off after a throttled or
 * unavailable cloud; any other failure, or the last try's, is thrown.
 */
export async function retryStartup<T>(
  what: string,
  step: () => Promise<T>,
  options: StartupRetryOptions,
): Promise<T> {
  const tries = options.tries ?? 30;
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 0;; attempt++) {
    try {
      return await step();
    } catch (error) {
      const transient = error instanceof CloudError &&
        (error.kind === "throttled" || error.kind === "unavailable");
      if (!transient || attempt + 1 >= tries) throw error;
      const delayMs = Math.max(
        backoffMs(options.backoff ?? STARTUP_BACKOFF, attempt, options.random),
        error.retryAfterMs ?? 0,
      );
      options.log.warn(`cannot ${what} yet; trying again`, {
        error: errorText(error),
        delayMs,
        attempt: attempt + 1,
      });
      await sleep(delayMs);
    }
  }
}

/**
 * The managed ENIs at daemon start: the port's `describeNode()` (which leaves out
 * EFA and trunk ENIs) without those tagged no_manage, retried while the cloud throttles.
 */
export async function discoverManagedEnis(
  ec2: Ec2Port,
  options: StartupRetryOptions,
): Promise<AttachedEni[]> {
  const enis = await retryStartup("discover the node's ENIs", () => ec2.describeNode(), options);
  return enis.filter((eni) => {
    const reason = unmanagedReason(eni);
    if (reason !== null) options.log.info("skipping unmanaged ENI", { eniId: eni.eniId, reason });
    return reason === null;
  });
}
