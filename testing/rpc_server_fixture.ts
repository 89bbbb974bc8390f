/**
 * Test helpers for the RPC server: a recording fake backend, a started server
 * in a temp dir, and a grpc-js generic client; all disposable with `await using`.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import { sleep, tempDir, waitFor } from "./rpc_sockets.ts";
import { addNetworkReplyCodec, delNetworkReplyCodec } from "../shared/rpc/codec.ts";
import type {
  AddNetworkReply,
  AddNetworkRequest,
  DelNetworkReply,
  DelNetworkRequest,
  HealthCheckResponse,
  IpAllocationMetadata,
} from "../shared/rpc/messages.ts";
import { HealthStatus, ServingStatus } from "../ipamd/rpc/health.ts";
import { type CniBackend, type RpcServer, startRpcServer } from "../ipamd/rpc/server.ts";
import { CNI_BACKEND_CLIENT_DEFINITION, HEALTH_CLIENT_DEFINITION } from "../ipamd/rpc/service_defs.ts";

function allocation(ipv4Addr: string): IpAllocationMetadata {
  return { ipv4Addr, ipv6Addr: "", deviceNumber: 0, routeTableId: 254 };
}

/**
 * Keeps (containerId, ifName) -> IP in a map: a repeated ADD returns the same
 * IP, a DEL of an unknown pod succeeds with no addresses. `delayMs` and `fail`
 * inject slowness and errors; `aborted` records the reasons of aborted ADDs.
 */
export class FakeBackend implements CniBackend {
  readonly assigned = new Map<string, string>();
  readonly aborted: unknown[] = [];
  delayMs = 0;
  fail: Error | undefined;
  started = 0;
  #next = 10;

  async addNetwork(request: AddNetworkRequest, signal?: AbortSignal): Promise<AddNetworkReply> {
    this.started++;
    try {
      await sleep(this.delayMs, signal);
    } catch (reason) {
      this.aborted.push(reason);
      throw reason;
    }
    if (this.fail !== undefined) throw this.fail;
    const key = `${request.containerId}/${request.ifName}`;
    let ip = this.assigned.get(key);
    if (ip === undefined) {
      const n = this.#next++;
      ip = `10.0.${n >> 8}.${n & 255}`;
    }
    this.assigned.set(key, ip);
    return addNetworkReplyCodec.create({
      success: true,
      ipAllocations: [allocation(ip)],
      vpcV4Cidrs: ["10.0.0.0/16"],
    });
  }

  async delNetwork(request: DelNetworkRequest): Promise<DelNetworkReply> {
    this.started++;
    await sleep(this.delayMs);
    if (this.fail !== undefined) throw this.fail;
    const key = `${request.containerId}/${request.ifName}`;
    const ip = this.assigned.get(key);
    this.assigned.delete(key);
    return delNetworkReplyCodec.create({
      success: true,
      ipAllocations: ip === undefined ? [] : [allocation(ip)],
    });
  }

  /** Resolves once `count` calls have reached the backend (rejects after 2 s). */
  waitForCalls(count: number): Promise<void> {
    return waitFor(() => this.started >= count);
  }
}

/** A running server on a socket in a fresh temp dir, with its fake backend and health. */
export interface TestServer extends AsyncDisposable {
  readonly server: RpcServer;
  readonly backend: FakeBackend;
  readonly health: HealthStatus;
  readonly socketPath: string;
  readonly dir: string;
  /** Errors the server answered as INTERNAL. */
  readonly internalErrors: unknown[];
}

/** Starts a server with a `FakeBackend`; "" is SERVING. Disposing closes it and removes the dir. */
export async function startTestServer(): Promise<TestServer> {
  const dir = await tempDir();
  const socketPath = `${dir.path}/ipamd.sock`;
  const backend = new FakeBackend();
  const health = new HealthStatus({ "": ServingStatus.SERVING });
  const internalErrors: unknown[] = [];
  const server = await startRpcServer({
    socketPath,
    backend,
    health,
    onInternalError: (error) => void internalErrors.push(error),
  });
  return {
    server,
    backend,
    health,
    socketPath,
    dir: dir.path,
    internalErrors,
    async [Symbol.asyncDispose]() {
      await server.close(1000);
      await dir[Symbol.asyncDispose]();
    },
  };
}

type Callback<T> = (error: grpc.ServiceError | null, value?: T) => void;
type UnaryMethod<Req, Res> = (req: Req, options: grpc.CallOptions, callback: Callback<Res>) => void;
type GenericClient = grpc.Client & Record<string, UnaryMethod<unknown, unknown>>;

function call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, deadlineMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, { deadline: Date.now() + deadlineMs }, (error, value) => {
      if (error !== null) reject(error);
      else resolve(value as Res);
    });
  });
}

/** A grpc-js generic client (the reference implementation's library) for our contract. */
export class GrpcJsClient implements Disposable {
  readonly #backend: GenericClient;
  readonly #health: GenericClient;

  constructor(socketPath: string) {
    const target = `unix:${socketPath}`;
    const insecure = grpc.credentials.createInsecure();
    const Backend = grpc.makeGenericClientConstructor(CNI_BACKEND_CLIENT_DEFINITION, "CNIBackend");
    const Health = grpc.makeGenericClientConstructor(HEALTH_CLIENT_DEFINITION, "Health");
    this.#backend = new Backend(target, insecure) as GenericClient;
    this.#health = new Health(target, insecure) as GenericClient;
  }

  addNetwork(request: AddNetworkRequest, deadlineMs = 2000): Promise<AddNetworkReply> {
    return call(this.#backend.AddNetwork!.bind(this.#backend), request, deadlineMs) as Promise<
      AddNetworkReply
    >;
  }

  delNetwork(request: DelNetworkRequest, deadlineMs = 2000): Promise<DelNetworkReply> {
    return call(this.#backend.DelNetwork!.bind(this.#backend), request, deadlineMs) as Promise<
      DelNetworkReply
    >;
  }

  check(service: string, deadlineMs = 2000): Promise<HealthCheckResponse> {
    return call(this.#health.Check!.bind(this.#health), { service }, deadlineMs) as Promise<
      HealthCheckResponse
    >;
  }

  /** Opens a Watch stream; the caller cancels it. */
  watch(service: string): grpc.ClientReadableStream<HealthCheckResponse> {
    const watch = this.#health["Watch"] as unknown as (
      req: unknown,
    ) => grpc.ClientReadableStream<HealthCheckResponse>;
    return watch.call(this.#health, { service });
  }

  /** Sends `bytes` as the request message of `path` and returns the raw reply. */
  raw(path: string, bytes: Uint8Array, deadlineMs = 2000): Promise<Buffer> {
    const identity = (b: Buffer): Buffer => b;
    return new Promise((resolve, reject) => {
      this.#backend.makeUnaryRequest(
        path,
        identity,
        identity,
        Buffer.from(bytes),
        { deadline: Date.now() + deadlineMs },
        (error, value) => error !== null ? reject(error) : resolve(value as Buffer),
      );
    });
  }

  [Symbol.dispose](): void {
    this.#backend.close();
    this.#health.close();
  }
}
