import assert from "node:assert/strict";
import { RpcCallError, Status } from "../shared/rpc/status.ts";
import { createFakes, invoke, netconf, POD_NETNS, podEnv } from "../testing/plugin_deps.ts";

async function added() {
  const f = createFakes();
  const add = await invoke(f, podEnv("ADD"), netconf());
  assert.equal(add.status, 0);
  return { f, prevResult: add.json };
}

Deno.test("cmdDel() with ipamd unreachable tears down from prevResult, queues the release, and succeeds", async () => {
  const { f, prevResult } = await added();
  f.ipamd.unreachable = true;
  const del = await invoke(f, podEnv("DEL"), netconf({ prevResult }));
  assert.equal(del.status, 0, JSON.stringify(del.json));
  assert.ok(f.ip.host.isEmpty());
  assert.equal(f.queue.lines.length, 1);
  const line = f.queue.lines[0]!;
  assert.equal(line.path, "/var/run/aws-node/pending-releases.jsonl");
  assert.deepEqual(line.release.ipv4Addrs, ["10.0.0.10"]);
  assert.equal(line.release.request.containerId, "c0ffee01");
  assert.equal(line.release.request.podName, "web-0");
});

Deno.test("cmdDel() without prevResult learns the address from ipamd's reply", async () => {
  const { f } = await added();
  const del = await invoke(f, podEnv("DEL"), netconf());
  assert.equal(del.status, 0);
  assert.ok(f.ip.host.isEmpty(), JSON.stringify(f.ip.host));
});

Deno.test("cmdDel() also unwires an address ipamd released that prevResult did not name", async () => {
  const { f, prevResult } = await added();
  const stale = structuredClone(prevResult) as { ips: { address: string }[] };
  stale.ips[0]!.address = "10.0.0.99/32";
  const del = await invoke(f, podEnv("DEL"), netconf({ prevResult: stale }));
  assert.equal(del.status, 0, JSON.stringify(del.json));
  assert.ok(f.ip.host.isEmpty(), `the rules of 10.0.0.10 went too: ${JSON.stringify(f.ip.host)}`);
});

Deno.test("cmdDel() without prevResult and with ipamd unreachable finds the address on the pod interface", async () => {
  const { f } = await added();
  f.ipamd.unreachable = true;
  const del = await invoke(f, podEnv("DEL"), netconf());
  assert.equal(del.status, 0, JSON.stringify(del.json));
  assert.ok(f.ip.host.isEmpty(), `no host rule or route is left: ${JSON.stringify(f.ip.host)}`);
  assert.deepEqual(f.queue.lines.map((l) => l.release.ipv4Addrs), [["10.0.0.10"]]);
});

Deno.test("cmdDel() succeeds when the netns is gone and ipamd does not know the pod", async () => {
  const { f, prevResult } = await added();
  f.ip.deleteNetns(POD_NETNS);
  f.ipamd.failures.set("delNetwork", new RpcCallError(Status.NOT_FOUND, "datastore: unknown pod"));
  const del = await invoke(f, podEnv("DEL"), netconf({ prevResult }));
  assert.equal(del.status, 0, JSON.stringify(del.json));
  assert.ok(f.ip.host.isEmpty());
});

Deno.test("cmdDel() fails (after tearing down) when ipamd answers an error a retry may fix, or the queue is full", async () => {
  const { f, prevResult } = await added();
  f.ipamd.failures.set("delNetwork", new RpcCallError(Status.INTERNAL, "Internal error in ipamd"));
  const del = await invoke(f, podEnv("DEL"), netconf({ prevResult }));
  assert.equal(del.json!["code"], 999);
  assert.ok(f.ip.host.isEmpty(), "the network is torn down anyway");
  f.ipamd.unreachable = true;
  f.queue.failing = true;
  const full = await invoke(f, podEnv("DEL"), netconf({ prevResult }));
  assert.equal(full.json!["code"], 5);
});
