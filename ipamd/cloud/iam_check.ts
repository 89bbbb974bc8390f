/**
 * Whether the node's role may make each EC2 call ipamd makes, asked of EC2 at
 * start with `DryRun` (DryRunOperation: it may; UnauthorizedOperation: it may not),
 * and learned from the calls themselves for the two actions without DryRun
 * (AssignPrivateIpAddresses, UnassignPrivateIpAddresses) and whenever a call
 * fails as unauthorized or succeeds later.
 *
 * @module
 */
import { DRY_RUN_ACTIONS, EC2_ACTIONS, type Ec2Action } from "./ec2_actions.ts";
import { CloudError } from "./errors.ts";

/** What is known of one permission. */
export type PermissionState =
  /** EC2 answered a dry run with DryRunOperation, or a call succeeded. */
  | "granted"
  /** EC2 answered UnauthorizedOperation. */
  | "missing"
  /** No DryRun, and not called yet. */
  | "unchecked"
  /** The dry run got another answer (a network error, throttling, a parameter EC2 refused). */
  | "unknown";

/** One action's permission. */
export interface PermissionStatus {
  readonly action: Ec2Action;
  readonly state: PermissionState;
  /** How it was learned, e.g. "DryRun: DryRunOperation" or "AssignPrivateIpAddresses failed: …". */
  readonly detail: string;
}

/** Sends one EC2 request of `action` with `DryRun=true`; always rejects (EC2 answers a dry run with an error). */
export interface DryRunner {
  dryRun(action: Ec2Action): Promise<void>;
}

/** Asks EC2 about every DryRun action at once; the others are "unchecked" until used. */
export async function checkPermissions(runner: DryRunner): Promise<PermissionStatus[]> {
  return await Promise.all(EC2_ACTIONS.map(async (action): Promise<PermissionStatus> => {
    if (!DRY_RUN_ACTIONS.has(action)) {
      return { action, state: "unchecked", detail: "EC2 takes no DryRun for it: checked on first use" };
    }
    try {
      await runner.dryRun(action);
      return { action, state: "unknown", detail: "DryRun: EC2 answered without an error" };
    } catch (error) {
      return dryRunStatus(action, error);
    }
  }));
}

/** What a dry run's answer says. */
export function dryRunStatus(action: Ec2Action, error: unknown): PermissionStatus {
  if (error instanceof CloudError && error.code === "DryRunOperation") {
    return { action, state: "granted", detail: "DryRun: DryRunOperation" };
  }
  if (error instanceof CloudError && error.kind === "unauthorized") {
    return { action, state: "missing", detail: `DryRun: ${error.code}` };
  }
  const code = error instanceof CloudError ? error.code : error instanceof Error ? error.name : "Error";
  const message = error instanceof Error ? error.message : String(error);
  return { action, state: "unknown", detail: `DryRun: ${code}: ${message}` };
}

/**
 * The action an UnauthorizedOperation names ("… is not authorized to perform:
 * ec2:CreateNetworkInterface …"), else `fallback`.
 */
export function unauthorizedAction(error: CloudError, fallback: Ec2Action): Ec2Action {
  const named = /not authorized to perform: ec2:([A-Za-z]+)/.exec(error.message)?.[1];
  return named !== undefined && (EC2_ACTIONS as readonly string[]).includes(named)
    ? named as Ec2Action
    : fallback;
}
