import assert from "node:assert/strict";
import { EntryExistsError } from "../shared/ip_cmd.ts";
import { createFakes, invoke, netconf, POD_NETNS, podEnv } from "../testing/plugin_deps.ts";

Deno.test("cmdAdd() rolls back the host side and releases the address when the pod batch fails", async () => {
  const f = createFakes();
  f.ipamd.free.splice(0, 10); // a secondary-ENI address, so both rules exist before the failure
  f.ip.failWhen = (command, netns) =>
    netns === POD_NETNS && command.startsWith("route add default")
      ? new EntryExistsError("RTNETLINK answers: File exists", { command, index: 3 })
      : undefined;
  const { status, json } = await invoke(f, podEnv("ADD"), netconf());
  assert.equal(status, 1);
  assert.equal(json!["code"], 999);
  assert.match(String(json!["details"]), /File exists/);
  assert.ok(f.ip.host.isEmpty(), JSON.stringify(f.ip.host));
  assert.ok(f.ip.namespaces.get(POD_NETNS)!.isEmpty());
  assert.equal(f.ipamd.held.size, 0);
  assert.deepEqual(f.ipamd.releases.map((r) => r.reason), ["SetupNSFailed"]);
  assert.equal(f.ipamd.free.at(-1)?.ipv4Addr, "10.0.1.10");
});

Deno.test("cmdAdd() queues the release when ipamd goes away during a failed ADD", async () => {
  const f = createFakes();
  f.ip.failWhen = (command) => {
    if (!command.startsWith("rule add to")) return undefined;
    f.ipamd.unreachable = true;
    return new Error("Cannot run ip: RTNETLINK answers: Operation not permitted");
  };
  const { json } = await invoke(f, podEnv("ADD"), netconf({ ipamdSocket: "/run/x/ipamd.sock" }));
  assert.equal(json!["code"], 999);
  assert.equal(f.queue.path, "/run/x/pending-releases.jsonl");
  assert.deepEqual(f.queue.lines.map((l) => [l.release.request.reason, l.release.ipv4Addrs]), [
    ["SetupNSFailed", ["10.0.0.10"]],
  ]);
  assert.ok(f.ip.host.isEmpty());
});

Deno.test("cmdAdd() removes what a stale sandbox of the same pod left before wiring", async () => {
  const f = createFakes();
  const first = await invoke(f, podEnv("ADD"), netconf());
  assert.equal(first.status, 0);
  f.ip.addNetns("/run/netns/second");
  const again = await invoke(
    f,
    podEnv("ADD", { CNI_CONTAINERID: "c2", CNI_NETNS: "/run/netns/second" }),
    netconf(),
  );
  assert.equal(again.status, 0, JSON.stringify(again.json));
  assert.equal(f.ip.host.links.size, 1, "the old host veth of web-0 was replaced");
  assert.ok(f.ip.namespaces.get(POD_NETNS)!.isEmpty(), "its pod end went with it");
});
