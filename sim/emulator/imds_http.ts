/**
 * IMDSv2 over HTTP for one simulated instance: `PUT /latest/api/token` with
 * `X-aws-ec2-metadata-token-ttl-seconds` (1 to 21600) issues a session token, and
 * every GET must carry a valid, unexpired `X-aws-ec2-metadata-token` (401
 * otherwise; token-less IMDSv1 GETs only when allowed). Values are plain text
 * without a trailing newline; unknown paths answer 404. Token lifetimes run on
 * the simulation's clock.
 *
 * @module
 */

import type { Clock } from "../../shared/mod.ts";
import type { ImdsView } from "./imds_facts.ts";
import { lookupMetadata, metadataTree } from "./imds_tree.ts";

/** The token request's header (seconds). */
export const TOKEN_TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds";
/** The header a GET carries its token in. */
export const TOKEN_HEADER = "x-aws-ec2-metadata-token";
/** The longest token lifetime IMDS grants. */
export const MAX_TOKEN_TTL_SECONDS = 21_600;

/** How the IMDS handler behaves. */
export interface ImdsHttpOptions {
  /** Serve GETs without a token (IMDSv1). Default false: IMDSv2 required. */
  readonly allowImdsV1?: boolean;
}

/** Serves IMDS requests for the instance of one `ImdsView`. */
export class ImdsHttpHandler {
  readonly #view: ImdsView;
  readonly #clock: Clock;
  readonly #allowV1: boolean;
  /** Token to expiry (ms on the clock). */
  readonly #tokens = new Map<string, number>();

  constructor(view: ImdsView, clock: Clock, options: ImdsHttpOptions = {}) {
    this.#view = view;
    this.#clock = clock;
    this.#allowV1 = options.allowImdsV1 ?? false;
  }

  /** Answers one HTTP request. */
  handle(request: Request): Response {
    const path = new URL(request.url).pathname;
    if (request.method === "PUT") {
      return path === "/latest/api/token" ? this.#issueToken(request) : text(405, "Method Not Allowed");
    }
    if (request.method !== "GET") return text(405, "Method Not Allowed");
    if (!this.#authorized(request.headers.get(TOKEN_HEADER))) return text(401, "Unauthorized");
    const value = lookupMetadata(metadataTree(this.#view.current()), path);
    return value === null ? text(404, "Not Found") : text(200, value);
  }

  #issueToken(request: Request): Response {
    if (request.headers.has("x-forwarded-for")) return text(403, "Forbidden");
    const ttlText = request.headers.get(TOKEN_TTL_HEADER);
    const ttl = ttlText !== null && /^\d+$/.test(ttlText) ? Number(ttlText) : NaN;
    if (!(ttl >= 1 && ttl <= MAX_TOKEN_TTL_SECONDS)) return text(400, "Bad Request");
    const nowMs = this.#clock.now();
    for (const [token, expiresMs] of this.#tokens) {
      if (expiresMs <= nowMs) this.#tokens.delete(token);
    }
    const token = newToken();
    this.#tokens.set(token, nowMs + ttl * 1000);
    return text(200, token, { [TOKEN_TTL_HEADER]: String(ttl) });
  }

  #authorized(token: string | null): boolean {
    if (token === null) return this.#allowV1;
    const expiresMs = this.#tokens.get(token);
    return expiresMs !== undefined && this.#clock.now() < expiresMs;
  }
}

function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(42));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain", ...headers } });
}
