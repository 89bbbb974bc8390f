import assert from "node:assert/strict";
import {
  doomedName,
  hostRouteCommands,
  hostVethKey,
  hostVethName,
  pairSetupCommands,
  podAddressCommands,
  podLinkCommands,
  podTeardownCommands,
  type PodWiring,
  randomMac,
  routeTableFor,
} from "./pod_net.ts";

const WIRING: PodWiring = {
  hostVeth: "eni0123456789a",
  hostMac: "02:00:00:00:00:01",
  podMac: "02:00:00:00:00:02",
  ifName: "eth0",
  netns: "/var/run/netns/cni-1",
  podIp: "10.0.1.5",
  mtu: 9001,
  routeTable: 2,
};

Deno.test("hostVethName() is the prefix plus 11 hex digits of sha1(namespace.pod), as the reference", async () => {
  assert.equal(await hostVethName("eni", hostVethKey("default", "web-0", "c1")), "eni0d7763386da");
  assert.equal(hostVethKey("", "", "c1"), "c1", "no Kubernetes args: the container ID");
});

Deno.test("randomMac() is unicast and locally administered", () => {
  const mac = randomMac((bytes) => bytes.fill(0xff));
  assert.equal(mac, "fe:ff:ff:ff:ff:ff");
  assert.equal(randomMac((bytes) => bytes.fill(0)), "02:00:00:00:00:00");
});

Deno.test("routeTableFor() is main for the primary ENI and ipamd's table (or device + 1) otherwise", () => {
  assert.equal(routeTableFor(0, 254), 254);
  assert.equal(routeTableFor(2, 3), 3);
  assert.equal(routeTableFor(2, 0), 3);
  assert.equal(routeTableFor(1, 254), 2);
});

Deno.test("pairSetupCommands() creates the pair into the pod netns, needing no address", () => {
  assert.deepEqual(pairSetupCommands(WIRING).map((c) => c.join(" ")), [
    "link add name eni0123456789a address 02:00:00:00:00:01 mtu 9001 type veth " +
    "peer name eth0 address 02:00:00:00:00:02 mtu 9001 netns /var/run/netns/cni-1",
    "link set eni0123456789a up",
  ]);
  assert.ok(pairSetupCommands(WIRING).every((c) => !c.join(" ").includes(WIRING.podIp)));
});

Deno.test("hostRouteCommands() adds the host route and both rules", () => {
  assert.deepEqual(hostRouteCommands(WIRING).map((c) => c.join(" ")), [
    "route replace 10.0.1.5/32 dev eni0123456789a scope link",
    "rule add to 10.0.1.5/32 lookup main prio 512",
    "rule add from 10.0.1.5/32 lookup 2 prio 1536",
  ]);
  assert.equal(
    hostRouteCommands({ ...WIRING, routeTable: 254 }).length,
    2,
    "no from rule on the primary ENI",
  );
});

Deno.test("podLinkCommands() needs no address and ends with the neighbour, which ip -batch cannot continue after", () => {
  assert.deepEqual(podLinkCommands(WIRING).map((c) => c.join(" ")), [
    "link set eth0 up",
    "route add 169.254.1.1/32 dev eth0 scope link",
    "route add default via 169.254.1.1 dev eth0",
    "neigh replace 169.254.1.1 lladdr 02:00:00:00:00:01 dev eth0 nud permanent",
  ]);
  assert.deepEqual(podAddressCommands(WIRING).map((c) => c.join(" ")), ["addr add 10.0.1.5/32 dev eth0"]);
});

Deno.test("podTeardownCommands() renames the pod end to a fresh name, then deletes it by that name", () => {
  const doomed = doomedName((bytes) => bytes.set([0xde, 0xad, 0x0b, 0x01]));
  assert.equal(doomed, "gonedead0b01");
  assert.ok(doomed.length <= 15, "an interface name has at most 15 bytes");
  const { rename, remove } = podTeardownCommands("eth0", doomed);
  assert.deepEqual([...rename, ...remove].map((c) => c.join(" ")), [
    "link set eth0 name gonedead0b01",
    "link del gonedead0b01",
  ]);
});
