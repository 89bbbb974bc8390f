/**
 * A small CRI client: the five `runtime.v1.RuntimeService` calls kubelet makes
 * to run a pod sandbox and take it down, over the runtime's Unix socket with
 * grpc-js, each with a deadline.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import {
  decodePodSandboxStatusResponse,
  decodeRunPodSandboxResponse,
  decodeVersionResponse,
  encodeRunPodSandboxRequest,
  encodeSandboxRequest,
  encodeVersionRequest,
  type PodSandboxConfig,
  type PodSandboxStatus,
  type VersionResponse,
} from "./messages.ts";

const SERVICE = "/runtime.v1.RuntimeService";

/** The kubelet side of CRI, as far as pod sandboxes go. */
export class CriClient implements Disposable {
  readonly #client: grpc.Client;
  readonly #deadlineMs: number;

  /** `deadlineMs` bounds every call (RunPodSandbox includes the CNI ADD). */
  constructor(socketPath: string, options: { deadlineMs?: number } = {}) {
    this.#client = new grpc.Client(`unix:${socketPath}`, grpc.credentials.createInsecure());
    this.#deadlineMs = options.deadlineMs ?? 60_000;
  }

  #call(method: string, request: Uint8Array): Promise<Uint8Array> {
    const identity = (b: Buffer): Buffer => b;
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        `${SERVICE}/${method}`,
        identity,
        identity,
        Buffer.from(request),
        { deadline: Date.now() + this.#deadlineMs },
        (error, value) => error !== null ? reject(error) : resolve(new Uint8Array(value ?? [])),
      );
    });
  }

  async version(): Promise<VersionResponse> {
    return decodeVersionResponse(await this.#call("Version", encodeVersionRequest("v1")));
  }

  /** Runs a sandbox (its CNI ADD included) and returns its ID. */
  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    return decodeRunPodSandboxResponse(await this.#call("RunPodSandbox", encodeRunPodSandboxRequest(config)));
  }

  /** The sandbox's state and IP; `verbose` adds the runtime's `info` (JSON texts). */
  async podSandboxStatus(id: string, verbose = false): Promise<PodSandboxStatus> {
    return decodePodSandboxStatusResponse(
      await this.#call("PodSandboxStatus", encodeSandboxRequest(id, verbose)),
    );
  }

  /** Stops the sandbox (its CNI DEL included). */
  async stopPodSandbox(id: string): Promise<void> {
    await this.#call("StopPodSandbox", encodeSandboxRequest(id));
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.#call("RemovePodSandbox", encodeSandboxRequest(id));
  }

  [Symbol.dispose](): void {
    this.#client.close();
  }
}
