/**
 * Leaked-ENI cleanup (the reference's `cleanUpLeakedENIs`): ENIs that some node
 * of ours created (they carry the instance tag and the `aws-K8S-` description)
 * and that sit `available` in this VPC (and cluster, when CLUSTER_NAME is set)
 * were left behind by a node or daemon that died between create and attach, or
 * after a detach. Once older than the minimum age (5 min by its createdAt tag)
 * they are deleted; one without the tag is tagged now and judged next time.
 *
 * @module
 */
import { type Clock, errorText, type Logger } from "../../shared/mod.ts";
import {
  CLUSTER_NAME_TAG,
  CREATED_AT_TAG,
  ENI_DESCRIPTION_PREFIX,
  type EniDirectory,
  type EniFilters,
  INSTANCE_ID_TAG,
  rfc3339,
} from "../cloud/mod.ts";

/** The reference's minimum age of a leaked ENI before it is deleted. */
export const LEAKED_ENI_MIN_AGE_MS = 5 * 60_000;

/** Where to look and how old a leftover must be. */
export interface LeakedEniOptions {
  readonly directory: EniDirectory;
  readonly vpcId: string;
  /** "" looks at every cluster's leftovers in the VPC. */
  readonly clusterName: string;
  readonly minAgeMs?: number;
  readonly clock: Clock;
  readonly log: Logger;
}

/** What one sweep did. */
export interface LeakedEniSweep {
  readonly deleted: string[];
  /** Leftovers without a createdAt tag, tagged now. */
  readonly tagged: string[];
  /** Leftovers too young to delete yet. */
  readonly young: string[];
  readonly failed: string[];
}

/** Finds and deletes leaked ENIs. */
export class LeakedEniCleaner {
  readonly #o: LeakedEniOptions;

  constructor(options: LeakedEniOptions) {
    this.#o = options;
  }

  /** The filters of the leftover search. */
  get filters(): EniFilters {
    return {
      "tag-key": [INSTANCE_ID_TAG],
      status: ["available"],
      "vpc-id": [this.#o.vpcId],
      ...(this.#o.clusterName === "" ? {} : { [`tag:${CLUSTER_NAME_TAG}`]: [this.#o.clusterName] }),
    };
  }

  /** One sweep; a failure on one ENI is logged and the others still go. */
  async sweep(): Promise<LeakedEniSweep> {
    const { directory, clock, log } = this.#o;
    const minAgeMs = this.#o.minAgeMs ?? LEAKED_ENI_MIN_AGE_MS;
    const sweep: LeakedEniSweep = { deleted: [], tagged: [], young: [], failed: [] };
    const candidates = (await directory.listEnis(this.filters))
      .filter((eni) => eni.description.startsWith(ENI_DESCRIPTION_PREFIX) && eni.attachment === null);
    for (const eni of candidates) {
      const createdAtMs = Date.parse(eni.tags[CREATED_AT_TAG] ?? "");
      try {
        if (Number.isNaN(createdAtMs)) {
          await directory.tagEni(eni.eniId, { [CREATED_AT_TAG]: rfc3339(clock.now()) });
          sweep.tagged.push(eni.eniId);
        } else if (clock.now() - createdAtMs < minAgeMs) {
          sweep.young.push(eni.eniId);
        } else {
          await directory.deleteEni(eni.eniId);
          sweep.deleted.push(eni.eniId);
          log.info("deleted a leaked ENI", {
            eniId: eni.eniId,
            createdBy: eni.tags[INSTANCE_ID_TAG] ?? "",
            createdAt: eni.tags[CREATED_AT_TAG] ?? "",
          });
        }
      } catch (error) {
        sweep.failed.push(eni.eniId);
        log.warn("cannot clean up a leaked ENI", { eniId: eni.eniId, error: errorText(error) });
      }
    }
    return sweep;
  }
}
