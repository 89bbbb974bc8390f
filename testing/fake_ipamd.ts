/**
 * An in-memory ipamd behind the real gRPC server, for plugin tests that need
 * no cloud: device 0 hands out 10.0.0.10-99, device 1 10.0.1.10-99 (table 2).
 *
 * @module
 */
import { addNetworkReplyCodec, delNetworkReplyCodec } from "../shared/rpc/codec.ts";
import type {
  AddNetworkReply,
  AddNetworkRequest,
  DelNetworkReply,
  DelNetworkRequest,
  IpAllocationMetadata,
} from "../shared/rpc/messages.ts";
import type { CniBackend } from "../ipamd/rpc/server.ts";
import { RpcError } from "../ipamd/rpc/errors.ts";
import { Status } from "../shared/rpc/status.ts";

/** The backend: what it holds and every release it was asked for. */
export class MemoryBackend implements CniBackend {
  readonly free: IpAllocationMetadata[] = [];
  readonly held = new Map<string, IpAllocationMetadata>();
  readonly releases: DelNetworkRequest[] = [];
  /** Hand out only device-1 addresses while set. */
  secondaryOnly = false;

  constructor() {
    for (const device of [0, 1]) {
      for (let i = 10; i < 100; i++) {
        this.free.push({
          ipv4Addr: `10.0.${device}.${i}`,
          ipv6Addr: "",
          deviceNumber: device,
          routeTableId: device === 0 ? 254 : device + 1,
        });
      }
    }
  }

  addNetwork(request: AddNetworkRequest): Promise<AddNetworkReply> {
    const key = `${request.containerId}/${request.ifName}`;
    let held = this.held.get(key);
    if (held === undefined) {
      const at = this.free.findIndex((a) => !this.secondaryOnly || a.deviceNumber > 0);
      if (at < 0) return Promise.reject(new RpcError(Status.RESOURCE_EXHAUSTED, "no free address"));
      held = this.free.splice(at, 1)[0]!;
      this.held.set(key, held);
    }
    return Promise.resolve(addNetworkReplyCodec.create({ success: true, ipAllocations: [held] }));
  }

  delNetwork(request: DelNetworkRequest): Promise<DelNetworkReply> {
    this.releases.push(request);
    const key = `${request.containerId}/${request.ifName}`;
    const held = this.held.get(key);
    this.held.delete(key);
    if (held !== undefined) this.free.push(held);
    return Promise.resolve(delNetworkReplyCodec.create({ success: true, ipAllocations: held ? [held] : [] }));
  }
}
