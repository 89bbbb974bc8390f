/**
 * A window onto a node's loopback for the test process: the node's daemon and
 * cloud listen on 127.0.0.1 inside the node's network namespace, which the test
 * process cannot reach. This small process runs inside the namespace and
 * forwards each HTTP request it gets on a Unix socket (reachable from any
 * namespace) to `http://127.0.0.1:<port><path>` there: `http://x/<port>/<path>`.
 * Tests use it to read ipamd's introspection and metrics without starting a
 * process per read.
 *
 * @module
 */
import { run } from "./netns.ts";

/** The bridge, as the test process uses it. */
export interface LoopbackBridge extends AsyncDisposable {
  /** `fetch` of `http://127.0.0.1:<port><path>` inside the node. */
  fetch(port: number, path: string, init?: RequestInit): Promise<Response>;
}

/** Starts the bridge inside the network namespace at `netnsPath`; its socket lives in `dir`. */
export async function startLoopbackBridge(netnsPath: string, dir: string): Promise<LoopbackBridge> {
  const socket = `${dir}/loopback.sock`;
  const child = new Deno.Command("nsenter", {
    args: [
      `--net=${netnsPath}`,
      Deno.execPath(),
      ...["run", "-A", "--quiet", "--no-prompt", "--no-lock", "--no-config"],
      new URL(import.meta.url).pathname,
      socket,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const first = await reader.read();
  reader.releaseLock();
  if (!new TextDecoder().decode(first.value ?? new Uint8Array()).includes("ready")) {
    const out = await child.output();
    throw new Error(`Cannot start the loopback bridge: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
  return {
    fetch: (port, path, init = {}) => fetch(`http://bridge/${port}${path}`, { ...init, client }),
    async [Symbol.asyncDispose]() {
      client.close();
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.stdout.cancel().catch(() => {});
      await child.output().catch(() => {});
    },
  };
}

/** Whether `nsenter` can run the bridge here (root). */
export async function canBridge(): Promise<boolean> {
  return Deno.uid() === 0 && (await run("sh", ["-c", "command -v nsenter"])).code === 0;
}

if (import.meta.main) {
  const [socket = ""] = Deno.args;
  const ready = () => void Deno.stdout.writeSync(new TextEncoder().encode("ready\n"));
  Deno.serve({ path: socket, onListen: ready }, async (request) => {
    const url = new URL(request.url);
    const match = /^\/(\d{1,5})(\/.*)$/.exec(url.pathname);
    if (match === null) return new Response("expected /<port>/<path>\n", { status: 400 });
    const body = request.method === "GET" || request.method === "HEAD" ? null : await request.arrayBuffer();
    const headers = new Headers(request.headers);
    headers.delete("host");
    try {
      return await fetch(`http://127.0.0.1:${match[1]}${match[2]}${url.search}`, {
        method: request.method,
        headers,
        body,
      });
    } catch (error) {
      return new Response(`cannot reach 127.0.0.1:${match[1]}: ${error}\n`, { status: 502 });
    }
  });
}
