/**
 * ipamd's gRPC socket under malformed input: `RELIABILITY_GRPC_FUZZ_CASES`
 * connections (2,000 by default) carrying broken protobuf, lying gRPC frames,
 * HTTP/2 protocol violations and non-HTTP/2 bytes, sent raw to the real daemon.
 * It must not crash, must not change any allocation, the checkpoint or the
 * host, and must still serve real calls afterwards.
 */
import assert from "node:assert/strict";
import { IpamdClient } from "../../cni/rpc/client.ts";
import { addRequest, delRequest } from "../../testing/ipamd_requests.ts";
import { hostPlumbing } from "./_audit.ts";
import { SIZES } from "./_config.ts";
import { h2Cases } from "./_h2_cases.ts";
import { nodesReady, startNode } from "../../testing/node.ts";
import { recordResult } from "./_results.ts";

const ready = await nodesReady();

/** Sends `bytes` on a fresh connection and reads until the server closes or `waitMs` passes. */
async function send(socket: string, bytes: Uint8Array, waitMs: number): Promise<number> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  let received = 0;
  try {
    await conn.write(bytes).catch(() => 0);
    const buf = new Uint8Array(16_384);
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      const timer = new Promise<null>((resolve) => setTimeout(() => resolve(null), deadline - Date.now()));
      const n = await Promise.race([conn.read(buf).catch(() => null), timer]);
      if (n === null) break;
      received += n;
    }
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the server already
    }
  }
  return received;
}

Deno.test({
  name: `ipamd survives ${SIZES.grpcFuzzCases} malformed gRPC / HTTP/2 connections without a state change`,
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using node = await startNode({ label: "grpcfz" });
    // This process reaches the node's default socket through the node's mount namespace.
    const socket = node.outside(node.paths.socket);
    const client = new IpamdClient(socket);
    try {
      for (const id of ["held-1", "held-2"]) await client.addNetwork(addRequest(id), { deadlineMs: 10_000 });
      // What the fuzz must not change: who holds which address, on disk, in ipamd and on the host.
      const state = async () =>
        JSON.stringify([
          await node.readFile(node.paths.checkpoint),
          (await node.pool()).pool.assigned,
          [...(await hostPlumbing(node.netns)).routes],
          [...(await hostPlumbing(node.netns)).toRules],
        ]);
      const before = await state();
      const cases = h2Cases(SIZES.grpcFuzzCases, SIZES.seed + 3);
      const problems: string[] = [];
      let answered = 0;
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < cases.length && node.daemon.alive; i = next++) {
          const c = cases[i]!;
          try {
            if (await send(socket, c.bytes, 100) > 0) answered++;
          } catch (error) {
            problems.push(`${c.label}: ${(error as Error).message}`);
          }
          if (!node.daemon.alive) problems.push(`ipamd died after "${c.label}"`);
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      const exit = node.daemon.alive ? undefined : await node.daemon.exit();
      assert.ok(node.daemon.alive, `ipamd is alive: ${exit?.stderr.slice(-2000) ?? ""}`);
      const after = await state();
      // A real client still gets served, and the state is what it was.
      const fresh = await client.addNetwork(addRequest("after-fuzz"), { deadlineMs: 10_000 });
      await client.delNetwork(delRequest("after-fuzz"), { deadlineMs: 10_000 });
      await recordResult({
        area: "gRPC / HTTP/2 fuzz of ipamd's socket",
        operations: cases.length,
        fuzzCases: cases.length,
        faults: cases.length,
        leaks: after === before ? 0 : 1,
        notes: `${answered} connections answered; ipamd alive, state unchanged: ${after === before}`,
      });
      assert.deepEqual(problems.slice(0, 20), []);
      assert.equal(after, before, "no allocation, checkpoint or host change");
      assert.ok(fresh.success);
    } finally {
      await client.close();
    }
  },
});
