/**
 * The loopback EC2 + IMDS emulator that ships in the binary: the EC2 Query
 * protocol and IMDSv2 for one instance, both over HTTP in front of an
 * `Ec2Simulation`, so the real AWS SDK and an IMDS client can talk to it.
 *
 * @module
 */

import type { Ec2Action, Ec2Simulation } from "../ec2/mod.ts";
import { Ec2HttpHandler } from "./ec2_http.ts";
import type { Ec2TransportKnobs } from "./ec2_transport_knobs.ts";
import { ImdsView } from "./imds_facts.ts";
import { ImdsHttpHandler, TOKEN_HEADER, TOKEN_TTL_HEADER } from "./imds_http.ts";

export { EC2_API_VERSION, Ec2HttpHandler } from "./ec2_http.ts";
export { Ec2TransportKnobs, type Hang, type HangOptions } from "./ec2_transport_knobs.ts";
export { type ImdsInstance, type ImdsInterface, ImdsView } from "./imds_facts.ts";
export { ImdsHttpHandler, type ImdsHttpOptions } from "./imds_http.ts";

/** Where and how to run the emulator. */
export interface EmulatorOptions {
  readonly sim: Ec2Simulation;
  /** The instance IMDS describes; it must exist in `sim`. */
  readonly instanceId: string;
  /** A loopback address (default 127.0.0.1). */
  readonly hostname?: string;
  /** Default 0: any free port. */
  readonly ec2Port?: number;
  /** Default 0: any free port. */
  readonly imdsPort?: number;
  /** `HOST:PORT` (or `[::1]:PORT`): EC2 on PORT and IMDS on PORT + 1; overrides the three above. */
  readonly listen?: string;
  /** How long an ENI or address change takes to show in IMDS (default 0). */
  readonly imdsLagMs?: number;
  /** Serve IMDS GETs without a token (default false). */
  readonly allowImdsV1?: boolean;
  /** Told of every IMDS request before it is answered. */
  readonly onImdsRequest?: (request: ImdsRequestRecord) => void;
}

/** One request to IMDS, as it arrived. */
export interface ImdsRequestRecord {
  readonly method: string;
  readonly path: string;
  /** The session token it carried, or null. */
  readonly token: string | null;
  /** The token lifetime it asked for (token requests), or null. */
  readonly ttl: string | null;
}

/** A running emulator. */
export interface Emulator {
  /** `http://HOST:PORT`, for the SDK's `endpoint`. */
  readonly ec2Endpoint: string;
  /** `http://HOST:PORT`, in place of `http://169.254.169.254`. */
  readonly imdsEndpoint: string;
  /** Wire faults of the EC2 side (calls that never answer). */
  readonly ec2Transport: Ec2TransportKnobs;
  /** What IMDS shows, and how far it lags behind EC2 (settable). */
  readonly imds: ImdsView;
  /** EC2 calls received per action. */
  ec2Calls(): Partial<Record<Ec2Action, number>>;
  /** Ends hung calls, stops both servers and IMDS recording; safe to call twice. */
  close(): Promise<void>;
  /** `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts both servers; rejects (with nothing left running) on bad options or a port that cannot be bound. */
export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const where = resolveAddresses(options);
  const view = new ImdsView(options.sim, options.instanceId, { lagMs: options.imdsLagMs ?? 0 });
  const ec2 = new Ec2HttpHandler(options.sim);
  const imds = new ImdsHttpHandler(view, options.sim.clock, { allowImdsV1: options.allowImdsV1 ?? false });
  const servers: Deno.HttpServer<Deno.NetAddr>[] = [];
  let closed: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      view.close();
      await ec2.release();
      await Promise.all(servers.map((server) => server.shutdown()));
    })();
    return closed;
  };
  try {
    servers.push(serve(where.hostname, where.ec2Port, (request) => ec2.handle(request)));
    servers.push(serve(where.hostname, where.imdsPort, (request) => {
      options.onImdsRequest?.({
        method: request.method,
        path: new URL(request.url).pathname,
        token: request.headers.get(TOKEN_HEADER),
        ttl: request.headers.get(TOKEN_TTL_HEADER),
      });
      return imds.handle(request);
    }));
  } catch (error) {
    await close();
    throw error;
  }
  const [ec2Server, imdsServer] = servers;
  return {
    ec2Endpoint: endpoint(where.hostname, ec2Server!.addr.port),
    imdsEndpoint: endpoint(where.hostname, imdsServer!.addr.port),
    ec2Transport: ec2.transport,
    imds: view,
    ec2Calls: () => ec2.calls(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Splits `HOST:PORT` or `[V6]:PORT` (port 1 to 65534, leaving room for IMDS on PORT + 1). */
export function parseListenAddress(text: string): { hostname: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || !(port >= 1 && port <= 65534)) {
    throw new RangeError(`Cannot listen on "${text}": expected HOST:PORT with a port from 1 to 65534`);
  }
  return { hostname: match[1] ?? match[2] ?? "", port };
}

function resolveAddresses(options: EmulatorOptions): { hostname: string; ec2Port: number; imdsPort: number } {
  let where = {
    hostname: options.hostname ?? "127.0.0.1",
    ec2Port: options.ec2Port ?? 0,
    imdsPort: options.imdsPort ?? 0,
  };
  if (options.listen !== undefined) {
    const { hostname, port } = parseListenAddress(options.listen);
    where = { hostname, ec2Port: port, imdsPort: port + 1 };
  }
  if (!isLoopback(where.hostname)) {
    throw new RangeError(
      `Cannot serve the EC2 emulator on "${where.hostname}": only loopback addresses are allowed`,
    );
  }
  for (const port of [where.ec2Port, where.imdsPort]) {
    if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`Cannot serve the EC2 emulator on port ${port}`);
    }
  }
  return where;
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function serve(
  hostname: string,
  port: number,
  handler: (request: Request) => Response | Promise<Response>,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname, port, onListen: () => {} }, handler);
}

function endpoint(hostname: string, port: number): string {
  return hostname.includes(":") ? `http://[${hostname}]:${port}` : `http://${hostname}:${port}`;
}
export { EC2_ACTIONS } from "./ec2_actions.ts";
