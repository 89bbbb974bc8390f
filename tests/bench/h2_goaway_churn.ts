/**
 * Probe for denoland/deno#36788: clients that each open a connection, make
 * one call and close politely (GOAWAY, as `node:http2`'s close() and grpc-go
 * do) used to kill ipamd now and then with
 * `nghttp2_session.c: find_stream_on_goaway_func: Assertion 'stream->closed_next == NULL' failed`
 * (exit 134) or SIGSEGV. ipamd/rpc/session_guard.ts works around it. The
 * crash is a use-after-free, so it is probabilistic: this is a repeatable
 * probe, not a test (the deterministic tests are in ipamd/rpc/session_guard_test.ts).
 *
 * Run: `deno run -A tests/bench/h2_goaway_churn.ts [--runs 20] [--seconds 5] [--server ipamd|plain]`
 * `ipamd` (default) serves with `startRpcServer`; `plain` is grpc-js without
 * the guard, the control. Each run starts a server child, churns it with 16
 * clients for the given seconds, and counts the children that died. Exits 1
 * if any ipamd child died. Seen on a 2-CPU box with Deno 2.9.6, 20 × 5 s:
 * plain aborted in 6-9 of 20 runs, ipamd in 0.
 */
import * as grpc from "@grpc/grpc-js";
import { Buffer } from "node:buffer";
import * as http2 from "node:http2";
import * as net from "node:net";
import { parseArgs } from "node:util";
import { RpcPath } from "../../shared/rpc/messages.ts";
import { FakeBackend } from "../../testing/rpc_server_fixture.ts";
import { HealthStatus, ServingStatus } from "../../ipamd/rpc/health.ts";
import { startRpcServer } from "../../ipamd/rpc/server.ts";
import { HEALTH_SERVER_DEFINITION } from "../../ipamd/rpc/service_defs.ts";

const CLIENTS = 16;

type ServerKind = "ipamd" | "plain";

/** Child role: serves Health/Check on `socketPath` until killed. */
async function serve(kind: ServerKind, socketPath: string): Promise<void> {
  if (kind === "ipamd") {
    const health = new HealthStatus({ "": ServingStatus.SERVING });
    await startRpcServer({ socketPath, backend: new FakeBackend(), health });
  } else {
    const server = new grpc.Server();
    server.addService(HEALTH_SERVER_DEFINITION, {
      Check: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, { status: 1 }),
      Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end(),
    });
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (error) => {
        if (error === null) resolve();
        else reject(error);
      });
    });
  }
  await Deno.stdout.write(new TextEncoder().encode("ready\n"));
}

/** One connection: a Health/Check, then close() with its GOAWAY. */
async function politeCall(socketPath: string): Promise<void> {
  const session = http2.connect("http://localhost", { createConnection: () => net.connect(socketPath) });
  session.on("error", () => {});
  const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
  await new Promise<void>((resolve) => {
    const stream = session.request({
      ":method": "POST",
      ":path": RpcPath.HEALTH_CHECK,
      "content-type": "application/grpc",
      "te": "trailers",
    });
    stream.on("data", () => {});
    stream.on("error", () => {});
    stream.on("close", () => resolve());
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
  session.close();
  await closed;
}

async function waitReady(stdout: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("The server child exited before it was ready");
    text += value;
  }
  reader.releaseLock();
}

/** One run; resolves with how the child ended ("alive" if it survived) and the calls made. */
async function churn(kind: ServerKind, seconds: number): Promise<{ outcome: string; calls: number }> {
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-h2churn-" });
  const socketPath = `${dir}/s.sock`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--serve", kind, socketPath],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let calls = 0;
  try {
    await waitReady(child.stdout);
    let alive = true;
    const status = child.status.then((s) => {
      alive = false;
      return s;
    });
    const until = performance.now() + seconds * 1000;
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      while (alive && performance.now() < until) {
        await Promise.race([politeCall(socketPath), status]);
        calls++;
      }
    }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (!alive) {
      const s = await status;
      return { outcome: s.signal ?? `exit ${s.code}`, calls };
    }
    child.kill("SIGKILL");
    await status;
    return { outcome: "alive", calls };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "20" },
      seconds: { type: "string", default: "5" },
      server: { type: "string", default: "ipamd" },
      serve: { type: "string" },
    },
    allowPositionals: true,
  });
  const kind = (values.serve ?? values.server) as ServerKind;
  if (kind !== "ipamd" && kind !== "plain") throw new Error(`Unknown server "${kind}"`);
  if (values.serve !== undefined) return serve(kind, Deno.args.at(-1)!);
  const runs = Number(values.runs);
  let died = 0;
  for (let run = 1; run <= runs; run++) {
    const { outcome, calls } = await churn(kind, Number(values.seconds));
    if (outcome !== "alive") died++;
    // deno-lint-ignore no-console
    console.log(`${kind} run ${run}: ${calls} connections, server ${outcome}`);
  }
  // deno-lint-ignore no-console
  console.log(`${kind}: server died in ${died} of ${runs} runs`);
  // Calls cut off by a dying server may leave sessions behind; do not wait for them.
  Deno.exit(kind === "ipamd" && died > 0 ? 1 : 0);
}

if (import.meta.main) await main();
