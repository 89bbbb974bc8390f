import assert from "node:assert/strict";
import type { IpCommand, IpRunner } from "../shared/ip_cmd.ts";
import type { IpSessions } from "./ip_session.ts";
import { LinkNotFoundError } from "../shared/ip_cmd.ts";
import { silentLogger } from "../shared/log.ts";
import { createFakes, POD_NETNS } from "../testing/plugin_deps.ts";
import { addressesFromInterfaces } from "./pod_addresses.ts";
import type { CniEnv } from "./env.ts";

/** An `IpRunner` that answers queries from a table keyed by "<netns or host>: <command>". */
function answering(table: Record<string, unknown>): IpRunner & IpSessions {
  return {
    open: () => {
      throw new Error("not used");
    },
    apply: () => Promise.reject(new Error("not used")),
    applyAll: () => Promise.reject(new Error("not used")),
    query: (commands: readonly IpCommand[], target = {}) => {
      const answers = commands.map((words) => table[`${target.netns ?? "host"}: ${words.join(" ")}`]);
      if (answers.some((a) => a instanceof Error)) {
        return Promise.reject(answers.find((a) => a instanceof Error));
      }
      return Promise.resolve(answers);
    },
  };
}

function ctx(ip: IpRunner & IpSessions) {
  const env = { netns: POD_NETNS, ifName: "eth0" } as CniEnv;
  return { env, deps: { ...createFakes().deps, ip }, log: silentLogger };
}

Deno.test("addressesFromInterfaces() reads the pod interface's /32 IPv4 addresses", async () => {
  const ip = answering({
    [`${POD_NETNS}: addr show dev eth0`]: [{
      ifname: "eth0",
      link_index: 7,
      addr_info: [{ family: "inet", local: "10.0.0.10", prefixlen: 32 }, {
        family: "inet6",
        local: "fe80::1",
        prefixlen: 64,
      }],
    }],
  });
  assert.deepEqual(await addressesFromInterfaces(ctx(ip)), ["10.0.0.10"]);
});

Deno.test("addressesFromInterfaces() falls back to the host peer's /32 routes when the pod side has no address", async () => {
  const ip = answering({
    [`${POD_NETNS}: addr show dev eth0`]: [{ ifname: "eth0", link_index: 7, addr_info: [] }],
    "host: link show": [{ ifindex: 6, ifname: "eniaaa" }, { ifindex: 7, ifname: "enibbb" }],
    "host: route show table main": [
      { dst: "10.0.0.9", dev: "eniaaa", scope: "link" },
      { dst: "10.0.0.11", dev: "enibbb", scope: "link" },
      { dst: "10.0.0.0/20", dev: "simeni0", scope: "link" },
    ],
  });
  assert.deepEqual(await addressesFromInterfaces(ctx(ip)), ["10.0.0.11"]);
});

Deno.test("addressesFromInterfaces() finds nothing when the pod interface or namespace is gone", async () => {
  const gone = answering({
    [`${POD_NETNS}: addr show dev eth0`]: new LinkNotFoundError("gone", { command: "", index: 0 }),
  });
  assert.deepEqual(await addressesFromInterfaces(ctx(gone)), []);
  const noNetns = { ...ctx(gone), env: { netns: "", ifName: "eth0" } as CniEnv };
  assert.deepEqual(await addressesFromInterfaces(noNetns), []);
});
