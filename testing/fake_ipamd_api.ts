/**
 * `FakeIpamdApi`: a stateful in-memory ipamd for unit tests. It hands out
 * addresses from a list (each with its ENI device number), keeps them per
 * (containerId, ifName), and can be made unreachable or fail one operation.
 *
 * @module
 */
import type {
  AddNetworkReply,
  AddNetworkRequest,
  DelNetworkReply,
  DelNetworkRequest,
  IpAllocationMetadata,
} from "../shared/rpc/messages.ts";
import { addNetworkReplyCodec, delNetworkReplyCodec } from "../shared/rpc/codec.ts";
import { RpcCallError, Status } from "../shared/rpc/status.ts";
import type { Allocation, IpamdApi, PoolReadiness } from "../cni/ipamd_api.ts";

/** An address the fake can hand out. */
export interface FakeAddress {
  readonly ipv4Addr: string;
  readonly deviceNumber: number;
}

type Operation = "addNetwork" | "delNetwork" | "listAllocations" | "poolStatus";

interface Held extends FakeAddress {
  readonly networkName: string;
}

/** The fake. Public fields are the state tests set and read. */
export class FakeIpamdApi implements IpamdApi {
  /** Addresses not handed out, in order. */
  readonly free: FakeAddress[];
  /** "containerId/ifName" to the address it holds. */
  readonly held = new Map<string, Held>();
  /** Every DelNetwork request that reached the fake. */
  readonly releases: DelNetworkRequest[] = [];
  /** When set, every call fails with UNAVAILABLE. */
  unreachable = false;
  /** When false, listAllocations is UNIMPLEMENTED (as with today's contract). */
  canList = true;
  /** Whether the pool could grow when `free` is empty. */
  canGrow = false;
  /** The next call of this operation fails with this error. */
  readonly failures = new Map<Operation, Error>();
  closed = false;

  constructor(addresses: readonly FakeAddress[] = defaultAddresses()) {
    this.free = [...addresses];
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  addNetwork(request: AddNetworkRequest, _deadlineMs: number): Promise<AddNetworkReply> {
    return this.#call("addNetwork", () => {
      const key = `${request.containerId}/${request.ifName}`;
      let held = this.held.get(key);
      if (held === undefined) {
        const next = this.free.shift();
        if (next === undefined) throw new RpcCallError(Status.RESOURCE_EXHAUSTED, "no free address");
        held = { ...next, networkName: request.networkName };
        this.held.set(key, held);
      }
      return addNetworkReplyCodec.create({
        success: true,
        ipAllocations: [metadata(held)],
        vpcV4Cidrs: ["10.0.0.0/16"],
      });
    });
  }

  delNetwork(request: DelNetworkRequest, _deadlineMs: number): Promise<DelNetworkReply> {
    return this.#call("delNetwork", () => {
      this.releases.push(request);
      const key = `${request.containerId}/${request.ifName}`;
      const held = this.held.get(key);
      this.held.delete(key);
      if (held !== undefined) this.free.push(held);
      return delNetworkReplyCodec.create({
        success: true,
        ipAllocations: held === undefined ? [] : [metadata(held)],
      });
    });
  }

  listAllocations(networkName: string, _deadlineMs: number): Promise<readonly Allocation[]> {
    return this.#call("listAllocations", () => {
      if (!this.canList) throw new RpcCallError(Status.UNIMPLEMENTED, "no ListAllocations");
      return [...this.held].filter(([, held]) => held.networkName === networkName).map(([key, held]) => {
        const [containerId = "", ifName = ""] = key.split("/");
        return { containerId, ifName, networkName, ipv4Addr: held.ipv4Addr };
      });
    });
  }

  poolStatus(_deadlineMs: number): Promise<PoolReadiness> {
    return this.#call(
      "poolStatus",
      () =>
        this.free.length > 0 || this.canGrow
          ? { ready: true, reason: "" }
          : { ready: false, reason: "the address pool is empty and cannot grow" },
    );
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  #call<T>(operation: Operation, body: () => T): Promise<T> {
    if (this.unreachable) return Promise.reject(new RpcCallError(Status.UNAVAILABLE, "Cannot reach ipamd"));
    const failure = this.failures.get(operation);
    if (failure !== undefined) {
      this.failures.delete(operation);
      return Promise.reject(failure);
    }
    try {
      return Promise.resolve(body());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

function metadata(address: FakeAddress): IpAllocationMetadata {
  return {
    ipv4Addr: address.ipv4Addr,
    ipv6Addr: "",
    deviceNumber: address.deviceNumber,
    routeTableId: address.deviceNumber === 0 ? 254 : address.deviceNumber + 1,
  };
}

/** Ten addresses on device 0 (10.0.0.10-19) and ten on device 1 (10.0.1.10-19). */
export function defaultAddresses(): FakeAddress[] {
  const primary = Array.from({ length: 10 }, (_, i) => ({ ipv4Addr: `10.0.0.${10 + i}`, deviceNumber: 0 }));
  const secondary = Array.from({ length: 10 }, (_, i) => ({ ipv4Addr: `10.0.1.${10 + i}`, deviceNumber: 1 }));
  return [...primary, ...secondary];
}

const _check: IpamdApi = new FakeIpamdApi();
