import assert from "node:assert/strict";
import { CniError } from "../shared/errors.ts";
import { configVersion, decodeConfig, resolveNetConf } from "./netconf.ts";

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);

function codeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof CniError, String(error));
    return error.code;
  }
  throw new Error("expected a CniError");
}

Deno.test("resolveNetConf() applies the defaults", () => {
  const conf = resolveNetConf({ cniVersion: "1.0.0", name: "aws-cni", type: "aws-cni" }, "1.0.0");
  assert.deepEqual(conf, {
    cniVersion: "1.0.0",
    name: "aws-cni",
    type: "aws-cni",
    mtu: 9001,
    vethPrefix: "eni",
    ipamdSocket: "/var/run/aws-node/ipamd.sock",
    pluginLogFile: "/var/log/aws-routed-eni/plugin.log",
    pluginLogLevel: "info",
  });
});

Deno.test("resolveNetConf() accepts the reference's string MTU and level spellings", () => {
  const conf = resolveNetConf(
    { name: "n", type: "t", mtu: "1500", pluginLogLevel: "DEBUG", vethPrefix: "veth" },
    "0.4.0",
  );
  assert.equal(conf.mtu, 1500);
  assert.equal(conf.pluginLogLevel, "debug");
  assert.equal(conf.vethPrefix, "veth");
});

Deno.test("resolveNetConf() reports every problem in one code-7 error", () => {
  try {
    resolveNetConf(
      { name: "", mtu: 9002, vethPrefix: "abcde", ipamdSocket: "x", pluginLogLevel: 3 },
      "1.1.0",
    );
    assert.fail("expected an error");
  } catch (error) {
    assert.ok(error instanceof CniError);
    assert.equal(error.code, 7);
    for (
      const key of [
        "name must match",
        "type is required",
        "mtu",
        "vethPrefix",
        "ipamdSocket",
        "pluginLogLevel",
      ]
    ) {
      assert.match(error.message, new RegExp(key));
    }
  }
});

Deno.test("resolveNetConf() refuses an option-like vethPrefix, a relative or climbing pluginLogFile, a huge name", () => {
  const bad = [{ vethPrefix: "-n" }, { vethPrefix: "-" }, { pluginLogFile: "plugin.log" }, {
    pluginLogFile: "/var/log/../../etc/x",
  }, { pluginLogFile: "/var/log/" }];
  for (const fields of bad) {
    assert.throws(
      () => resolveNetConf({ name: "n", type: "t", ...fields }, "1.1.0"),
      CniError,
      JSON.stringify(fields),
    );
  }
  for (const pluginLogFile of ["", "stderr", "/var/log/aws-routed-eni/plugin.log"]) {
    assert.equal(
      resolveNetConf({ name: "n", type: "t", pluginLogFile }, "1.1.0").pluginLogFile,
      pluginLogFile,
    );
  }
  assert.equal(resolveNetConf({ name: "n", type: "t", vethPrefix: "e-_1" }, "1.1.0").vethPrefix, "e-_1");
  assert.throws(() => resolveNetConf({ name: "n".repeat(254), type: "t" }, "1.1.0"), /at most 253/);
});

Deno.test("resolveNetConf() reads valid attachments under either GC key", () => {
  const attachments = [{ containerID: "c1", ifname: "eth0" }];
  for (const key of ["cni.dev/valid-attachments", "cni.dev/attachments"]) {
    const conf = resolveNetConf({ name: "n", type: "t", [key]: attachments }, "1.1.0");
    assert.deepEqual(conf.validAttachments, [{ containerId: "c1", ifName: "eth0" }]);
  }
  assert.equal(
    codeOf(() => resolveNetConf({ name: "n", type: "t", "cni.dev/attachments": [{}] }, "1.1.0")),
    7,
  );
});

Deno.test("decodeConfig() and configVersion() give codes 6, 1 and 7", () => {
  assert.equal(codeOf(() => decodeConfig(enc("{"))), 6);
  assert.equal(codeOf(() => decodeConfig(Uint8Array.of(0xff, 0xfe))), 6);
  assert.equal(codeOf(() => decodeConfig(enc("[]"))), 6);
  assert.equal(codeOf(() => configVersion({ cniVersion: "0.3.1" })), 1);
  assert.equal(codeOf(() => configVersion({})), 7);
  assert.equal(configVersion({ cniVersion: "1.1.0" }), "1.1.0");
});
