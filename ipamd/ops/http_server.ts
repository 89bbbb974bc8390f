/**
 * A small HTTP listener for the metrics and introspection endpoints, on an
 * `address:port` from the settings (loopback by default). Requests are logged at
 * debug level; a handler that throws answers 500 and is logged as an error.
 *
 * @module
 */
import { errorText, type Logger } from "../../shared/mod.ts";

/** A listening endpoint; disposing it is `close()`. */
export interface HttpEndpoint extends AsyncDisposable {
  /** Where it listens, as `host:port`. */
  readonly address: string;
  /** Stops accepting and waits for requests in flight. */
  close(): Promise<void>;
}

/** Answers one request. */
export type HttpHandler = (request: Request) => Response | Promise<Response>;

/** Serves `handler` on `bind` (`a.b.c.d:port`); throws when the address cannot be bound. */
export function serveHttp(bind: string, handler: HttpHandler, log: Logger): HttpEndpoint {
  const colon = bind.lastIndexOf(":");
  const hostname = bind.slice(0, colon);
  const port = Number(bind.slice(colon + 1));
  const server = Deno.serve({
    hostname,
    port,
    onListen: () => {},
    onError: (error) => {
      log.error("HTTP handler failed", { error: errorText(error) });
      return new Response("Internal Server Error\n", { status: 500 });
    },
  }, (request) => {
    log.debug("HTTP request", { method: request.method, path: new URL(request.url).pathname });
    return handler(request);
  });
  let closing: Promise<void> | null = null;
  const close = () => closing ??= server.shutdown();
  return { address: `${server.addr.hostname}:${server.addr.port}`, close, [Symbol.asyncDispose]: close };
}

/** A JSON response with the reference's content type. */
export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}
