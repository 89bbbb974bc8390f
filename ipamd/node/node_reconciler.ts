/**
 * Periodic reconciliation of the datastore with the node (the reference's
 * `nodeIPPoolReconcile`): IMDS says which ENIs are attached and which addresses
 * they hold; where that disagrees with the datastore, one DescribeNetworkInterfaces
 * settles it. New managed ENIs are adopted, ENIs gone from the node are
 * force-removed (their pods lose their addresses, logged), addresses EC2 holds
 * are added unless the pool released them within the reconcile cooldown, and
 * free addresses EC2 no longer holds are dropped. Passes skip while a pool
 * change is in flight.
 *
 * @module
 */
import { type Clock, errorText, type Logger } from "../../shared/mod.ts";
import { attachedEni, type ImdsEni, type ImdsPort } from "../cloud/mod.ts";
import type { Datastore, EniHooks, EniInfo } from "../pool/mod.ts";
import { unmanagedReason } from "./discovery.ts";
import type { RecentChanges } from "./recent_changes.ts";
import type { EniDirectory, EniRecord } from "../cloud/mod.ts";

/** What a node reconciler works on. */
export interface NodeReconcilerOptions {
  readonly imds: ImdsPort;
  readonly directory: EniDirectory;
  readonly datastore: Datastore;
  readonly changes: RecentChanges;
  readonly instanceId: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Host networking: sets up ENIs that joined the datastore, tears down those that left. */
  readonly enis?: EniHooks;
  /** The datastore changed (the pool loop looks again). */
  readonly changed?: () => void;
}

/** What one pass did. */
export interface NodeReconcileOutcome {
  /** Set when the pass did nothing because the pool was changing the cloud. */
  readonly skipped: boolean;
  readonly adopted: string[];
  readonly removed: string[];
  readonly addedCidrs: string[];
  readonly droppedCidrs: string[];
}

/** Reconciles the datastore with IMDS and EC2, one pass at a time. */
export class NodeReconciler {
  readonly #o: NodeReconcilerOptions;
  /** ENIs found unmanaged, so they are not described again every pass. */
  readonly #unmanaged = new Set<string>();

  constructor(options: NodeReconcilerOptions) {
    this.#o = options;
  }

  async pass(): Promise<NodeReconcileOutcome> {
    const { imds, directory, datastore, changes } = this.#o;
    const outcome: NodeReconcileOutcome = {
      skipped: true,
      adopted: [],
      removed: [],
      addedCidrs: [],
      droppedCidrs: [],
    };
    if (changes.inFlight > 0) return outcome;
    const listed = await imds.enis();
    const seen = new Map(listed.map((eni) => [eni.eniId, eni]));
    const known = new Map(datastore.enis().map((eni) => [eni.eniId, eni]));
    const fresh = listed.filter((eni) =>
      !known.has(eni.eniId) && !this.#unmanaged.has(eni.eniId) && !changes.recentlyTouched(eni.eniId)
    );
    const gone = [...known.values()].filter((eni) =>
      !seen.has(eni.eniId) && !changes.recentlyTouched(eni.eniId)
    );
    const differing = listed.filter((eni) => {
      const held = known.get(eni.eniId);
      return held !== undefined &&
        !sameCidrs(eni.cidrs.filter((c) => !changes.recentlyReleased(c)), held.cidrs);
    });
    const ids = [...fresh, ...gone, ...differing].map((eni) => eni.eniId);
    if (ids.length === 0) return { ...outcome, skipped: false };
    const records = new Map((await directory.describeEnis(ids)).map((record) => [record.eniId, record]));
    // The datastore may have moved while EC2 answered; a pool change in flight wins.
    if (changes.inFlight > 0) return outcome;
    for (const eni of fresh) await this.#adopt(eni, records.get(eni.eniId), outcome);
    for (const eni of gone) await this.#remove(eni, records.get(eni.eniId), outcome);
    for (const eni of differing) this.#syncCidrs(eni.eniId, records.get(eni.eniId), outcome);
    if (outcome.adopted.length + outcome.removed.length + outcome.addedCidrs.length > 0) this.#o.changed?.();
    return { ...outcome, skipped: false };
  }

  async #adopt(eni: ImdsEni, record: EniRecord | undefined, outcome: NodeReconcileOutcome): Promise<void> {
    const { datastore, log, clock } = this.#o;
    if (record === undefined || datastore.getEni(eni.eniId) !== null) return;
    const attached = attachedEni(eni, record);
    const reason = unmanagedReason(attached, record.interfaceType);
    if (reason !== null) {
      this.#unmanaged.add(eni.eniId);
      log.info("skipping unmanaged ENI", { eniId: eni.eniId, reason });
      return;
    }
    let cidrs: string[] = [];
    try {
      const wanted = record.cidrs.filter((c) => !this.#o.changes.recentlyReleased(c));
      cidrs = datastore.adoptEni({ ...attached, cidrs: wanted, createdAtMs: clock.now() });
    } catch (error) {
      if (datastore.getEni(eni.eniId) === null) {
        log.warn("cannot adopt an ENI found on the node", { eniId: eni.eniId, error: errorText(error) });
        return;
      }
      log.warn("cannot add an adopted ENI's addresses", { eniId: eni.eniId, error: errorText(error) });
    }
    outcome.adopted.push(eni.eniId);
    outcome.addedCidrs.push(...cidrs);
    log.info("adopted an ENI found on the node", {
      eniId: eni.eniId,
      device: eni.deviceNumber,
      count: cidrs.length,
    });
    await this.#o.enis?.added({ ...attached, cidrs });
  }

  async #remove(eni: EniInfo, record: EniRecord | undefined, outcome: NodeReconcileOutcome): Promise<void> {
    const { datastore, log, instanceId } = this.#o;
    // IMDS can lag EC2; an ENI EC2 still shows attached here stays.
    if (record?.attachment?.instanceId === instanceId && record.attachment.status === "attached") return;
    const lost = datastore.removeEni(eni.eniId);
    outcome.removed.push(eni.eniId);
    log.warn("force-removed an ENI that is no longer attached to the node", {
      eniId: eni.eniId,
      device: eni.deviceNumber,
      podsLost: lost.length,
      lostIps: lost.map((allocation) => allocation.ip).join(","),
    });
    await this.#o.enis?.removed(eni);
  }

  /** Makes the datastore hold what EC2 says the ENI holds, within what it can change safely. */
  #syncCidrs(eniId: string, record: EniRecord | undefined, outcome: NodeReconcileOutcome): void {
    const { datastore, log, clock, changes } = this.#o;
    const held = datastore.getEni(eniId);
    if (record === undefined || held === null) return;
    const wanted = record.cidrs.filter((cidr) => !changes.recentlyReleased(cidr));
    let added: string[] = [];
    try {
      added = datastore.addCidrs(eniId, wanted);
    } catch (error) {
      log.warn("cannot add the addresses EC2 says an ENI holds", { eniId, error: errorText(error) });
    }
    outcome.addedCidrs.push(...added);
    const extra = held.cidrs.filter((cidr) => !record.cidrs.includes(cidr));
    const dropped = extra.length === 0 ? [] : datastore.takeForRelease(eniId, extra, clock.now());
    outcome.droppedCidrs.push(...dropped);
    const stuck = extra.filter((cidr) => !dropped.includes(cidr));
    if (added.length + dropped.length > 0) {
      log.info("reconciled an ENI's addresses with EC2", {
        eniId,
        added: added.length,
        dropped: dropped.length,
      });
    }
    if (stuck.length > 0) {
      log.warn("EC2 no longer holds addresses pods still use", { eniId, cidrs: stuck.join(",") });
    }
  }
}

function sameCidrs(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((cidr) => set.has(cidr));
}
