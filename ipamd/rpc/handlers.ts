/**
 * The daemon's answers to the plugin: AddNetwork and DelNetwork against the
 * pool, each acknowledged only once the checkpoint holding it is on disk.
 *
 * @module
 */
import { type Clock, errorText, type Logger } from "../../shared/mod.ts";
import {
  type AddNetworkReply,
  addNetworkReplyCodec,
  type AddNetworkRequest,
  type DelNetworkReply,
  delNetworkReplyCodec,
  type DelNetworkRequest,
  type IpAllocationMetadata,
  type ListAllocationsReply,
  type ListAllocationsRequest,
  Status,
} from "../../shared/rpc/mod.ts";
import {
  AddCancelledError,
  type Allocation,
  type AllocationKey,
  type CheckpointJournal,
  type Pool,
} from "../pool/mod.ts";
import { RpcError } from "./errors.ts";
import type { CniBackend } from "./server.ts";

/** The network name kubelet's conflist gives when the request carries none. */
const DEFAULT_NETWORK = "aws-cni";
/** The main routing table, used for pods on the primary ENI. */
const MAIN_TABLE = 254;

/** What the backend works with. */
export interface BackendOptions {
  readonly pool: Pick<Pool, "datastore" | "acquire" | "release" | "changed">;
  readonly journal: CheckpointJournal;
  readonly clock: Clock;
  readonly log: Logger;
  /** How long an ADD waits for the pool to grow. */
  readonly addWaitMs: number;
  readonly useExternalSnat?: boolean;
  readonly vpcV4Cidrs?: readonly string[];
}

/** The routing table a pod's address is served from: main for the primary ENI, device+1 otherwise. */
export function routeTableFor(deviceNumber: number): number {
  return deviceNumber === 0 ? MAIN_TABLE : deviceNumber + 1;
}

function metadataOf(allocation: Allocation): IpAllocationMetadata {
  return {
    ipv4Addr: allocation.ip,
    ipv6Addr: "",
    deviceNumber: allocation.deviceNumber,
    routeTableId: routeTableFor(allocation.deviceNumber),
  };
}

function keyOf(request: { networkName: string; containerId: string; ifName: string }): AllocationKey {
  if (request.containerId === "") throw new RpcError(Status.INVALID_ARGUMENT, "Missing container ID");
  if (request.ifName === "") throw new RpcError(Status.INVALID_ARGUMENT, "Missing interface name");
  return {
    networkName: request.networkName || DEFAULT_NETWORK,
    containerId: request.containerId,
    ifName: request.ifName,
  };
}

/** `CniBackend` over the pool. */
export class IpamBackend implements CniBackend {
  readonly #o: BackendOptions;

  constructor(options: BackendOptions) {
    this.#o = options;
  }

  async addNetwork(request: AddNetworkRequest): Promise<AddNetworkReply> {
    const { pool, journal, log } = this.#o;
    const { datastore } = pool;
    const key = keyOf(request);
    const meta = { podNamespace: request.podNamespace, podName: request.podName };
    // A repeated ADD may find an assignment whose checkpoint write is still under
    // way: wait for it, and start over if that write failed and was rolled back.
    if (datastore.get(key) !== null) await journal.durable();
    const isNew = datastore.get(key) === null;
    const allocation = await pool.acquire(key, meta, this.#o.addWaitMs).catch((error) => {
      if (error instanceof AddCancelledError) {
        throw new RpcError(Status.ABORTED, error.message, { cause: error });
      }
      throw error;
    });
    const fields = { containerId: key.containerId, ifName: key.ifName, ip: allocation.ip };
    if (isNew) {
      try {
        await journal.commit(() => datastore.rollback(key));
      } catch (error) {
        log.error("checkpoint write failed; ADD rolled back", { ...fields, error: errorText(error) });
        throw new RpcError(Status.UNAVAILABLE, "Cannot write the IPAM checkpoint", { cause: error });
      }
    }
    log.info(isNew ? "assigned address" : "address already assigned", fields);
    pool.changed();
    return addNetworkReplyCodec.create({
      success: true,
      ipAllocations: [metadataOf(allocation)],
      useExternalSnat: this.#o.useExternalSnat ?? false,
      vpcV4Cidrs: this.#o.vpcV4Cidrs ?? [],
    });
  }

  /** The allocations on disk (a change still being written is waited for), of one network or all. */
  async listAllocations(request: ListAllocationsRequest): Promise<ListAllocationsReply> {
    await this.#o.journal.durable();
    const allocations = this.#o.pool.datastore.allocations()
      .filter(({ key }) => request.networkName === "" || key.networkName === request.networkName)
      .map(({ key, ip }) => ({
        containerId: key.containerId,
        ifName: key.ifName,
        networkName: key.networkName,
        ipv4Addr: ip,
      }));
    return { allocations };
  }

  async delNetwork(request: DelNetworkRequest): Promise<DelNetworkReply> {
    const { pool, journal, clock, log } = this.#o;
    const key = keyOf(request);
    const released = pool.release(key);
    if (released === null) {
      await journal.durable(); // a DEL of the same key may still be writing
      log.debug("release of an unknown pod interface", { containerId: key.containerId, ifName: key.ifName });
      return delNetworkReplyCodec.create({ success: true });
    }
    const fields = { containerId: key.containerId, ifName: key.ifName, ip: released.ip };
    try {
      await journal.commit(() => pool.datastore.restore([released], clock.now()));
    } catch (error) {
      log.error("checkpoint write failed; DEL rolled back", { ...fields, error: errorText(error) });
      throw new RpcError(Status.UNAVAILABLE, "Cannot write the IPAM checkpoint", { cause: error });
    }
    log.info("released address", { ...fields, reason: request.reason });
    pool.changed();
    return delNetworkReplyCodec.create({ success: true, ipAllocations: [metadataOf(released)] });
  }
}
