/**
 * What ipamd knows of the node role's EC2 permissions: the start-up DryRun check
 * (ipamd/cloud/iam_check.ts), then every call the pool makes. A call that fails
 * as unauthorized marks its action missing; one that succeeds marks it granted, so
 * a permission added while ipamd runs clears by itself. `status`, the metrics and
 * the start-up log line read it.
 *
 * @module
 */
import {
  CloudError,
  DRY_RUN_ACTIONS,
  EC2_ACTIONS,
  type Ec2Action,
  type PermissionState,
  type PermissionStatus,
  unauthorizedAction,
} from "../cloud/mod.ts";

/** The node role's permissions, action by action. */
export class IamPermissions {
  readonly #statuses = new Map<Ec2Action, PermissionStatus>(
    EC2_ACTIONS.map((action) => [action, {
      action,
      state: "unchecked" as PermissionState,
      detail: DRY_RUN_ACTIONS.has(action)
        ? "not checked yet"
        : "EC2 takes no DryRun for it: checked on first use",
    }]),
  );

  /** Actions a pool call has told about since start; the start-up check's answer does not replace theirs. */
  readonly #called = new Set<Ec2Action>();

  /** Takes the start-up check's answers, except for actions a call has already told about. */
  record(statuses: readonly PermissionStatus[]): void {
    for (const status of statuses) {
      if (!this.#called.has(status.action)) this.#statuses.set(status.action, status);
    }
  }

  /** A pool call of `actions` succeeded: each is granted. */
  succeeded(actions: readonly Ec2Action[]): void {
    for (const action of actions) {
      this.#called.add(action);
      if (this.#statuses.get(action)?.state !== "granted") {
        this.#statuses.set(action, { action, state: "granted", detail: "a call succeeded" });
      }
    }
  }

  /** A pool call failed; an unauthorized one marks the action EC2 names (else `first`) missing. */
  failed(first: Ec2Action, error: unknown): void {
    if (!(error instanceof CloudError) || error.kind !== "unauthorized") return;
    const action = unauthorizedAction(error, first);
    this.#called.add(action);
    this.#statuses.set(action, { action, state: "missing", detail: `${first} failed: ${error.code}` });
  }

  /** Every action, in EC2_ACTIONS order. */
  list(): PermissionStatus[] {
    return EC2_ACTIONS.map((action) => this.#statuses.get(action)!);
  }
}

/** The start-up log line's text and fields for the check's answers, or null when nothing is missing or unknown. */
export function permissionsLogLine(
  statuses: readonly PermissionStatus[],
): { msg: string; fields: { missing: string[]; unknown: string[]; unchecked: string[] } } | null {
  const named = (state: PermissionState) =>
    statuses.filter((status) => status.state === state).map((status) => `ec2:${status.action}`);
  const missing = named("missing");
  const unknown = named("unknown");
  if (missing.length === 0 && unknown.length === 0) return null;
  const msg = missing.length > 0
    ? "the node's IAM role lacks EC2 permissions; ipamd serves the addresses it has, and what needs them " +
      'waits (README, "IAM: what the node\'s role needs")'
    : "cannot tell whether the node's IAM role may make some EC2 calls (DryRun got another answer)";
  return { msg, fields: { missing, unknown, unchecked: named("unchecked") } };
}
