/**
 * ipamd's host setup in a real "node" namespace (root only). `HostNetwork` runs
 * in a child Deno process under `ip netns exec`, exactly as in the daemon's own
 * namespace; the test reads the result back with `ip -j` and `iptables-save` in
 * that namespace. ENIs are links as the simulated cloud plugs them (sim/cloud's
 * `VethLinks`: veths with the ENIs' MACs whose peers sit in a "VPC" namespace).
 * Nothing outside the namespaces the test creates is touched.
 */
import assert from "node:assert/strict";
import { driveInNetns, type DriverOptions, type DriverStep, mustDrive } from "../testing/netns_driver.ts";
import { type EniLink, VethLinks } from "../sim/cloud/mod.ts";
import type { HostSetup } from "../ipamd/node/host/types.ts";
import { canCreateNetns, createNetns, type Netns, run } from "../testing/netns.ts";

async function installed(program: string): Promise<boolean> {
  try {
    return (await run(program, ["--version"])).code === 0;
  } catch {
    return false;
  }
}

const netnsOk = await canCreateNetns();
const iptablesOk = await installed("iptables-save") && await installed("iptables-restore");
if (!netnsOk) {
  // deno-lint-ignore no-console
  console.warn("host_net_netns_test: skipped (needs root and `ip netns add`)");
} else if (!iptablesOk) {
  // deno-lint-ignore no-console
  console.warn("host_net_netns_test: skipped (iptables-save / iptables-restore are not installed)");
}
/** iptables flavours to run the iptables tests with: the system's, and legacy when it works too. */
const BACKENDS: { name: string; save: string; restore: string }[] = [
  { name: "iptables", save: "iptables-save", restore: "iptables-restore" },
  ...(await installed("iptables-legacy-save")
    ? [{ name: "iptables-legacy", save: "iptables-legacy-save", restore: "iptables-legacy-restore" }]
    : []),
];
const ready = netnsOk && iptablesOk;
const netnsTest = (name: string, fn: () => Promise<void>): void =>
  Deno.test({ name, ignore: !ready, sanitizeResources: true, fn });

const PRIMARY_MAC = "02:00:00:00:00:10";
const ENI1 = { mac: "02:00:00:00:01:11", primaryIp: "10.0.0.6", subnetCidr: "10.0.0.0/24", deviceNumber: 1 };
const ENI2 = { mac: "02:00:00:00:02:12", primaryIp: "10.0.0.7", subnetCidr: "10.0.0.0/24", deviceNumber: 2 };
const HOST: HostSetup = {
  primaryIf: "eth0",
  primaryIp: "10.0.0.5",
  vpcCidrs: ["10.0.0.0/16"],
  excludeSnatCidrs: ["192.168.0.0/16"],
  externalSnat: false,
  randomizeSnat: "prng",
  nodePortSupport: true,
  connmark: 0x80,
  vethPrefix: "eni",
  eniMtu: 9001,
};
const LINKS: EniLink[] = [
  { mac: PRIMARY_MAC, deviceIndex: 0, address: "10.0.0.5/24" },
  { mac: ENI1.mac, deviceIndex: 1 },
  { mac: ENI2.mac, deviceIndex: 2 },
];
const SETUP: DriverStep[] = [
  { op: "setupHost", host: HOST },
  { op: "setupEni", eni: ENI1 },
  { op: "setupEni", eni: ENI2 },
];

const NAT = [
  ":AWS-CONNMARK-CHAIN-0 - [0:0]",
  ":AWS-SNAT-CHAIN-0 - [0:0]",
  '-A PREROUTING -i eni+ -m comment --comment "AWS, outbound connections" -j AWS-CONNMARK-CHAIN-0',
  '-A PREROUTING -m comment --comment "AWS, CONNMARK" -j CONNMARK --restore-mark --nfmask 0x80 --ctmask 0x80',
  '-A POSTROUTING -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-0',
  '-A AWS-CONNMARK-CHAIN-0 -d 10.0.0.0/16 -m comment --comment "AWS CONNMARK CHAIN, VPC CIDR" -j RETURN',
  '-A AWS-CONNMARK-CHAIN-0 -d 192.168.0.0/16 -m comment --comment "AWS CONNMARK CHAIN, EXCLUDED CIDR" -j RETURN',
  '-A AWS-CONNMARK-CHAIN-0 -m comment --comment "AWS, CONNMARK" -j CONNMARK --set-xmark 0x80/0x80',
  '-A AWS-SNAT-CHAIN-0 -d 10.0.0.0/16 -m comment --comment "AWS SNAT CHAIN" -j RETURN',
  '-A AWS-SNAT-CHAIN-0 -d 192.168.0.0/16 -m comment --comment "AWS SNAT CHAIN EXCLUSION" -j RETURN',
  '-A AWS-SNAT-CHAIN-0 ! -o vlan+ -m comment --comment "AWS, SNAT" -m addrtype ! --dst-type LOCAL ' +
  "-j SNAT --to-source 10.0.0.5 --random-fully",
];
const MANGLE = [
  '-A PREROUTING -i eth0 -m comment --comment "AWS, primary ENI" -m addrtype --dst-type LOCAL --limit-iface-in ' +
  "-j CONNMARK --set-xmark 0x80/0x80",
  '-A PREROUTING -i eni+ -m comment --comment "AWS, primary ENI" -j CONNMARK --restore-mark --nfmask 0x80 --ctmask 0x80',
];

/** Our chain and rule lines of one table in the namespace. */
async function awsLines(node: Netns, table: string, save = "iptables-save"): Promise<string[]> {
  const result = await node.exec(save, ["-t", table]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.split("\n").filter((l) =>
    (l.startsWith("-A ") || l.startsWith(":")) && l.includes("AWS")
  );
}

/** Every rule as `prio: selector -> table`, sorted. */
async function rules(node: Netns): Promise<string[]> {
  return (await node.ipJson("rule", "show")).map((r) => {
    const from = r["srclen"] === undefined ? r["src"] : `${r["src"]}/${r["srclen"]}`;
    const to = r["dst"] === undefined ? "" : ` to ${r["dst"]}/${r["dstlen"] ?? 32}`;
    const mark = r["fwmark"] === undefined ? "" : ` fwmark ${r["fwmark"]}/${r["fwmask"]}`;
    return `${r["priority"]}: from ${from}${to}${mark} -> ${r["table"]}`;
  }).sort();
}

/** IPv4 routes of one table (or all but local) as short strings. */
async function routes(node: Netns, table: string): Promise<string[]> {
  return (await node.ipJson("-4", "route", "show", "table", table))
    .filter((r) => r["table"] !== "local")
    .map((r) => {
      const parts = [r["dst"], r["gateway"] ? `via ${r["gateway"]}` : "", `dev ${r["dev"]}`];
      if (r["scope"]) parts.push(`scope ${r["scope"]}`);
      if (table === "all") parts.push(`table ${r["table"] ?? "main"}`);
      return parts.filter((p) => p !== "").join(" ");
    }).sort();
}

/** Everything host setup may change, for before/after comparisons. */
async function snapshot(node: Netns, save = "iptables-save"): Promise<Record<string, string[]>> {
  return {
    rules: await rules(node),
    routes: await routes(node, "all"),
    addrs: (await node.ipJson("-4", "addr", "show")).map((l) =>
      JSON.stringify([l["ifname"], l["mtu"], l["addr_info"]])
    ),
    nat: await awsLines(node, "nat", save),
    mangle: await awsLines(node, "mangle", save),
  };
}

const DEFAULT_RULES = ["0: from all -> local", "32766: from all -> main", "32767: from all -> default"];

/** A node namespace and the ENI links plugged into it, with their VPC side; disposing removes all. */
interface EniNode extends AsyncDisposable {
  readonly node: Netns;
  readonly links: VethLinks;
  /** Plugs `links` in order; returns their names. */
  plug(...links: EniLink[]): Promise<string[]>;
}

async function enisNode(): Promise<EniNode> {
  const stack = new AsyncDisposableStack();
  try {
    const node = stack.use(await createNetns("hostnet"));
    const vpc = stack.use(await createNetns("vpc"));
    const links = await VethLinks.open({
      vpcNetns: vpc.path,
      nodeNetns: node.path,
      routers: ["10.0.0.1/24"],
    });
    stack.defer(() => links.close());
    const moved = stack.move();
    return {
      node,
      links,
      async plug(...wanted) {
        const names: string[] = [];
        for (const link of wanted) names.push(await links.plug(link));
        return names;
      },
      [Symbol.asyncDispose]: () => moved.disposeAsync(),
    };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}

netnsTest(
  "setupHost() and setupEni() configure a node namespace exactly, and again changes nothing",
  async () => {
    await using t = await enisNode();
    const { node } = t;
    assert.deepEqual(await t.plug(...LINKS), ["eth0", "eth1", "eth2"]);
    await mustDrive(node.name, SETUP);

    assert.deepEqual(
      await rules(node),
      [
        ...DEFAULT_RULES,
        "1024: from all fwmark 0x80/0x80 -> main",
        "32765: from 10.0.0.6 -> 2",
        "32765: from 10.0.0.7 -> 3",
      ].sort(),
    );
    assert.deepEqual(await routes(node, "2"), [
      "10.0.0.1 dev eth1 scope link",
      "default via 10.0.0.1 dev eth1",
    ]);
    assert.deepEqual(await routes(node, "3"), [
      "10.0.0.1 dev eth2 scope link",
      "default via 10.0.0.1 dev eth2",
    ]);
    assert.deepEqual(
      await routes(node, "main"),
      ["10.0.0.0/24 dev eth0 scope link"],
      "no subnet route on eth1/eth2",
    );
    for (const [name, address] of [["eth1", "10.0.0.6"], ["eth2", "10.0.0.7"]] as const) {
      const [link] = await node.ipJson("addr", "show", "dev", name);
      assert.equal(link?.["mtu"], 9001);
      assert.ok((link?.["flags"] as string[]).includes("UP"));
      const inet = (link?.["addr_info"] as Record<string, unknown>[]).filter((a) => a["family"] === "inet");
      assert.deepEqual(inet.map((a) => `${a["local"]}/${a["prefixlen"]}`), [`${address}/24`]);
    }
    const [eth0] = await node.ipJson("link", "show", "dev", "eth0");
    assert.equal(eth0?.["mtu"], 9001);
    assert.equal((await node.exec("cat", ["/proc/sys/net/ipv4/conf/eth0/rp_filter"])).stdout.trim(), "2");
    assert.deepEqual(await awsLines(node, "nat"), NAT);
    assert.deepEqual(await awsLines(node, "mangle"), MANGLE);

    const before = await snapshot(node);
    assert.deepEqual(await t.plug(...LINKS), ["eth0", "eth1", "eth2"], "plugged already");
    const again = await mustDrive(node.name, SETUP);
    assert.deepEqual(again.logs, [], "nothing to change on the second run");
    assert.deepEqual(await snapshot(node), before);
  },
);

netnsTest(
  "teardownEni() removes exactly what setupEni() added; syncEnis() removes ENIs no longer listed",
  async () => {
    await using t = await enisNode();
    const { node } = t;
    await t.plug(...LINKS.slice(0, 2));
    await mustDrive(node.name, [{ op: "setupHost", host: HOST }, { op: "setupEni", eni: ENI1 }]);
    const before = await snapshot(node);
    await t.plug(LINKS[2]!);
    await mustDrive(node.name, [{ op: "setupEni", eni: ENI2 }]);
    assert.ok((await rules(node)).includes("32765: from 10.0.0.7 -> 3"));
    const { logs } = await mustDrive(node.name, [
      { op: "teardownEni", eni: { deviceNumber: 2, primaryIp: ENI2.primaryIp } },
      { op: "teardownEni", eni: { deviceNumber: 2, primaryIp: ENI2.primaryIp } },
    ]);
    await t.links.unplug(ENI2.mac);
    await t.links.unplug(ENI2.mac);
    assert.equal(
      logs.filter((l) => l["msg"] === "ENI network removed").length,
      1,
      "the second teardown is a no-op",
    );
    const after = await snapshot(node);
    assert.deepEqual(after.rules, before.rules);
    assert.deepEqual(after.routes, before.routes);
    assert.deepEqual(after.addrs, before.addrs);
    assert.deepEqual(await node.ipJson("link", "show", "dev", "eth1").then((l) => l.length), 1);
    assert.equal((await node.exec("ip", ["link", "show", "dev", "eth2"])).code, 1, "the ENI's link is gone");

    // syncEnis: ENI2 comes back, then the list drops it.
    await t.plug(LINKS[2]!);
    await mustDrive(node.name, [{ op: "syncEnis", enis: [{ ...ENI1, deviceNumber: 1 }, ENI2] }]);
    assert.deepEqual(await routes(node, "3"), [
      "10.0.0.1 dev eth2 scope link",
      "default via 10.0.0.1 dev eth2",
    ]);
    const sync = await mustDrive(node.name, [{
      op: "syncEnis",
      enis: [{ mac: PRIMARY_MAC, primaryIp: "10.0.0.5", subnetCidr: "10.0.0.0/24", deviceNumber: 0 }, ENI1],
    }]);
    assert.deepEqual(sync.values, [[]]);
    assert.deepEqual((await snapshot(node)).rules, before.rules);
    assert.deepEqual(await routes(node, "3"), []);
  },
);

netnsTest("ENI links remove only links they made, and refuse a name another link has", async () => {
  await using t = await enisNode();
  const { node } = t;
  await node.ip("link add real0 address 02:00:00:00:09:09 type bridge", "link add eth3 type bridge");
  await t.links.unplug("02:00:00:00:09:09");
  assert.equal((await node.ipJson("link", "show", "dev", "real0")).length, 1, "not ours: kept");
  await assert.rejects(t.plug({ mac: "02:00:00:00:09:0a", deviceIndex: 3 }), /EntryExistsError|File exists/);
  assert.deepEqual(t.links.plugged(), []);
  assert.equal((await node.ipJson("link", "show", "dev", "eth3")).length, 1);
});

netnsTest("setupEni() waits for an ENI link that appears late, and fails when it never does", async () => {
  await using node = await createNetns("hostnet");
  const options: DriverOptions = { linkAttempts: 30, linkRetryMs: 100 };
  const pending = mustDrive(node.name, [{ op: "setupEni", eni: ENI1 }], options);
  await new Promise((resolve) => setTimeout(resolve, 700));
  await node.ip(`link add eth1 address ${ENI1.mac} type bridge`);
  await pending;
  assert.deepEqual(await routes(node, "2"), [
    "10.0.0.1 dev eth1 scope link",
    "default via 10.0.0.1 dev eth1",
  ]);
  const missing = await driveInNetns(node.name, [{ op: "setupEni", eni: ENI2 }], {
    linkAttempts: 2,
    linkRetryMs: 50,
  });
  assert.match(
    missing.results[0]?.ok === false ? missing.results[0].error : "",
    /LinkNotFoundError.*02:00:00:00:02:12/,
  );
});

for (const backend of BACKENDS) {
  const options: DriverOptions = { iptablesSave: backend.save, iptablesRestore: backend.restore };
  netnsTest(
    `setupHost() honours external SNAT, node ports and exclude CIDRs, and cleans up old rules (${backend.name})`,
    async () => {
      await using t = await enisNode();
      const { node } = t;
      await t.plug(LINKS[0]!);
      // What the reference's aws-node leaves behind (one chain per CIDR), next to a rule of someone else.
      const seed = [
        "*nat",
        ":AWS-SNAT-CHAIN-0 - [0:0]",
        ":AWS-SNAT-CHAIN-1 - [0:0]",
        ":KUBE-POSTROUTING - [0:0]",
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        '-A POSTROUTING -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-0',
        '-A AWS-SNAT-CHAIN-0 ! -d 10.0.0.0/16 -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-1',
        '-A AWS-SNAT-CHAIN-1 ! -o vlan+ -m comment --comment "AWS, SNAT" -j SNAT --to-source 10.0.0.5 --random',
        "-A KUBE-POSTROUTING -j RETURN",
        "COMMIT",
        "",
      ].join("\n");
      const seeded = await node.exec(backend.restore, ["--noflush"], { stdin: seed });
      assert.equal(seeded.code, 0, seeded.stderr);

      const lines = (table: string) => awsLines(node, table, backend.save);
      const apply = (host: Partial<HostSetup>) =>
        mustDrive(node.name, [{ op: "setupHost", host: { ...HOST, ...host } }], options);

      await apply({ excludeSnatCidrs: ["192.168.0.0/16", "172.16.0.0/12"] });
      const wide = [
        ...NAT.slice(0, 6),
        '-A AWS-CONNMARK-CHAIN-0 -d 192.168.0.0/16 -m comment --comment "AWS CONNMARK CHAIN, EXCLUDED CIDR" -j RETURN',
        '-A AWS-CONNMARK-CHAIN-0 -d 172.16.0.0/12 -m comment --comment "AWS CONNMARK CHAIN, EXCLUDED CIDR" -j RETURN',
        NAT[7]!,
        NAT[8]!,
        '-A AWS-SNAT-CHAIN-0 -d 192.168.0.0/16 -m comment --comment "AWS SNAT CHAIN EXCLUSION" -j RETURN',
        '-A AWS-SNAT-CHAIN-0 -d 172.16.0.0/12 -m comment --comment "AWS SNAT CHAIN EXCLUSION" -j RETURN',
        NAT[10]!,
      ];
      assert.deepEqual(await lines("nat"), wide);
      const save = (await node.exec(backend.save, ["-t", "nat"])).stdout;
      assert.match(
        save,
        /-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING/,
      );
      assert.match(save, /-A KUBE-POSTROUTING -j RETURN/);

      await apply({});
      assert.deepEqual(await lines("nat"), NAT);
      assert.deepEqual(await lines("mangle"), MANGLE);

      await apply({ externalSnat: true });
      assert.deepEqual(await lines("nat"), []);
      assert.deepEqual(await lines("mangle"), MANGLE);
      assert.ok((await rules(node)).includes("1024: from all fwmark 0x80/0x80 -> main"));

      await apply({ externalSnat: true, nodePortSupport: false });
      assert.deepEqual(await lines("mangle"), []);
      assert.deepEqual(await rules(node), DEFAULT_RULES.slice().sort());

      await apply({ randomizeSnat: "hashrandom", connmark: 0x4000, vethPrefix: "pod" });
      const nat = await lines("nat");
      assert.ok(
        nat.includes(
          '-A PREROUTING -i pod+ -m comment --comment "AWS, outbound connections" -j AWS-CONNMARK-CHAIN-0',
        ),
      );
      assert.ok(nat.at(-1)!.endsWith("-j SNAT --to-source 10.0.0.5 --random"), nat.at(-1) ?? "");
      assert.ok((await rules(node)).includes("1024: from all fwmark 0x4000/0x4000 -> main"));

      await apply({});
      assert.deepEqual(await lines("nat"), NAT);
      assert.deepEqual(await lines("mangle"), MANGLE);
      const quiet = await mustDrive(node.name, [{ op: "setupHost", host: HOST }], options);
      assert.deepEqual(quiet.logs, []);
      assert.match((await node.exec(backend.save, ["-t", "nat"])).stdout, /KUBE-POSTROUTING -j RETURN/);
    },
  );
}
