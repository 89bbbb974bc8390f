import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { DEFAULT_SOCKET_PATH, parseIpamdConfig } from "../config/config.ts";
import { CONFLIST_NAME, renderConflist, writeConflist } from "./conflist.ts";

const SETTINGS = parseIpamdConfig({
  POD_MTU: "1500",
  AWS_VPC_K8S_CNI_VETHPREFIX: "abc",
  AWS_VPC_K8S_PLUGIN_LOG_LEVEL: "info",
});

Deno.test("renderConflist() writes the aws-cni plugin from the settings, as the reference's entrypoint", () => {
  const conf = JSON.parse(renderConflist(SETTINGS, { portmap: false }));
  deepStrictEqual(conf, {
    cniVersion: "1.0.0",
    name: "aws-cni",
    plugins: [{
      type: "aws-cni",
      vethPrefix: "abc",
      mtu: "1500",
      pluginLogFile: "/var/log/aws-routed-eni/plugin.log",
      pluginLogLevel: "INFO",
    }],
  });
  equal(SETTINGS.socketPath, DEFAULT_SOCKET_PATH);
});

Deno.test("renderConflist() chains portmap and names a socket that is not the default", () => {
  const conf = JSON.parse(
    renderConflist({ ...SETTINGS, socketPath: "/tmp/x/ipamd.sock" }, { portmap: true }),
  );
  equal(conf.plugins[0].ipamdSocket, "/tmp/x/ipamd.sock");
  deepStrictEqual(conf.plugins[1], { type: "portmap", capabilities: { portMappings: true }, snat: true });
});

Deno.test("writeConflist() creates the directory, chains portmap only when installed, leaves no temp file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-conflist-" });
  try {
    const bin = `${dir}/bin`;
    await Deno.mkdir(bin);
    const path = await writeConflist(`${dir}/net.d/`, SETTINGS, { binDir: bin });
    equal(path, `${dir}/net.d/${CONFLIST_NAME}`);
    equal(JSON.parse(await Deno.readTextFile(path)).plugins.length, 1);
    equal((await Deno.stat(path)).mode! & 0o777, 0o644);
    await Deno.writeTextFile(`${bin}/portmap`, "");
    await writeConflist(`${dir}/net.d`, SETTINGS, { binDir: bin });
    equal(JSON.parse(await Deno.readTextFile(path)).plugins[1].type, "portmap");
    deepStrictEqual([...Deno.readDirSync(`${dir}/net.d`)].map((e) => e.name), [CONFLIST_NAME]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderConflist() writes the cniVersion CNI_CONFLIST_VERSION asks for, 1.0.0 by default", () => {
  equal(JSON.parse(renderConflist(SETTINGS, { portmap: false })).cniVersion, "1.0.0");
  const v110 = parseIpamdConfig({ CNI_CONFLIST_VERSION: "1.1.0" });
  equal(JSON.parse(renderConflist(v110, { portmap: true })).cniVersion, "1.1.0");
  const v040 = parseIpamdConfig({ CNI_CONFLIST_VERSION: "0.4.0" });
  equal(JSON.parse(renderConflist(v040, { portmap: false })).cniVersion, "0.4.0");
  let problem = "";
  try {
    parseIpamdConfig({ CNI_CONFLIST_VERSION: "2.0.0" });
  } catch (error) {
    problem = String(error);
  }
  ok(/CNI_CONFLIST_VERSION="2\.0\.0": must be one of 0\.4\.0, 1\.0\.0, 1\.1\.0/.test(problem), problem);
});
