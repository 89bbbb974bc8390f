/**
 * Works around a use-after-free in Deno's `node:http2` (denoland/deno#36788)
 * that kills the process with
 * `nghttp2_session.c: find_stream_on_goaway_func: Assertion 'stream->closed_next == NULL' failed`
 * (exit 134) or a bare SIGSEGV (exit 139).
 *
 * Cause: when a session receives GOAWAY, the polyfill's `onGoawayData` runs
 * inside `nghttp2_session_mem_recv` and calls `session.close()` (or
 * `destroy()` for an error code). With no stream open, `close()` destroys the
 * session at once, and Deno's native `destroy` frees the nghttp2 session
 * (`nghttp2_session_del`) even while nghttp2 is still using it; it only defers
 * closing the socket. nghttp2 then keeps processing, and sends the queued
 * GOAWAY, on freed memory. Any client that says goodbye politely (a GOAWAY
 * after its last call, as `node:http2`'s `close()` and `destroy()` send) can
 * trigger it: 16 clients making one-call connections for 5 s aborted the
 * daemon in 9 of 20 runs (tests/bench/h2_goaway_churn.ts reproduces it).
 *
 * The fix: make `destroy()` of each session run on a later macrotask, never
 * inside an nghttp2 callback. The polyfill's own teardown (on socket EOF, after
 * the GOAWAY is flushed) still closes the session promptly; the deferred call
 * is then a no-op.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import type * as http2 from "node:http2";
import { setImmediate } from "node:timers";

const GUARDED = Symbol("destroyDeferred");

/** Makes `session.destroy()` take effect on a later macrotask; idempotent. */
export function deferSessionDestroy(session: http2.Http2Session): void {
  const target = session as http2.Http2Session & { [GUARDED]?: true };
  if (target[GUARDED]) return;
  target[GUARDED] = true;
  const destroy = session.destroy;
  session.destroy = (...args: Parameters<http2.Http2Session["destroy"]>): void => {
    setImmediate(() => destroy.apply(session, args));
  };
}

/**
 * Applies `deferSessionDestroy` to every session of `server`'s HTTP/2
 * listeners. Call it in the `bindAsync` callback: grpc-js resolves that in
 * microtasks after `listen`, before any connection can be accepted. grpc-js
 * does not expose its listeners, so this reads its private `http2Servers` map
 * and throws if that changed shape (e.g. after a grpc-js upgrade).
 */
export function guardServerSessions(server: grpc.Server): void {
  const listeners = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(listeners instanceof Map) || listeners.size === 0) {
    throw new Error("Cannot guard HTTP/2 sessions: grpc-js no longer keeps its listeners in `http2Servers`");
  }
  for (const listener of listeners.keys()) {
    if (typeof (listener as Partial<http2.Http2Server>).on !== "function") {
      throw new Error("Cannot guard HTTP/2 sessions: a grpc-js listener is not an http2 server");
    }
    (listener as http2.Http2Server).on("session", deferSessionDestroy);
  }
}
