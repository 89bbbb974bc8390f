/**
 * denoland/deno#36788: a session that receives GOAWAY with no stream open is
 * destroyed by `node:http2` from inside nghttp2's frame processing, and Deno
 * frees the nghttp2 session under nghttp2's feet; the process then aborts
 * (`find_stream_on_goaway_func: Assertion 'stream->closed_next == NULL'`) or
 * segfaults, but only now and then. These tests check the condition instead,
 * deterministically: no `destroy()` runs while a received GOAWAY is being
 * handled, on ipamd's sessions and on the plugin client's. The churn that
 * shows the crash itself is tests/bench/h2_goaway_churn.ts.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as http2 from "node:http2";
import * as net from "node:net";
import { tempDir, waitFor, withTimeout } from "../../testing/rpc_sockets.ts";
import { IpamdClient } from "../../cni/rpc/client.ts";
import { RpcPath, ServingStatus } from "../../shared/rpc/messages.ts";
import { startTestServer } from "../../testing/rpc_server_fixture.ts";
import { deferSessionDestroy, guardServerSessions } from "./session_guard.ts";
import { HEALTH_SERVER_DEFINITION } from "./service_defs.ts";
import { unary } from "./unary.ts";

const SHORT = { deadlineMs: 2000 };

type Side = "server" | "client";
type Counts = Record<Side, number>;

/** What the probe saw on sessions created after it was installed. */
interface GoawayProbe extends Disposable {
  /** GOAWAY frames received. */
  readonly goaways: Counts;
  /** `destroy()` calls that reached `node:http2`. */
  readonly destroys: Counts;
  /** Of those, the ones made while a received GOAWAY was still being handled: the crash condition. */
  readonly destroysInGoaway: Counts;
}

/**
 * Hooks `Http2Session.prototype` (found through `sample`). `node:http2` emits
 * "goaway" and then, in the same synchronous run, closes or destroys the
 * session; a microtask cannot run in between, so "handling a GOAWAY" lasts
 * from the emit to the next microtask checkpoint.
 */
function installGoawayProbe(sample: http2.Http2Session): GoawayProbe {
  const proto = Object.getPrototypeOf(Object.getPrototypeOf(sample)) as http2.Http2Session;
  assert.ok(Object.hasOwn(proto, "destroy"), "Http2Session.prototype not found");
  const originalDestroy = proto.destroy;
  const handlingGoaway = new WeakSet<http2.Http2Session>();
  const probe = {
    goaways: { server: 0, client: 0 },
    destroys: { server: 0, client: 0 },
    destroysInGoaway: { server: 0, client: 0 },
    [Symbol.dispose]() {
      delete (proto as { emit?: unknown }).emit;
      proto.destroy = originalDestroy;
    },
  };
  const side = (session: http2.Http2Session): Side =>
    session.type === http2.constants.NGHTTP2_SESSION_SERVER ? "server" : "client";
  proto.emit = function (this: http2.Http2Session, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "goaway") {
      probe.goaways[side(this)]++;
      handlingGoaway.add(this);
      queueMicrotask(() => handlingGoaway.delete(this));
    }
    return Object.getPrototypeOf(proto).emit.call(this, event, ...args);
  };
  proto.destroy = function (
    this: http2.Http2Session,
    ...args: Parameters<http2.Http2Session["destroy"]>
  ): void {
    probe.destroys[side(this)]++;
    if (handlingGoaway.has(this)) probe.destroysInGoaway[side(this)]++;
    originalDestroy.apply(this, args);
  };
  return probe;
}

/** A raw `node:http2` connection to `socketPath`, plus its socket. */
function connect(socketPath: string): { session: http2.ClientHttp2Session; socket: net.Socket } {
  const socket = net.connect(socketPath);
  const session = http2.connect("http://localhost", { createConnection: () => socket });
  session.on("error", () => {});
  return { session, socket };
}

function closed(session: http2.Http2Session): Promise<void> {
  return session.closed && session.destroyed
    ? Promise.resolve()
    : new Promise((resolve) => session.once("close", () => resolve()));
}

/** Installs the probe, using a throwaway connection (dropped without GOAWAY) to find the prototype. */
async function probeFor(socketPath: string): Promise<GoawayProbe> {
  const { session, socket } = connect(socketPath);
  const probe = installGoawayProbe(session);
  const done = closed(session);
  socket.destroy();
  session.destroy();
  await withTimeout(done);
  return probe;
}

/** One Health/Check on a raw session; resolves when its stream has closed. */
function healthCheck(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": RpcPath.HEALTH_CHECK,
      "content-type": "application/grpc",
      "te": "trailers",
    });
    let status: string | undefined;
    stream.on("trailers", (trailers) => void (status = String(trailers["grpc-status"])));
    stream.on("data", () => {});
    stream.on("error", reject);
    stream.on("close", () => status === "0" ? resolve() : reject(new Error(`grpc-status ${status}`)));
    stream.end(Buffer.from([0, 0, 0, 0, 0])); // one empty message
  });
}

Deno.test("ipamd does not destroy a session while handling the client's GOAWAY (denoland/deno#36788)", async () => {
  await using t = await startTestServer();
  using probe = await probeFor(t.socketPath);
  const before = { ...probe.destroys };
  const { session } = connect(t.socketPath);
  await withTimeout(healthCheck(session));
  // node:http2's close() says goodbye with GOAWAY; ipamd's session has no stream open by now.
  const done = closed(session);
  session.close();
  await withTimeout(done);
  await waitFor(() => probe.destroys.server > before.server);
  assert.ok(probe.goaways.server >= 1, "ipamd never saw the client's GOAWAY");
  assert.equal(probe.destroysInGoaway.server, 0, "ipamd destroyed a session inside GOAWAY handling");
});

Deno.test("IpamdClient.close() drops the connection without sending GOAWAY", async () => {
  await using t = await startTestServer();
  using probe = await probeFor(t.socketPath);
  const before = { ...probe.destroys };
  const client = new IpamdClient(t.socketPath);
  assert.equal(await client.healthCheck(SHORT), ServingStatus.SERVING);
  await client.close();
  await waitFor(() => probe.destroys.server > before.server);
  assert.equal(probe.goaways.server, 0);
});

Deno.test("IpamdClient.close() lets an in-flight call finish before dropping the connection", async () => {
  await using t = await startTestServer();
  t.backend.delayMs = 200;
  const client = new IpamdClient(t.socketPath);
  const inFlight = client.delNetwork(
    {
      podName: "p",
      podNamespace: "default",
      podInfraContainerId: "c1",
      reason: "PodDeleted",
      ifName: "eth0",
      networkName: "aws-cni",
      containerId: "c1",
      clientVersion: "test",
      podUid: "",
    },
    SHORT,
  );
  await t.backend.waitForCalls(1);
  await client.close();
  assert.equal((await inFlight).success, true);
});

Deno.test("deferSessionDestroy() makes destroy() take effect on a later macrotask, once", async () => {
  await using t = await startTestServer();
  const { session, socket } = connect(t.socketPath);
  deferSessionDestroy(session);
  const wrapped = session.destroy;
  deferSessionDestroy(session);
  assert.equal(session.destroy, wrapped, "applied twice");
  assert.notEqual(wrapped, Object.getPrototypeOf(session).destroy, "destroy() is wrapped");
  const done = closed(session);
  socket.destroy();
  session.destroy();
  assert.equal(session.destroyed, false);
  await withTimeout(done);
  assert.equal(session.destroyed, true);
});

Deno.test("guardServerSessions() refuses a grpc-js server it cannot guard", () => {
  assert.throws(() => guardServerSessions(new grpc.Server()), /Cannot guard HTTP\/2 sessions/);
});

/** The per-connection state grpc-js keeps in a server (private fields, read for this check only). */
function sessionState(server: grpc.Server): { sessions: number; listenerSessions: number } {
  const internals = server as unknown as {
    sessions: Map<unknown, unknown>;
    http2Servers: Map<unknown, { sessions: Set<unknown> }>;
  };
  assert.ok(internals.sessions instanceof Map, "grpc-js no longer keeps its sessions in `sessions`");
  let listenerSessions = 0;
  for (const { sessions } of internals.http2Servers.values()) listenerSessions += sessions.size;
  return { sessions: internals.sessions.size, listenerSessions };
}

Deno.test("guarded sessions still close: one-call connections leave grpc-js no per-connection state", async () => {
  await using dir = await tempDir();
  const socketPath = `${dir.path}/guarded.sock`;
  const server = new grpc.Server();
  server.addService(HEALTH_SERVER_DEFINITION, {
    Check: unary(() => Promise.resolve({ status: ServingStatus.SERVING }), () => {}),
    Watch: () => {},
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (error) => {
      if (error !== null) return reject(error);
      guardServerSessions(server);
      resolve();
    })
  );
  try {
    for (let i = 0; i < 20; i++) {
      // Half say goodbye with GOAWAY (node:http2's close()), half drop the connection (IpamdClient).
      if (i % 2 === 0) {
        const { session } = connect(socketPath);
        await withTimeout(healthCheck(session));
        const done = closed(session);
        session.close();
        await withTimeout(done);
      } else {
        const client = new IpamdClient(socketPath);
        await client.healthCheck(SHORT).catch(() => {});
        await client.close();
      }
    }
    await waitFor(() => sessionState(server).sessions === 0 && sessionState(server).listenerSessions === 0)
      .catch(() => assert.deepEqual(sessionState(server), { sessions: 0, listenerSessions: 0 }));
  } finally {
    server.forceShutdown();
  }
});
