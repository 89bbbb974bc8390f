import assert from "node:assert/strict";
import { ConfigError, IPAMD_ENV_TABLE, parseIpamdConfig } from "./config.ts";
import {
  closestName,
  editDistance,
  migrationFindings,
  referenceSettings,
  SETTING_PREFIXES,
  UNSUPPORTED_REFERENCE_SETTINGS,
} from "./reference_settings.ts";

/** A value outside a row's `same` values. */
function otherValue(same: readonly string[] | undefined): string {
  if (same?.includes("false")) return "true";
  if (same?.includes("true")) return "false";
  return same?.includes("none") ? "standard" : "something";
}

Deno.test("every reference setting has one row, and a setting ipamd reads is not also listed as unsupported", () => {
  const names = referenceSettings(IPAMD_ENV_TABLE).map((row) => row.name);
  assert.equal(new Set(names).size, names.length);
  const own = IPAMD_ENV_TABLE.map((row) => row.name);
  for (const row of UNSUPPORTED_REFERENCE_SETTINGS) {
    assert.ok(!own.includes(row.name), `${row.name} is read by ipamd`);
    assert.ok(row.why.length > 20, `${row.name} says why`);
  }
  // Settings the reference does not have (another name, or none) are not reference settings.
  assert.ok(!names.includes("METRICS_BIND_ADDRESS") && !names.includes("POOL_SCALE_DOWN_WINDOW"));
  assert.ok(names.includes("WARM_IP_TARGET") && names.includes("ENABLE_POD_ENI"));
});

Deno.test("each unsupported setting: its own values pass silently, any other is refused or warned as its row says", () => {
  for (const row of UNSUPPORTED_REFERENCE_SETTINGS) {
    for (const value of ["", ...(row.same ?? []), ...(row.same ?? []).map((v) => v.toUpperCase())]) {
      assert.deepEqual(migrationFindings({ [row.name]: value }, IPAMD_ENV_TABLE), {
        problems: [],
        warnings: [],
      });
    }
    const value = otherValue(row.same);
    const { problems, warnings } = migrationFindings({ [row.name]: value }, IPAMD_ENV_TABLE);
    const lines = row.treatment === "refused" ? problems : warnings;
    assert.equal(problems.length + warnings.length, 1, row.name);
    assert.equal(lines.length, 1, `${row.name} is ${row.treatment}`);
    assert.ok(lines[0]!.startsWith(`${row.name}="${value}"`), lines[0]!);
    assert.ok(lines[0]!.includes(row.why), lines[0]!);
    if (row.treatment === "not applicable") assert.match(lines[0]!, / has no effect: /);
  }
});

Deno.test("what moving from the reference must refuse: pod ENIs, multi-NIC, network policy, v6 egress", () => {
  const refused = UNSUPPORTED_REFERENCE_SETTINGS.filter((row) => row.treatment === "refused").map((r) =>
    r.name
  );
  for (
    const name of [
      "ENABLE_POD_ENI",
      "ENABLE_MULTI_NIC",
      "NETWORK_POLICY_ENFORCING_MODE",
      "ENABLE_V6_EGRESS",
    ]
  ) assert.ok(refused.includes(name), name);
  assert.throws(
    () => parseIpamdConfig({ ENABLE_MULTI_NIC: "true", ENABLE_POD_ENI: "1" }),
    (error: unknown) =>
      error instanceof ConfigError && error.problems.length === 2 &&
      error.problems[0]!.startsWith('ENABLE_POD_ENI="1": security groups for pods') &&
      error.problems[1]!.startsWith('ENABLE_MULTI_NIC="true": multiple network cards') &&
      !error.message.includes("\n"),
  );
  // IPv6 is refused by its own setting's parser.
  assert.throws(() => parseIpamdConfig({ ENABLE_IPv6: "true" }), /ENABLE_IPv6="true": must be false/);
  assert.throws(() => parseIpamdConfig({ NETWORK_POLICY_ENFORCING_MODE: "standard" }), /network policies/);
  assert.deepEqual(parseIpamdConfig({ NETWORK_POLICY_ENFORCING_MODE: "none" }).warnings, []);
});

Deno.test("a variable that looks like a setting but is none is a warning naming the closest setting", () => {
  const config = parseIpamdConfig({
    WARM_IPS_TARGET: "3",
    ENABLE_IPV6: "false",
    AWS_VPC_K8S_CNI_LOGLEVL: "info",
  });
  assert.deepEqual(config.warnings, [
    "WARM_IPS_TARGET is not a setting of aws-cni or the reference, so it is ignored; did you mean WARM_IP_TARGET?",
    "ENABLE_IPV6 is not a setting of aws-cni or the reference, so it is ignored; did you mean ENABLE_IPv6?",
    "AWS_VPC_K8S_CNI_LOGLEVL is not a setting of aws-cni or the reference, so it is ignored; did you mean " +
    "AWS_VPC_K8S_CNI_LOGLEVEL?",
  ]);
  assert.equal(config.pool.warmIpTarget, 0, "the typo is not read");
  // Other software's variables, the AWS SDK's, and empty values are left alone.
  const quiet = parseIpamdConfig({
    PATH: "/usr/bin",
    HOME: "/root",
    NODE_OPTIONS: "--x",
    NOTIFY_SOCKET: "/run/systemd/notify",
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "false",
    AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv4",
    WARM_IPS_TARGET: "",
    ENABLE_SUBNET_DISCOVERY: "false",
  });
  assert.deepEqual(quiet.warnings, []);
});

Deno.test("settings with no effect here are accepted with a warning; custom networking and subnet discovery are read", () => {
  const config = parseIpamdConfig({
    MY_NODE_NAME: "ip-10-0-0-5",
    ENABLE_SUBNET_DISCOVERY: "false",
    AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true",
    ENI_CONFIG_SUBNETS: "subnet-0abc",
  });
  assert.equal(config.subnetDiscovery, false);
  assert.equal(config.pool.customNetworking, true);
  assert.deepEqual(config.warnings, [
    'MY_NODE_NAME="ip-10-0-0-5" has no effect: ipamd does not talk to the Kubernetes API',
  ]);
});

Deno.test("every reference setting a typo would most likely hit has a prefix that is checked", () => {
  for (const row of UNSUPPORTED_REFERENCE_SETTINGS.filter((r) => r.treatment !== "not applicable")) {
    assert.ok(SETTING_PREFIXES.some((prefix) => row.name.startsWith(prefix)), row.name);
  }
});

Deno.test("editDistance() and closestName()", () => {
  assert.equal(editDistance("WARM_IPS_TARGET", "WARM_IP_TARGET"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(closestName("MAX_ENIS", ["MAX_ENI", "MAX_PODS"]), "MAX_ENI");
  assert.equal(closestName("enable_pod_eni", ["ENABLE_POD_ENI", "ENABLE_IPv4"]), "ENABLE_POD_ENI");
});
