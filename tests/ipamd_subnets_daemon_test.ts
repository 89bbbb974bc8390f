/**
 * Custom networking, subnet discovery and security groups that follow the
 * node: `dist/aws-cni --daemon` on a test node against the simulated cloud of
 * a t3.small (3 ENIs of 4 IPv4 addresses), with several subnets in two zones,
 * some tagged kubernetes.io/role/cni. The pool is read from `/v1/pool`, the
 * account from the cloud's control channel, addresses from the RPC replies.
 */
import assert from "node:assert/strict";
import { IpamdClient } from "../cni/rpc/client.ts";
import { cidrContains, parseCidr, parseIpv4 } from "../shared/mod.ts";
import { subnetIdOf } from "../sim/cloud/mod.ts";
import type { CloudState } from "../sim/cloud/protocol.ts";
import { addRequest } from "../testing/ipamd_requests.ts";
import { nodesReady, startNode, type TestNode } from "../testing/node.ts";

const ready = await nodesReady();

async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
) {
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < until) {
    last = await read();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Timed out waiting for ${what}; last saw ${JSON.stringify(last)}`);
}

/** Adds `count` pods; returns their addresses. */
async function addPods(node: TestNode, first: number, count: number): Promise<string[]> {
  const client = new IpamdClient(node.outside(node.paths.socket));
  try {
    const ips: string[] = [];
    for (let i = first; i < first + count; i++) {
      const reply = await client.addNetwork(addRequest(`pod-${i}`), { deadlineMs: 20_000 });
      assert.equal(reply.success, true, `pod ${i}`);
      ips.push(reply.ipAllocations[0]!.ipv4Addr);
    }
    return ips;
  } finally {
    await client.close();
  }
}

const inCidr = (cidr: string, ip: string) => cidrContains(parseCidr(cidr), parseIpv4(ip));
const secondaryEnis = (state: CloudState) =>
  state.enis.filter((eni) =>
    eni.attachment?.instanceId === state.instanceId && eni.attachment.deviceIndex > 0
  );

const POD_SUBNET_A = subnetIdOf(1);
const POD_SUBNET_B = subnetIdOf(2);
/** The node's subnet (us-west-2a), a pod subnet in its zone and one in us-west-2b. */
const TWO_ZONES = ["10.0.0.0/24", "10.0.64.0/20", "10.0.128.0/20,zone=us-west-2b"];

Deno.test(
  "custom networking: pods get addresses of the zone's pod subnet only, ENIs the configured groups, max pods (ENIs - 1) x (IPs per ENI - 1) + 2",
  {
    ignore: !ready,
  },
  async () => {
    await using node = await startNode({
      label: "custom",
      cloud: { subnetCidrs: TWO_ZONES },
      env: {
        AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true",
        ENI_CONFIG_SUBNETS: `us-west-2a=${POD_SUBNET_A},us-west-2b=${POD_SUBNET_B}`,
        ENI_CONFIG_SECURITY_GROUPS: "sg-0b0d1,sg-0b0d2",
      },
    });
    const ips = await addPods(node, 0, 6);
    for (const ip of ips) assert.ok(inCidr("10.0.64.0/20", ip), `${ip} lies in the pod subnet`);
    const report = await node.pool();
    assert.equal(report.limits.maxPods, (3 - 1) * (4 - 1) + 2);
    const primary = report.enis.find((eni) => eni.primary)!;
    assert.deepEqual(primary.cidrs, [], "the primary ENI carries no pod address");
    assert.equal(report.pool.assigned, 6);
    const state = await node.cloud!.control.state();
    const enis = secondaryEnis(state);
    assert.equal(enis.length, 2);
    for (const eni of enis) {
      assert.equal(eni.subnetId, POD_SUBNET_A);
      assert.deepEqual(eni.groups, ["sg-0b0d1", "sg-0b0d2"]);
    }
    const [primaryEni] = state.enis.filter((eni) => eni.attachment?.deviceIndex === 0);
    assert.deepEqual(
      primaryEni!.secondaryIps,
      [],
      "EC2 holds no secondary address on the primary ENI either",
    );
    assert.equal((await node.daemon.stop()).code, 0);
  },
);

Deno.test(
  "custom networking refuses to start, in one line, without a subnet for the node's zone or with one in another zone",
  {
    ignore: !ready,
  },
  async () => {
    await using node = await startNode({
      label: "custom-bad",
      cloud: { subnetCidrs: TWO_ZONES },
      start: false,
    });
    const cases: [string, string][] = [
      [`us-west-2b=${POD_SUBNET_B}`, "ENI_CONFIG_SUBNETS has no subnet for the node's zone us-west-2a"],
      [POD_SUBNET_B, `ENI_CONFIG_SUBNETS names ${POD_SUBNET_B} in vpc-`],
    ];
    for (const [subnets, expected] of cases) {
      node.daemon.spawn({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true", ENI_CONFIG_SUBNETS: subnets });
      const exit = await node.daemon.exit();
      assert.equal(exit.code, 1);
      const lines = exit.stderr.trim().split("\n");
      assert.equal(lines.length, 1, exit.stderr);
      assert.ok(lines[0]!.startsWith(`aws-cni --daemon: ${expected}`), lines[0]!);
    }
    assert.match(
      (await node.readFile(node.paths.log))!,
      /us-west-2b, not the node's vpc-[0-9a-f]+ us-west-2a/,
    );
  },
);

/** The node's /27, two tagged pod subnets, one tagged =0 and one untagged (both bigger than any other). */
const DISCOVERY = [
  "10.0.0.0/27",
  "10.0.1.0/25,tag=kubernetes.io/role/cni=1",
  "10.0.2.0/26,tag=kubernetes.io/role/cni=1",
  "10.0.16.0/20,tag=kubernetes.io/role/cni=0",
  "10.0.32.0/20",
];

Deno.test(
  "subnet discovery: a new ENI goes to the tagged subnet with the most free addresses, never to one tagged =0",
  {
    ignore: !ready,
  },
  async () => {
    // Subnet-aware targets off: the spare ENI's worth is what makes the pool create ENIs here.
    const env = { POOL_SUBNET_AWARE: "false" };
    await using node = await startNode({ label: "discover", cloud: { subnetCidrs: DISCOVERY }, env });
    const control = node.cloud!.control;
    await addPods(node, 0, 1); // 2 free < 3: a second ENI
    let state = await waitFor(
      "a second ENI",
      () => control.state(),
      (s) => secondaryEnis(s).length === 1,
      20_000,
    );
    assert.equal(secondaryEnis(state)[0]!.subnetId, subnetIdOf(1), "the /25 has the most free addresses");
    // Other nodes take 100 addresses of the /25 (19 left): the /26 (59) has the most free addresses now.
    for (let i = 0; i < 2; i++) {
      await control.createEni({ subnetId: subnetIdOf(1), secondaryIps: 49 });
    }
    await addPods(node, 1, 3);
    state = await waitFor("a third ENI", () => control.state(), (s) => secondaryEnis(s).length === 2, 20_000);
    assert.deepEqual(secondaryEnis(state).map((eni) => eni.subnetId), [subnetIdOf(1), subnetIdOf(2)]);
    // status shows each ENI's subnet once ipamd has the new ENI (it waits for IMDS after the attach).
    const report = await waitFor(
      "three ENIs in status",
      () => node.pool(),
      (r) => r.enis.length === 3,
      20_000,
    );
    assert.deepEqual(report.enis.map((eni) => eni.subnetId), [subnetIdOf(0), subnetIdOf(1), subnetIdOf(2)]);
    assert.match(
      (await node.readFile(node.paths.log))!,
      new RegExp(`"subnet for a new ENI".*"${subnetIdOf(2)}"`),
    );
  },
);

Deno.test(
  "subnet discovery falls back to the primary subnet when it has the most free addresses of those allowed",
  {
    ignore: !ready,
  },
  async () => {
    await using node = await startNode({
      label: "fallback",
      cloud: { subnetCidrs: DISCOVERY },
      start: false,
    });
    const control = node.cloud!.control;
    // Other nodes leave the /25 12 free addresses and the /26 9; the node's /27 has 23 when ipamd looks.
    for (const count of [49, 49, 10]) {
      await control.createEni({ subnetId: subnetIdOf(1), secondaryIps: count });
    }
    await control.createEni({ subnetId: subnetIdOf(2), secondaryIps: 49 });
    await node.daemon.start({ POOL_SUBNET_AWARE: "false" });
    await addPods(node, 0, 1);
    const state = await waitFor(
      "a second ENI",
      () => control.state(),
      (s) => secondaryEnis(s).length === 1,
      20_000,
    );
    assert.equal(secondaryEnis(state)[0]!.subnetId, subnetIdOf(0));
  },
);

Deno.test("a change of the primary ENI's security groups reaches the ENIs ipamd manages", {
  ignore: !ready,
}, async () => {
  await using node = await startNode({ label: "groups" });
  const control = node.cloud!.control;
  await addPods(node, 0, 1);
  await waitFor("a second ENI", () => control.state(), (s) => secondaryEnis(s).length === 1, 20_000);
  await control.setGroups({ groups: ["sg-0c0ffee1", "sg-0c0ffee2"] });
  // ipamd re-reads the groups every 30 s, as the reference does.
  const state = await waitFor(
    "the managed ENI's groups",
    () => control.state(),
    (s) => secondaryEnis(s)[0]!.groups.join() === "sg-0c0ffee1,sg-0c0ffee2",
    45_000,
  );
  assert.equal(secondaryEnis(state).length, 1);
  // A new ENI gets the new groups too.
  await addPods(node, 1, 3);
  const later = await waitFor(
    "a third ENI",
    () => control.state(),
    (s) => secondaryEnis(s).length === 2,
    20_000,
  );
  assert.deepEqual(secondaryEnis(later)[1]!.groups, ["sg-0c0ffee1", "sg-0c0ffee2"]);
});

Deno.test(
  "subnet-aware targets: as other nodes take the subnet, the spare addresses shrink, shown in status and metrics, and come back as it frees",
  {
    ignore: !ready,
  },
  async () => {
    await using node = await startNode({
      label: "aware",
      cloud: { subnetCidrs: ["10.0.0.0/24"] },
      start: false,
    });
    const control = node.cloud!.control;
    // Other nodes leave 83 free addresses: 64 kept for waiting pods, 1/16 of the other 19 is 1 spare address.
    const others: string[] = [];
    for (const count of [49, 49, 49, 16]) others.push(await control.createEni({ secondaryIps: count }));
    await node.daemon.start({ ENABLE_SUBNET_DISCOVERY: "false" });
    const report = await waitFor("one spare address", () => node.pool(), (r) => r.pool.total === 1, 45_000);
    assert.equal(report.next.subnetSpare, 1);
    assert.match(await node.metrics(), /^awscni_subnet_spare_ip_target 1$/m);
    const status = await node.status();
    assert.match(status.stdout, /the subnets run low: spare addresses cut to 1 \(POOL_SUBNET_AWARE\)/);
    // A pod that comes still gets an address.
    const [ip] = await addPods(node, 0, 1);
    assert.ok(inCidr("10.0.0.0/24", ip!));
    // The other nodes go: a whole ENI's worth is spare again, [3, 3] as the seed table's one pod
    // (ipamd reads the subnets every minute).
    for (const eniId of others) await control.deleteEni(eniId);
    await waitFor(
      "the warm target back",
      () => node.pool(),
      (r) => r.next.subnetSpare === null && r.pool.total === 6,
      180_000,
    );
    // The metric shows the last pass's plan: the pass after the one that grew the pool.
    await waitFor(
      "the metric",
      () => node.metrics(),
      (m) => /^awscni_subnet_spare_ip_target -1$/m.test(m),
      30_000,
    );
  },
);
