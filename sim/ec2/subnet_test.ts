import assert from "node:assert/strict";
import { formatIpv4, parseCidr, parseIpv4 } from "../../shared/ipv4.ts";
import { SubnetAddressPool } from "./subnet.ts";

function pool(cidr: string): SubnetAddressPool {
  return new SubnetAddressPool(parseCidr(cidr));
}

Deno.test("SubnetAddressPool skips the first four addresses and the last", () => {
  const subnet = pool("10.0.2.0/28");
  assert.equal(subnet.availableCount, 11);
  assert.deepEqual(subnet.takeAddresses(11)?.map(formatIpv4), [
    "10.0.2.4",
    "10.0.2.5",
    "10.0.2.6",
    "10.0.2.7",
    "10.0.2.8",
    "10.0.2.9",
    "10.0.2.10",
    "10.0.2.11",
    "10.0.2.12",
    "10.0.2.13",
    "10.0.2.14",
  ]);
  assert.equal(subnet.takeAddresses(1), null);
  assert.equal(subnet.checkAddress(parseIpv4("10.0.2.15")), "reserved");
  assert.equal(subnet.checkAddress(parseIpv4("10.0.2.3")), "reserved");
  assert.equal(subnet.checkAddress(parseIpv4("10.0.3.1")), "outside");
});

Deno.test("SubnetAddressPool.takeAddresses() hands out the lowest free addresses, reusing released ones", () => {
  const subnet = pool("10.0.1.0/24");
  const [first, second] = subnet.takeAddresses(3) ?? [];
  subnet.releaseAddress(second!);
  subnet.releaseAddress(first!);
  assert.deepEqual(subnet.takeAddresses(3)?.map(formatIpv4), ["10.0.1.4", "10.0.1.5", "10.0.1.7"]);
  assert.equal(subnet.availableCount, 256 - 5 - 4);
});

Deno.test("SubnetAddressPool.takeAddresses() takes nothing when there are too few", () => {
  const subnet = pool("10.0.2.0/28");
  assert.equal(subnet.takeAddresses(12), null);
  assert.equal(subnet.availableCount, 11);
});

Deno.test("SubnetAddressPool.takePrefixes() takes aligned free /28s, never ones with reserved addresses", () => {
  const subnet = pool("10.0.1.0/26");
  assert.deepEqual(subnet.takePrefixes(2)?.map(formatIpv4), ["10.0.1.16", "10.0.1.32"]);
  assert.equal(subnet.takePrefixes(1), null, "the first and last blocks hold reserved addresses");
  assert.equal(subnet.availableCount, 64 - 5 - 32);
});

Deno.test("SubnetAddressPool.takePrefixes() fails on fragmentation although single addresses remain", () => {
  const subnet = pool("10.0.1.0/26");
  subnet.takeAddress(parseIpv4("10.0.1.20"));
  subnet.takeAddress(parseIpv4("10.0.1.40"));
  assert.equal(subnet.takePrefixes(1), null);
  assert.ok(subnet.availableCount > 16);
  subnet.releaseAddress(parseIpv4("10.0.1.40"));
  assert.deepEqual(subnet.takePrefixes(1)?.map(formatIpv4), ["10.0.1.32"]);
});

Deno.test("SubnetAddressPool refuses subnets EC2 does not allow", () => {
  assert.throws(() => pool("10.0.0.0/29"), RangeError);
  assert.throws(() => pool("10.0.0.0/15"), RangeError);
});
