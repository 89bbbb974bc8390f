import assert from "node:assert/strict";
import { parseIpamdConfig } from "./config/mod.ts";
import { outsidePermissions, type PermissionQueries } from "./permitted.ts";

/** A set that grants paths under `dirs`, and the listed hosts. */
function grants(dirs: readonly string[], hosts: readonly string[]): PermissionQueries & { asked: string[] } {
  const asked: string[] = [];
  const under = (path: string) => dirs.some((dir) => path === dir || path.startsWith(`${dir}/`));
  return {
    asked,
    self(descriptor) {
      if (descriptor.name === "net") {
        asked.push(descriptor.host ?? "");
        return hosts.includes(descriptor.host ?? "");
      }
      if (descriptor.name === "read" || descriptor.name === "write") return under(String(descriptor.path));
      return false;
    },
    pluginMayWrite: (path) => path.startsWith("/var/log/aws-routed-eni/"),
  };
}

const NODE = grants(["/run/aws-node", "/var/run/aws-node", "/var/log/aws-routed-eni", "/etc/cni/net.d"], [
  "unix:/var/run/aws-node/ipamd.sock",
  "127.0.0.1:61678",
  "127.0.0.1:61679",
  "0.0.0.0:61678",
  "10.0.0.5:61679",
  "169.254.169.254:80",
  "ec2.us-east-1.amazonaws.com:443",
]);

Deno.test("the defaults, listeners on port 61678/61679 anywhere and the regional EC2 endpoint are inside the set", () => {
  const config = parseIpamdConfig({
    METRICS_BIND_ADDRESS: "0.0.0.0:61678",
    INTROSPECTION_BIND_ADDRESS: "10.0.0.5:61679",
    AWS_EC2_ENDPOINT: "https://ec2.us-east-1.amazonaws.com",
    AWS_VPC_K8S_CNI_LOG_FILE: "/var/log/aws-routed-eni/ipamd.log",
  });
  assert.deepEqual(outsidePermissions(config, { conflistDir: "/etc/cni/net.d" }, NODE), []);
  assert.deepEqual(outsidePermissions(parseIpamdConfig({}), {}, NODE), []);
});

Deno.test("each setting outside the set is one line naming the setting and its value", () => {
  const config = parseIpamdConfig({
    AWS_VPC_K8S_CNI_BACKING_STORE: "/tmp/ipam.json",
    AWS_VPC_K8S_CNI_LOG_FILE: "/tmp/ipamd.log",
    AWS_VPC_K8S_PLUGIN_LOG_FILE: "/etc/cni/net.d/plugin.log",
    METRICS_BIND_ADDRESS: "0.0.0.0:9100",
    INTROSPECTION_BIND_ADDRESS: "10.0.0.5:8080",
    AWS_EC2_ENDPOINT: "https://ec2.example.com:8443",
    AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://[fd00:ec2::254]",
  }, { socket: "/run/aws-node/other.sock" });
  const lines = outsidePermissions(config, { conflistDir: "/tmp/net.d/" }, NODE);
  const why = ' (README, "Permissions")';
  assert.deepEqual(lines, [
    `--socket="/run/aws-node/other.sock": the binary may not serve a socket at /run/aws-node/other.sock${why}`,
    `AWS_VPC_K8S_CNI_BACKING_STORE="/tmp/ipam.json": the binary may not keep a checkpoint at /tmp/ipam.json${why}`,
    `AWS_VPC_K8S_CNI_LOG_FILE="/tmp/ipamd.log": the binary may not write /tmp/ipamd.log${why}`,
    `AWS_VPC_K8S_PLUGIN_LOG_FILE="/etc/cni/net.d/plugin.log": the binary may not write ` +
    `/etc/cni/net.d/plugin.log as the plugin${why}`,
    `METRICS_BIND_ADDRESS="0.0.0.0:9100": the binary may not listen on 0.0.0.0:9100${why}`,
    `INTROSPECTION_BIND_ADDRESS="10.0.0.5:8080": the binary may not listen on 10.0.0.5:8080${why}`,
    `AWS_EC2_ENDPOINT="https://ec2.example.com:8443": the binary may not connect to ec2.example.com:8443${why}`,
    `AWS_EC2_METADATA_SERVICE_ENDPOINT="http://[fd00:ec2::254]": the binary may not connect to ` +
    `[fd00:ec2::254]:80${why}`,
    `--write-conflist="/tmp/net.d/": the binary may not write /tmp/net.d/10-aws.conflist${why}`,
  ]);
});

Deno.test("disabled listeners, an EC2 endpoint on loopback and the --checkpoint flag are taken into account", () => {
  const config = parseIpamdConfig({
    METRICS_BIND_ADDRESS: "0.0.0.0:9100",
    DISABLE_METRICS: "true",
    INTROSPECTION_BIND_ADDRESS: "0.0.0.0:9101",
    DISABLE_INTROSPECTION: "true",
    AWS_ENDPOINT_URL_EC2: "http://ec2.example.com",
  }, { checkpoint: "/tmp/ipam.json" });
  assert.deepEqual(outsidePermissions(config, { checkpointFlag: true }, NODE), [
    '--checkpoint="/tmp/ipam.json": the binary may not keep a checkpoint at /tmp/ipam.json (README, "Permissions")',
    'AWS_ENDPOINT_URL_EC2="http://ec2.example.com": the binary may not connect to ec2.example.com:80 ' +
    '(README, "Permissions")',
  ]);
  // The simulated cloud listens on loopback inside the node: its endpoints are granted.
  const loopback = grants([], ["127.0.0.1:41000", "127.0.0.1:41001"]);
  const cloud = parseIpamdConfig({
    AWS_EC2_ENDPOINT: "http://127.0.0.1:41000",
    AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:41001",
  });
  assert.deepEqual(outsidePermissions(cloud, {}, loopback).filter((line) => line.includes("AWS_EC2")), []);
  assert.deepEqual(
    outsidePermissions(config, {}, NODE).filter((line) => line.includes("EC2")),
    [
      'AWS_ENDPOINT_URL_EC2="http://ec2.example.com": the binary may not connect to ec2.example.com:80 ' +
      '(README, "Permissions")',
    ],
  );
});
