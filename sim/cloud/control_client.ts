/**
 * The control channel's client, for tests and tools: one method per request of
 * protocol.ts, over the cloud's Unix socket. A refused request throws an Error
 * with the cloud's message.
 *
 * @module
 */
import type { Ec2Action } from "../ec2/mod.ts";
import type {
  CloudState,
  EniRequest,
  FaultRequest,
  FaultSpec,
  HangRequest,
  ImdsRequestRecord,
  ThrottleRequest,
} from "./protocol.ts";

/** Talks to one cloud's control socket. */
export class CloudControl {
  readonly path: string;
  readonly #client: Deno.HttpClient;

  constructor(path: string) {
    this.path = path;
    this.#client = Deno.createHttpClient({ proxy: { transport: "unix", path } });
  }

  /** The account as EC2 holds it now, EC2 calls per action and the plugged links. */
  state(): Promise<CloudState> {
    return this.#call("GET", "/state");
  }

  /** Every IMDS request so far (the last 10,000). */
  imdsRequests(): Promise<ImdsRequestRecord[]> {
    return this.#call("GET", "/imds-requests");
  }

  /** The next `times` calls of `action` ("*": of every action) fail with `fault`. */
  async failNext(action: Ec2Action | "*", fault: FaultSpec, times = 1): Promise<void> {
    await this.#call("POST", "/faults", { ...fault, action, times } satisfies FaultRequest);
  }

  /** Each call of `action` ("*": of every action) fails with `fault` with probability `rate`. */
  async failAtRate(action: Ec2Action | "*", fault: FaultSpec, rate: number): Promise<void> {
    await this.#call("POST", "/faults", { ...fault, action, rate } satisfies FaultRequest);
  }

  /** Disarms the faults of one action, or of all. */
  async clearFaults(action?: Ec2Action): Promise<void> {
    await this.#call("POST", "/faults/clear", action === undefined ? {} : { action });
  }

  /** Turns EC2's throttling on with full buckets (some resized), or off with null. */
  async throttle(buckets: ThrottleRequest | null = {}): Promise<void> {
    await this.#call("POST", buckets === null ? "/throttle/off" : "/throttle", buckets ?? {});
  }

  /** EC2 waits `ms` before it answers `action`. */
  async setApiLatency(action: Ec2Action, ms: number): Promise<void> {
    await this.#call("POST", "/api-latency", { action, ms });
  }

  /** Attaches begun from now on take `ms`; null restores the cloud's own attach time. */
  async setAttachLatency(ms: number | null): Promise<void> {
    await this.#call("POST", "/attach-latency", { ms });
  }

  /** Attaches begun from now on stay `attaching` until `releaseAttaches()`. */
  async holdAttaches(): Promise<void> {
    await this.#call("POST", "/attach/hold");
  }

  /** Stops holding and completes every held attach now; returns how many. */
  async releaseAttaches(): Promise<number> {
    return (await this.#call<{ released: number }>("POST", "/attach/release")).released;
  }

  /** IMDS shows ENI changes `ms` late. */
  async setImdsLag(ms: number): Promise<void> {
    await this.#call("POST", "/imds-lag", { ms });
  }

  /** Calls of `action` never answer (the client times out). */
  async hang(action: Ec2Action, options: Omit<HangRequest, "action"> = {}): Promise<void> {
    await this.#call("POST", "/hangs", { ...options, action });
  }

  /** Disarms the hangs of one action, or of all (calls hung already stay hung). */
  async clearHangs(action?: Ec2Action): Promise<void> {
    await this.#call("POST", "/hangs/clear", action === undefined ? {} : { action });
  }

  /** An ENI another node takes in a subnet, with `secondaryIps` addresses; returns its id. */
  async createEni(request: EniRequest): Promise<string> {
    return (await this.#call<{ eniId: string }>("POST", "/enis", request)).eniId;
  }

  /** Deletes an unattached ENI. */
  /** Takes `actions` out of the node role's IAM policy: EC2 answers them UnauthorizedOperation. */
  async withhold(actions: readonly Ec2Action[]): Promise<void> {
    await this.#call("POST", "/iam/withhold", { actions });
  }

  /** Puts `actions` back into the node role's policy, or every one when none is named. */
  async grant(actions?: readonly Ec2Action[]): Promise<void> {
    await this.#call("POST", "/iam/grant", actions === undefined ? {} : { actions });
  }

  async deleteEni(eniId: string): Promise<void> {
    await this.#call("POST", "/enis/delete", { eniId });
  }

  /** Closes the client's connections. */
  close(): void {
    this.#client.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const response = await fetch(`http://cloud${path}`, {
      method,
      client: this.#client,
      ...(method === "POST" ? { body: JSON.stringify(body ?? {}) } : {}),
    });
    const answer = await response.json();
    if (!response.ok) {
      throw new Error(`Cannot ${method} ${path} on the simulated cloud: ${answer?.error ?? response.status}`);
    }
    return answer as T;
  }
}
