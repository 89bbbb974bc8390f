/**
 * An IMDSv2 client: a session token from `PUT /latest/api/token` (renewed before
 * it expires, and at once when IMDS answers 401), GETs that carry it, a timeout
 * per request and retries with back-off on timeouts, broken connections and 5xx.
 * A 404 is an answer ("no such key"), not a failure. Token-less IMDSv1 GETs are
 * used only when explicitly allowed and the token request is refused.
 *
 * @module
 */
import { type Clock, realTimers, sleep, systemClock } from "../../shared/mod.ts";
import { CloudError } from "./errors.ts";
import { backoffMs, type BackoffPolicy } from "./rate_budget.ts";

/** The header the token request names its lifetime in (seconds). */
const TOKEN_TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds";
/** The header every GET carries the token in. */
const TOKEN_HEADER = "x-aws-ec2-metadata-token";

/** The link-local address of IMDS on every instance. */
export const DEFAULT_IMDS_ENDPOINT = "http://169.254.169.254";

/** Retries of one IMDS request: 100 ms, 200 ms, 400 ms, … up to 2 s, each 85 % to 100 %. */
export const IMDS_RETRY_BACKOFF: BackoffPolicy = { initialMs: 100, factor: 2, maxMs: 2_000, jitter: 0.15 };

/** How to reach IMDS. */
export interface ImdsClientOptions {
  /** Default `http://169.254.169.254`. */
  readonly endpoint?: string;
  /** Token lifetime, 1 to 21 600 s (default 21 600, the SDK's). */
  readonly tokenTtlSeconds?: number;
  /** Fall back to token-less GETs when IMDS refuses to issue a token (default false). */
  readonly allowV1?: boolean;
  /** Per request (default 10 000). */
  readonly timeoutMs?: number;
  /** Retries of a request that timed out, broke or met a 5xx (default 4). */
  readonly retries?: number;
  readonly clock?: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Default: the global fetch. */
  readonly fetch?: typeof fetch;
}

/** Reads instance metadata over IMDSv2. */
export class HttpImdsClient {
  readonly endpoint: string;
  readonly #o: ImdsClientOptions;
  readonly #clock: Clock;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #fetch: typeof fetch;
  #token: { value: string | null; renewAtMs: number } | null = null;
  #tokenRequest: Promise<string | null> | null = null;

  constructor(options: ImdsClientOptions = {}) {
    const ttl = options.tokenTtlSeconds ?? 21_600;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) {
      throw new RangeError(`Cannot ask IMDS for a token of ${ttl} s: expected 1 to 21600`);
    }
    this.endpoint = (options.endpoint ?? DEFAULT_IMDS_ENDPOINT).replace(/\/+$/, "");
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? sleep;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The text under `/latest/meta-data/<path>`, or null when IMDS has no such key (404). */
  metadata(path: string): Promise<string | null> {
    return this.get(`/latest/meta-data/${path.replace(/^\/+/, "")}`);
  }

  /** The text at an absolute IMDS path, or null on a 404. Rejects with a `CloudError` ("unavailable"). */
  async get(path: string): Promise<string | null> {
    const retries = this.#o.retries ?? 4;
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#getOnce(path);
      } catch (error) {
        if (!(error instanceof CloudError) || error.kind !== "unavailable" || attempt >= retries) throw error;
        await this.#sleep(backoffMs(IMDS_RETRY_BACKOFF, attempt));
      }
    }
  }

  async #getOnce(path: string): Promise<string | null> {
    let token = await this.#currentToken();
    let response = await this.#request("GET", path, token === null ? {} : { [TOKEN_HEADER]: token });
    if (response.status === 401) {
      this.#token = null;
      token = await this.#currentToken();
      response = await this.#request("GET", path, token === null ? {} : { [TOKEN_HEADER]: token });
    }
    if (response.status === 404) return null;
    if (response.status === 200) return response.body;
    throw failure(`GET ${path}`, response.status);
  }

  /** The token to send, renewing it shortly before it expires; null for IMDSv1. */
  #currentToken(): Promise<string | null> {
    if (this.#token !== null && this.#clock.now() < this.#token.renewAtMs) {
      return Promise.resolve(this.#token.value);
    }
    this.#tokenRequest ??= this.#requestToken().finally(() => {
      this.#tokenRequest = null;
    });
    return this.#tokenRequest;
  }

  async #requestToken(): Promise<string | null> {
    const ttl = this.#o.tokenTtlSeconds ?? 21_600;
    const response = await this.#request("PUT", "/latest/api/token", { [TOKEN_TTL_HEADER]: String(ttl) });
    // Renew once 90 % of the lifetime (at most 1 min short of it) has passed.
    const renewAtMs = this.#clock.now() + Math.max(ttl * 1000 * 0.9, ttl * 1000 - 60_000);
    if (response.status === 200 && response.body !== "") {
      this.#token = { value: response.body, renewAtMs };
      return response.body;
    }
    if (this.#o.allowV1 === true && response.status < 500) {
      this.#token = { value: null, renewAtMs };
      return null;
    }
    throw failure("PUT /latest/api/token", response.status);
  }

  async #request(
    method: "GET" | "PUT",
    path: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    const abort = new AbortController();
    const timeoutMs = this.#o.timeoutMs ?? 10_000;
    const cancel = realTimers.after(timeoutMs, () => abort.abort());
    try {
      const response = await this.#fetch(`${this.endpoint}${path}`, {
        method,
        headers,
        signal: abort.signal,
      });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      const what = abort.signal.aborted ? `timed out after ${timeoutMs} ms` : "failed";
      throw new CloudError(
        "unavailable",
        "ImdsUnavailable",
        `IMDS ${method} ${path} ${what}: nothing answered at ${this.endpoint}. ipamd reads the instance from ` +
          "IMDS, so it runs on an EC2 instance; is this one? Off EC2, point AWS_EC2_METADATA_SERVICE_ENDPOINT " +
          "at an IMDS, such as a simulated cloud's",
        { cause: error },
      );
    } finally {
      cancel();
    }
  }
}

function failure(what: string, status: number): CloudError {
  const kind = status >= 500 || status === 429
    ? "unavailable"
    : status === 401 || status === 403
    ? "unauthorized"
    : "invalid";
  return new CloudError(kind, `Imds${status}`, `IMDS ${what} answered HTTP ${status}`);
}
