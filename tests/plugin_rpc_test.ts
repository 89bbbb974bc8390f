/**
 * The plugin's ipamd adapter (`RpcIpamdApi`, over the lean node:http2 client)
 * against ipamd's real gRPC server on a Unix socket, and STATUS end to end.
 */
import assert from "node:assert/strict";
import { createFakes } from "../testing/plugin_deps.ts";
import { RpcIpamdApi } from "../cni/ipamd_api.ts";
import { POOL_HEALTH_SERVICE, runPlugin } from "../cni/mod.ts";
import { HealthStatus, ServingStatus } from "../ipamd/rpc/health.ts";
import { startRpcServer } from "../ipamd/rpc/server.ts";
import { recordedIo } from "../testing/recorded_io.ts";
import { addNetworkRequestCodec, delNetworkRequestCodec } from "../shared/rpc/codec.ts";
import { RpcCallError, Status } from "../shared/rpc/status.ts";
import { createTempDir } from "../testing/netns.ts";
import { MemoryBackend } from "../testing/fake_ipamd.ts";

async function serve(health: HealthStatus) {
  const dir = await createTempDir("aws-cni-rpc-plugin-");
  const socketPath = `${dir.path}/ipamd.sock`;
  const backend = new MemoryBackend();
  const server = await startRpcServer({ socketPath, backend, health });
  return {
    socketPath,
    backend,
    server,
    async [Symbol.asyncDispose]() {
      await server.close(500);
      await dir[Symbol.asyncDispose]();
    },
  };
}

Deno.test("RpcIpamdApi adds and releases through ipamd's gRPC server; listing is UNIMPLEMENTED", async () => {
  await using t = await serve(new HealthStatus({ "": ServingStatus.SERVING }));
  const api = new RpcIpamdApi(t.socketPath);
  try {
    const add = await api.addNetwork(
      addNetworkRequestCodec.create({ containerId: "c1", ifName: "eth0" }),
      2000,
    );
    assert.equal(add.ipAllocations[0]?.ipv4Addr, "10.0.0.10");
    const del = await api.delNetwork(
      delNetworkRequestCodec.create({ containerId: "c1", ifName: "eth0" }),
      2000,
    );
    assert.equal(del.ipAllocations[0]?.ipv4Addr, "10.0.0.10");
    const list = await api.listAllocations("aws-cni", 2000).catch((e: unknown) => e);
    assert.ok(list instanceof RpcCallError && list.code === Status.UNIMPLEMENTED);
  } finally {
    await api.close();
  }
});

Deno.test("RpcIpamdApi.poolStatus() reads the pool health service, falling back to the server's", async () => {
  const health = new HealthStatus({ "": ServingStatus.SERVING });
  await using t = await serve(health);
  const api = new RpcIpamdApi(t.socketPath);
  try {
    assert.deepEqual(await api.poolStatus(2000), { ready: true, reason: "" });
    health.set("", ServingStatus.NOT_SERVING);
    assert.deepEqual(await api.poolStatus(2000), { ready: false, reason: "ipamd is not serving" });
    health.set(POOL_HEALTH_SERVICE, ServingStatus.NOT_SERVING);
    assert.equal((await api.poolStatus(2000)).reason, "the address pool is empty and cannot grow");
    health.set(POOL_HEALTH_SERVICE, ServingStatus.SERVING);
    assert.equal((await api.poolStatus(2000)).ready, true);
  } finally {
    await api.close();
  }
});

Deno.test("runPlugin() STATUS over the real socket: ready, then code 50 once ipamd is gone", async () => {
  await using t = await serve(new HealthStatus({ "": ServingStatus.SERVING }));
  const fakes = createFakes();
  const stdin = JSON.stringify({
    cniVersion: "1.1.0",
    name: "aws-cni",
    type: "aws-cni",
    ipamdSocket: t.socketPath,
  });
  const { ipamd: _fake, ...real } = fakes.deps;
  const ok = recordedIo({ env: { CNI_COMMAND: "STATUS" }, stdin });
  assert.equal(await runPlugin(ok, real), 0, ok.out.join(""));
  assert.deepEqual(ok.out, []);
  await t.server.close(500);
  const down = recordedIo({ env: { CNI_COMMAND: "STATUS" }, stdin });
  assert.equal(await runPlugin(down, real), 1);
  const error = JSON.parse(down.out.join(""));
  assert.equal(error.code, 50);
  assert.match(error.details, /UNAVAILABLE/);
});
