import assert from "node:assert/strict";
import { findAttachment, mergeResults, parseResult, renderResult } from "./result.ts";

const OURS = {
  interfaces: [
    { name: "eni123", mac: "02:00:00:00:00:01" },
    { name: "eth0", mac: "02:00:00:00:00:02", mtu: 9001, sandbox: "/run/netns/p" },
    { name: "aws-cni/route-table/3" },
  ],
  ips: [{ address: "10.0.1.5/32", gateway: "169.254.1.1", interface: 1 }],
  routes: [{ dst: "0.0.0.0/0", gw: "169.254.1.1" }],
};

Deno.test("renderResult() shapes a result for each version", () => {
  const v040 = renderResult(OURS, "0.4.0");
  assert.deepEqual((v040["ips"] as unknown[])[0], { version: "4", ...OURS.ips[0] });
  assert.equal((v040["interfaces"] as Record<string, unknown>[])[1]?.["mtu"], undefined);
  const v100 = renderResult(OURS, "1.0.0");
  assert.deepEqual(v100["ips"], OURS.ips);
  assert.equal((v100["interfaces"] as Record<string, unknown>[])[1]?.["mtu"], undefined);
  const v110 = renderResult(OURS, "1.1.0");
  assert.equal((v110["interfaces"] as Record<string, unknown>[])[1]?.["mtu"], 9001);
  assert.equal(v110["cniVersion"], "1.1.0");
});

Deno.test("mergeResults() appends ours after prevResult and shifts our interface indexes", () => {
  const prev = parseResult({ interfaces: [{ name: "x" }], ips: [{ version: "4", address: "1.2.3.4/32" }] });
  const merged = mergeResults(prev, OURS);
  assert.equal(merged.interfaces.length, 4);
  assert.deepEqual(merged.ips.map((ip) => ip.interface), [undefined, 2]);
  assert.deepEqual(findAttachment(merged, "eth0").podIps, ["10.0.1.5"]);
});

Deno.test("findAttachment() reads the table entry, or the reference's table-in-mac form", () => {
  const ours = findAttachment(OURS, "eth0");
  assert.equal(ours.routeTable, 3);
  assert.equal(ours.hostVeth?.name, "eni123");
  const reference = parseResult({
    interfaces: [{ name: "eniabc" }, { name: "eth0", sandbox: "/p", mac: "2" }, {
      name: "dummyabc",
      mac: "0",
    }],
    ips: [{ version: "4", address: "10.0.1.9/32", interface: 1 }],
  });
  assert.deepEqual(findAttachment(reference, "eth0").routeTable, 2);
  assert.deepEqual(findAttachment(reference, "eth1").podIps, []);
});

Deno.test("parseResult() names the bad field", () => {
  assert.throws(() => parseResult({ interfaces: [{ mac: "x" }] }), /interfaces\[0\]\.name must be a string/);
  assert.throws(
    () => parseResult({ ips: [{ address: "1.2.3.4/32", interface: 1.5 }] }),
    /ips\[0\]\.interface/,
  );
  assert.throws(() => parseResult([]), /must be an object/);
  for (const address of ["x".repeat(100), "10.0.0.1", "10.0.0.1/32 ", "-n/32"]) {
    assert.throws(
      () => parseResult({ ips: [{ address }] }),
      /ips\[0\]\.address must be an address with a prefix/,
    );
  }
  assert.equal(parseResult({ ips: [{ address: "fd00::1/128" }] }).ips[0]?.address, "fd00::1/128");
});
