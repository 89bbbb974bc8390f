import assert from "node:assert/strict";
import { normalizeMac, parseAddrs, parseLinks, parseRoutes, parseRules } from "./ip_state.ts";

// Shapes as iproute2 6.x prints them with -j.
const ADDR_SHOW = [{
  ifindex: 3,
  ifname: "eth1",
  flags: ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"],
  mtu: 9001,
  address: "02:AA:bb:cc:dd:01",
  ifalias: "aws-cni-sim",
  addr_info: [
    { family: "inet", local: "10.0.1.5", prefixlen: 24, scope: "global", noprefixroute: true },
    { family: "inet", local: "10.0.1.6", prefixlen: 24, scope: "global", secondary: true },
    { family: "inet6", local: "fe80::1", prefixlen: 64, scope: "link" },
  ],
}];

Deno.test("parseLinks() reads name, lower-case MAC, MTU, up and alias", () => {
  assert.deepEqual(parseLinks(ADDR_SHOW), [
    { name: "eth1", mac: "02:aa:bb:cc:dd:01", mtu: 9001, up: true, alias: "aws-cni-sim" },
  ]);
  assert.deepEqual(parseLinks("not json"), []);
});

Deno.test("parseAddrs() keeps IPv4 addresses with their scope and secondary flag", () => {
  assert.deepEqual(parseAddrs(ADDR_SHOW), [
    { dev: "eth1", local: "10.0.1.5", prefixLength: 24, scope: "global", secondary: false },
    { dev: "eth1", local: "10.0.1.6", prefixLength: 24, scope: "global", secondary: true },
  ]);
});

Deno.test("parseRoutes() keeps IPv4 unicast routes and names the main table", () => {
  const json = [
    { dst: "default", gateway: "10.0.1.1", dev: "eth1", table: "2", flags: ["linkdown"] },
    { dst: "10.0.1.1", dev: "eth1", table: "2", scope: "link", flags: [] },
    { dst: "10.0.0.0/24", dev: "eth0", protocol: "kernel", scope: "link", prefsrc: "10.0.0.5", flags: [] },
    { type: "local", dst: "10.0.0.5", dev: "eth0", table: "local", scope: "host", flags: [] },
    { dst: "fe80::/64", dev: "eth0", protocol: "kernel", metric: 256, flags: [] },
  ];
  assert.deepEqual(parseRoutes(json), [
    { dst: "default", table: "2", dev: "eth1", gateway: "10.0.1.1" },
    { dst: "10.0.1.1", table: "2", dev: "eth1", scope: "link" },
    { dst: "10.0.0.0/24", table: "main", dev: "eth0", scope: "link" },
  ]);
});

Deno.test("parseRules() turns src/dst into CIDRs and fwmark into numbers", () => {
  const json = [
    { priority: 0, src: "all", table: "local" },
    { priority: 1024, src: "all", fwmark: "0x80", fwmask: "0x80", table: "main" },
    { priority: 1535, src: "all", dst: "192.0.2.0", dstlen: 24, table: "main" },
    { priority: 32765, src: "10.0.1.5", table: "2" },
    { priority: 32765, src: "10.0.1.0", srclen: 24, table: "3" },
  ];
  assert.deepEqual(parseRules(json), [
    { priority: 0, from: "all", to: "all", table: "local" },
    { priority: 1024, from: "all", to: "all", table: "main", fwmark: 0x80, fwmask: 0x80 },
    { priority: 1535, from: "all", to: "192.0.2.0/24", table: "main" },
    { priority: 32765, from: "10.0.1.5/32", to: "all", table: "2" },
    { priority: 32765, from: "10.0.1.0/24", to: "all", table: "3" },
  ]);
});

Deno.test("normalizeMac() lower-cases and refuses malformed MACs", () => {
  assert.equal(normalizeMac(" 02:AB:cd:EF:00:01 "), "02:ab:cd:ef:00:01");
  assert.throws(() => normalizeMac("02:ab:cd:ef:00"), SyntaxError);
  assert.throws(() => normalizeMac("02-ab-cd-ef-00-01"), SyntaxError);
});
