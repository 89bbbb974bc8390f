/**
 * The control channel's server: routes each request (protocol.ts) to the
 * cloud's knobs and reads. Bad input answers 400 with the error's message;
 * the server never throws at its caller.
 *
 * @module
 */
import type { Ec2Action } from "../ec2/mod.ts";
import { Ec2SimError } from "../ec2/mod.ts";
import type { Cloud } from "./cloud.ts";
import type { EniRequest, FaultRequest, HangRequest, ThrottleRequest } from "./protocol.ts";

type Route = (cloud: Cloud, body: Record<string, unknown>) => unknown | Promise<unknown>;

const GET: Readonly<Record<string, (cloud: Cloud) => unknown>> = {
  "/state": (cloud) => cloud.state(),
  "/imds-requests": (cloud) => cloud.imdsRequests(),
};

const POST: Readonly<Record<string, Route>> = {
  "/faults": (cloud, body) => cloud.fail(body as unknown as FaultRequest),
  "/faults/clear": (cloud, body) => cloud.clearFaults(optionalAction(body)),
  "/throttle": (cloud, body) => cloud.throttle(body as ThrottleRequest),
  "/throttle/off": (cloud) => cloud.throttle(null),
  "/api-latency": (cloud, body) => cloud.setApiLatency(action(body), number(body, "ms")),
  "/attach-latency": (cloud, body) => cloud.setAttachLatency(body["ms"] === null ? null : number(body, "ms")),
  "/attach/hold": (cloud) => cloud.holdAttaches(),
  "/attach/release": (cloud) => ({ released: cloud.releaseAttaches() }),
  "/imds-lag": (cloud, body) => cloud.setImdsLag(number(body, "ms")),
  "/hangs": (cloud, body) => cloud.hang(body as unknown as HangRequest),
  "/hangs/clear": (cloud, body) => cloud.clearHangs(optionalAction(body)),
  "/enis": (cloud, body) => ({ eniId: cloud.createEni(body as unknown as EniRequest) }),
  "/enis/delete": (cloud, body) => cloud.deleteEni(string(body, "eniId")),
  "/iam/withhold": (cloud, body) => cloud.withhold(actions(body) ?? []),
  "/iam/grant": (cloud, body) => cloud.grant(actions(body)),
};

/** Answers one control request. */
export async function handleControl(cloud: Cloud, request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  try {
    if (request.method === "GET" && Object.hasOwn(GET, path)) return json(200, await GET[path]!(cloud));
    if (request.method === "POST" && Object.hasOwn(POST, path)) {
      const text = await request.text();
      const body = text.trim() === "" ? {} : JSON.parse(text);
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new TypeError("Expected a JSON object");
      }
      return json(200, await POST[path]!(cloud, body) ?? {});
    }
    const known = Object.hasOwn(GET, path) || Object.hasOwn(POST, path);
    return json(known ? 405 : 404, { error: `${request.method} ${path} is not a control request` });
  } catch (error) {
    if (
      error instanceof RangeError || error instanceof TypeError || error instanceof SyntaxError ||
      error instanceof Ec2SimError
    ) {
      return json(400, { error: error.message });
    }
    return json(500, { error: error instanceof Error ? error.message : String(error) });
  }
}

/** Serves the control channel on a Unix socket at `path`. */
export function serveControl(cloud: Cloud, path: string): Deno.HttpServer<Deno.UnixAddr> {
  return Deno.serve({ path, onListen: () => {} }, (request) => handleControl(cloud, request));
}

function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
}

function string(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== "string" || value === "") throw new TypeError(`Expected "${key}" as a string`);
  return value;
}

function number(body: Record<string, unknown>, key: string): number {
  const value = body[key];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`Expected "${key}" as a number`);
  }
  return value;
}

function action(body: Record<string, unknown>): Ec2Action {
  return string(body, "action") as Ec2Action;
}

function optionalAction(body: Record<string, unknown>): Ec2Action | undefined {
  return body["action"] === undefined ? undefined : action(body);
}

function actions(body: Record<string, unknown>): Ec2Action[] | undefined {
  const value = body["actions"];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new TypeError('Expected "actions" to be a list of EC2 action names');
  }
  return value as Ec2Action[];
}
