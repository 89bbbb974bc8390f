/**
 * The IAM policy of the simulated node's role, per EC2 action: every action is
 * allowed until withheld. A withheld action fails as EC2 fails it
 * (UnauthorizedOperation, HTTP 403, the "User: … is not authorized to perform:
 * ec2:<Action> because no identity-based policy allows the ec2:<Action> action"
 * message, with an encoded authorization failure message for actions that are
 * not Describe*), and so does its DryRun; an allowed DryRun fails with
 * DryRunOperation (HTTP 412). Which actions take DryRun is EC2's, too.
 *
 * @module
 */
import { Ec2SimError } from "./error.ts";
import { DRY_RUN_ACTIONS } from "../../ipamd/cloud/mod.ts";
import type { Ec2Action } from "./types.ts";

export { DRY_RUN_ACTIONS };

/** The role the simulated node's credentials belong to, as EC2 names it in its messages. */
export const SIMULATED_ROLE_NAME = "simulated-node-role";

/** Which actions the simulated role may call. */
export class Ec2IamPolicy {
  readonly #withheld = new Set<Ec2Action>();
  readonly #accountId: () => string;

  /** `accountId`: the account named in EC2's messages. */
  constructor(accountId: () => string) {
    this.#accountId = accountId;
  }

  /** Takes `action` out of the role's policy. */
  withhold(action: Ec2Action): void {
    this.#withheld.add(action);
  }

  /** Puts `action` back, or every action when none is named. */
  grant(action?: Ec2Action): void {
    if (action === undefined) this.#withheld.clear();
    else this.#withheld.delete(action);
  }

  /** Whether the role may call `action`. */
  allows(action: Ec2Action): boolean {
    return !this.#withheld.has(action);
  }

  /** The withheld actions, sorted. */
  withheld(): Ec2Action[] {
    return [...this.#withheld].sort();
  }

  /** Throws EC2's UnauthorizedOperation unless the role may call `action`. */
  authorize(action: Ec2Action): void {
    if (this.allows(action)) return;
    const user = `arn:aws:sts::${this.#accountId()}:assumed-role/${SIMULATED_ROLE_NAME}/simulated-node`;
    let message = `You are not authorized to perform this operation. User: ${user} is not authorized to ` +
      `perform: ec2:${action} because no identity-based policy allows the ec2:${action} action`;
    if (!action.startsWith("Describe")) {
      message += `. Encoded authorization failure message: ${encodedFailure(action)}`;
    }
    throw new Ec2SimError("UnauthorizedOperation", message);
  }
}

/** An opaque token standing in for EC2's encoded message (sts:DecodeAuthorizationMessage decodes the real one). */
function encodedFailure(action: string): string {
  return btoa(JSON.stringify({ allowed: false, explicitDeny: false, action: `ec2:${action}` }))
    .replace(/=+$/, "");
}
