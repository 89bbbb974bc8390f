import assert from "node:assert/strict";
import {
  collectPoolSettings,
  ConfigError,
  describeConfig,
  IPAMD_ENV_TABLE,
  type IpamdConfig,
  parseIpamdConfig,
  parsePoolSettings,
  POOL_ENV,
  resolvePoolSettings,
} from "./config.ts";

const DEFAULTS: IpamdConfig = {
  pool: {
    warmEniTarget: 1,
    warmIpTarget: 0,
    minimumIpTarget: 0,
    maxEni: 0,
    prefixDelegation: false,
    warmPrefixTarget: 1,
    ipCooldownMs: 30_000,
    minEniAgeMs: 60_000,
    decreaseIntervalMs: 30_000,
    scaleDownWindowMs: null,
    customNetworking: false,
    subnetAware: true,
  },
  enableIpv4: true,
  enableIpv6: false,
  eniMtu: 9001,
  podMtu: 9001,
  vethPrefix: "eni",
  externalSnat: false,
  excludeSnatCidrs: [],
  randomizeSnat: "prng",
  nodePortSupport: true,
  connmark: 0x80,
  externalServiceCidrs: [],
  checkpointPath: "/var/run/aws-node/ipam.json",
  socketPath: "/var/run/aws-node/ipamd.sock",
  logLevel: "debug",
  logFile: "stderr",
  pluginLogFile: "/var/log/aws-routed-eni/plugin.log",
  pluginLogLevel: "debug",
  conflistVersion: "1.0.0",
  introspectionBindAddress: "127.0.0.1:61679",
  disableIntrospection: false,
  metricsBindAddress: "127.0.0.1:61678",
  disableMetrics: false,
  disableProvisioning: false,
  disableLeakedEniCleanup: false,
  additionalEniTags: {},
  eniConfigSubnets: {},
  eniConfigSecurityGroups: [],
  subnetDiscovery: true,
  clusterName: "",
  ec2Endpoint: null,
  httpTimeoutMs: 10_000,
  ec2EndpointUrl: null,
  imdsEndpoint: "http://169.254.169.254",
  imdsAllowV1: false,
  imdsTokenTtlMs: 21_600_000,
  ec2RequestBudget: {},
  ec2ThrottleRetries: 5,
  nodeReconcileIntervalMs: 60_000,
  leakedEniCleanupIntervalMs: 3_600_000,
  leakedEniCleanupStartDelayMs: 300_000,
  leakedEniMinAgeMs: 300_000,
  addWaitTimeoutMs: 60_000,
  reconcileIntervalMs: 5_000,
  maxPods: null,
  warnings: [],
};

/** Runs `fn`, expects a ConfigError and returns its problems. */
function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.problems;
  }
  assert.fail("expected a ConfigError, got a config");
}

Deno.test("parseIpamdConfig() resolves every default from an empty env", () => {
  assert.deepEqual(parseIpamdConfig({}), DEFAULTS);
});

const HAPPY: [name: string, text: string, select: (c: IpamdConfig) => unknown, expected: unknown][] = [
  ["WARM_ENI_TARGET", "0", (c) => c.pool.warmEniTarget, 0],
  ["WARM_IP_TARGET", "5", (c) => c.pool.warmIpTarget, 5],
  ["MINIMUM_IP_TARGET", "10", (c) => c.pool.minimumIpTarget, 10],
  ["MAX_ENI", "3", (c) => c.pool.maxEni, 3],
  ["ENABLE_PREFIX_DELEGATION", "TRUE", (c) => c.pool.prefixDelegation, true],
  ["WARM_PREFIX_TARGET", "2", (c) => c.pool.warmPrefixTarget, 2],
  ["IP_COOLDOWN_PERIOD", "45", (c) => c.pool.ipCooldownMs, 45_000],
  ["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "false", (c) => c.pool.customNetworking, false],
  ["ENI_CONFIG_SUBNETS", "us-west-2a=subnet-0a", (c) => c.eniConfigSubnets, { "us-west-2a": "subnet-0a" }],
  ["ENI_CONFIG_SECURITY_GROUPS", "sg-0a, sg-0b", (c) => c.eniConfigSecurityGroups, ["sg-0a", "sg-0b"]],
  ["ENABLE_SUBNET_DISCOVERY", "0", (c) => c.subnetDiscovery, false],
  ["POOL_SUBNET_AWARE", "false", (c) => c.pool.subnetAware, false],
  ["IP_COOLDOWN_PERIOD", "0", (c) => c.pool.ipCooldownMs, 0],
  ["POOL_SCALE_DOWN_WINDOW", "60", (c) => c.pool.scaleDownWindowMs, 60_000],
  ["POOL_SCALE_DOWN_WINDOW", "0", (c) => c.pool.scaleDownWindowMs, 0],
  ["ENABLE_IPv4", "1", (c) => c.enableIpv4, true],
  ["ENABLE_IPv6", "False", (c) => c.enableIpv6, false],
  ["AWS_VPC_ENI_MTU", "1500", (c) => [c.eniMtu, c.podMtu], [1500, 1500]],
  ["POD_MTU", "1400", (c) => [c.eniMtu, c.podMtu], [9001, 1400]],
  ["AWS_VPC_K8S_CNI_VETHPREFIX", "veth", (c) => c.vethPrefix, "veth"],
  ["AWS_VPC_K8S_CNI_EXTERNALSNAT", "true", (c) => c.externalSnat, true],
  [
    "AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS",
    " 10.0.0.0/8 , 192.168.0.0/16,",
    (c) => c.excludeSnatCidrs,
    ["10.0.0.0/8", "192.168.0.0/16"],
  ],
  ["AWS_VPC_K8S_CNI_RANDOMIZESNAT", "HashRandom", (c) => c.randomizeSnat, "hashrandom"],
  ["AWS_VPC_K8S_CNI_RANDOMIZESNAT", "none", (c) => c.randomizeSnat, "none"],
  ["AWS_VPC_CNI_NODE_PORT_SUPPORT", "0", (c) => c.nodePortSupport, false],
  ["AWS_VPC_K8S_CNI_CONNMARK", "0x4000", (c) => c.connmark, 0x4000],
  ["AWS_VPC_K8S_CNI_CONNMARK", "4294967295", (c) => c.connmark, 0xffffffff],
  ["AWS_EXTERNAL_SERVICE_CIDRS", "100.64.0.0/10", (c) => c.externalServiceCidrs, ["100.64.0.0/10"]],
  [
    "AWS_VPC_K8S_CNI_BACKING_STORE",
    "/var/lib/aws-cni/ipam.json",
    (c) => c.checkpointPath,
    "/var/lib/aws-cni/ipam.json",
  ],
  ["AWS_VPC_K8S_CNI_LOGLEVEL", "Warn", (c) => c.logLevel, "warn"],
  ["AWS_VPC_K8S_CNI_LOG_FILE", "/var/log/ipamd.log", (c) => c.logFile, "/var/log/ipamd.log"],
  ["AWS_VPC_K8S_CNI_LOG_FILE", "stdout", (c) => c.logFile, "stdout"],
  ["AWS_VPC_K8S_PLUGIN_LOG_FILE", "stderr", (c) => c.pluginLogFile, "stderr"],
  ["AWS_VPC_K8S_PLUGIN_LOG_LEVEL", "ERROR", (c) => c.pluginLogLevel, "error"],
  ["CNI_CONFLIST_VERSION", "1.1.0", (c) => c.conflistVersion, "1.1.0"],
  ["INTROSPECTION_BIND_ADDRESS", "0.0.0.0:9000", (c) => c.introspectionBindAddress, "0.0.0.0:9000"],
  ["DISABLE_INTROSPECTION", "true", (c) => c.disableIntrospection, true],
  ["METRICS_BIND_ADDRESS", "127.0.0.1:9100", (c) => c.metricsBindAddress, "127.0.0.1:9100"],
  ["DISABLE_METRICS", "1", (c) => c.disableMetrics, true],
  ["DISABLE_NETWORK_RESOURCE_PROVISIONING", "true", (c) => c.disableProvisioning, true],
  ["DISABLE_LEAKED_ENI_CLEANUP", "TRUE", (c) => c.disableLeakedEniCleanup, true],
  [
    "ADDITIONAL_ENI_TAGS",
    '{"team":"net","cost-center":"","__proto__":"x"}',
    (c) => Object.entries(c.additionalEniTags),
    [["team", "net"], ["cost-center", ""], ["__proto__", "x"]],
  ],
  ["CLUSTER_NAME", "prod", (c) => c.clusterName, "prod"],
  [
    "AWS_EC2_ENDPOINT",
    "https://ec2.eu-west-1.amazonaws.com",
    (c) => c.ec2Endpoint,
    "https://ec2.eu-west-1.amazonaws.com",
  ],
  ["HTTP_TIMEOUT", "30", (c) => c.httpTimeoutMs, 30_000],
  ["AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:9000", (c) => c.ec2EndpointUrl, "http://127.0.0.1:9000"],
  [
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "http://127.0.0.1:9001",
    (c) => c.imdsEndpoint,
    "http://127.0.0.1:9001",
  ],
  ["IMDS_ALLOW_V1", "true", (c) => c.imdsAllowV1, true],
  ["IMDS_TOKEN_TTL", "60", (c) => c.imdsTokenTtlMs, 60_000],
  [
    "EC2_REQUEST_BUDGET",
    "mutating=20/2, CreateNetworkInterface=200/0.5",
    (c) => c.ec2RequestBudget,
    {
      mutating: { capacity: 20, refillPerSecond: 2 },
      CreateNetworkInterface: { capacity: 200, refillPerSecond: 0.5 },
    },
  ],
  ["EC2_REQUEST_BUDGET", "OFF", (c) => c.ec2RequestBudget, null],
  ["EC2_THROTTLE_RETRIES", "0", (c) => c.ec2ThrottleRetries, 0],
  ["NODE_RECONCILE_INTERVAL", "5", (c) => c.nodeReconcileIntervalMs, 5_000],
  ["LEAKED_ENI_CLEANUP_INTERVAL", "2", (c) => c.leakedEniCleanupIntervalMs, 2_000],
  ["LEAKED_ENI_CLEANUP_START_DELAY", "0", (c) => c.leakedEniCleanupStartDelayMs, 0],
  ["LEAKED_ENI_MIN_AGE", "0", (c) => c.leakedEniMinAgeMs, 0],
  ["ADD_WAIT_TIMEOUT", "3", (c) => c.addWaitTimeoutMs, 3_000],
  ["POOL_RECONCILE_INTERVAL", "1", (c) => c.reconcileIntervalMs, 1_000],
  ["MAX_PODS", "29", (c) => c.maxPods, 29],
];

Deno.test("parseIpamdConfig() reads each variable", async (t) => {
  for (const [name, text, select, expected] of HAPPY) {
    await t.step(`${name}=${text}`, () => {
      const config = parseIpamdConfig({ [name]: text });
      assert.deepEqual(select(config), expected);
      assert.deepEqual(config.warnings, []);
    });
  }
});

Deno.test("parseIpamdConfig() has a happy-path case for every row of IPAMD_ENV_TABLE", () => {
  const tested = new Set(HAPPY.map(([name]) => name));
  assert.deepEqual(IPAMD_ENV_TABLE.map((row) => row.name).filter((name) => !tested.has(name)), []);
});

const BAD: [name: string, text: string, reason: string][] = [
  ["WARM_ENI_TARGET", "abc", "not an integer"],
  ["WARM_IP_TARGET", "-1", "must not be negative"],
  ["MINIMUM_IP_TARGET", "1.5", "not an integer"],
  ["MAX_ENI", "0", "must be at least 1"],
  ["ENABLE_PREFIX_DELEGATION", "yes", "must be true, false, 1 or 0"],
  ["WARM_PREFIX_TARGET", "2x", "not an integer"],
  ["IP_COOLDOWN_PERIOD", "-5", "must not be negative"],
  ["IP_COOLDOWN_PERIOD", "2147484", "must be at most 2147483"],
  ["ENABLE_IPv4", "false", "must be true: IPv4 is the only family supported"],
  ["ENABLE_IPv4", "no", "must be true, false, 1 or 0"],
  ["ENABLE_IPv6", "true", "must be false: IPv6 pods are not supported yet"],
  ["AWS_VPC_ENI_MTU", "575", "must be at least 576"],
  ["AWS_VPC_ENI_MTU", "9002", "must be at most 9001"],
  ["POD_MTU", "big", "not an integer"],
  ["AWS_VPC_K8S_CNI_VETHPREFIX", "veth0", "must be 1–4 letters, digits, - or _"],
  ["AWS_VPC_K8S_CNI_VETHPREFIX", "a/b", "must be 1–4 letters, digits, - or _"],
  ["AWS_VPC_K8S_CNI_VETHPREFIX", "-i", "must not start with - (tools read it as an option)"],
  ["AWS_VPC_K8S_CNI_VETHPREFIX", "vlan", "is reserved for host interfaces"],
  ["AWS_VPC_K8S_CNI_EXTERNALSNAT", "on", "must be true, false, 1 or 0"],
  [
    "AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS",
    "10.0.0.0/8,10.0.0.1/8,nope",
    'not IPv4 CIDRs with host bits zero: "10.0.0.1/8", "nope"',
  ],
  ["AWS_VPC_K8S_CNI_RANDOMIZESNAT", "random", "must be one of prng, hashrandom, none (any case)"],
  ["AWS_VPC_CNI_NODE_PORT_SUPPORT", "2", "must be true, false, 1 or 0"],
  ["AWS_VPC_K8S_CNI_CONNMARK", "0", "must be 1–0xffffffff, decimal or 0x hex"],
  ["AWS_VPC_K8S_CNI_CONNMARK", "0x100000000", "must be 1–0xffffffff, decimal or 0x hex"],
  ["AWS_VPC_K8S_CNI_CONNMARK", "010", "must be 1–0xffffffff, decimal or 0x hex"],
  ["AWS_EXTERNAL_SERVICE_CIDRS", "10.0.0.0/33", 'not IPv4 CIDRs with host bits zero: "10.0.0.0/33"'],
  ["AWS_VPC_K8S_CNI_BACKING_STORE", "ipam.json", "must be an absolute path"],
  ["AWS_VPC_K8S_CNI_LOGLEVEL", "verbose", "must be one of debug, info, warn, error (any case)"],
  ["AWS_VPC_K8S_CNI_LOG_FILE", "ipamd.log", "must be an absolute path or stdout or stderr"],
  ["AWS_VPC_K8S_PLUGIN_LOG_FILE", "stdout", "cannot be stdout, which carries the CNI result"],
  ["AWS_VPC_K8S_PLUGIN_LOG_FILE", "plugin.log", "must be an absolute path or stderr"],
  ["AWS_VPC_K8S_PLUGIN_LOG_LEVEL", "trace", "must be one of debug, info, warn, error (any case)"],
  [
    "INTROSPECTION_BIND_ADDRESS",
    "localhost:61679",
    "must be an IPv4 address and a port, like 127.0.0.1:61679",
  ],
  ["INTROSPECTION_BIND_ADDRESS", "127.0.0.1", "must be an IPv4 address and a port, like 127.0.0.1:61679"],
  ["METRICS_BIND_ADDRESS", "127.0.0.1:70000", "port must be 1–65535"],
  ["METRICS_BIND_ADDRESS", "300.0.0.1:9100", "must be an IPv4 address and a port, like 127.0.0.1:61679"],
  ["DISABLE_INTROSPECTION", "disabled", "must be true, false, 1 or 0"],
  ["DISABLE_METRICS", "y", "must be true, false, 1 or 0"],
  ["DISABLE_NETWORK_RESOURCE_PROVISIONING", "off", "must be true, false, 1 or 0"],
  ["DISABLE_LEAKED_ENI_CLEANUP", "-1", "must be true, false, 1 or 0"],
  ["ADDITIONAL_ENI_TAGS", "{team:net}", "not valid JSON"],
  ["ADDITIONAL_ENI_TAGS", '["team"]', "must be a JSON object"],
  ["ADDITIONAL_ENI_TAGS", "null", "must be a JSON object"],
  ["ADDITIONAL_ENI_TAGS", '{"a":1,"b":"ok","c":null}', '"a" is not a string, "c" is not a string'],
  ["ADDITIONAL_ENI_TAGS", '{"aws:owner":"me"}', '"aws:owner" uses the reserved "aws:" prefix'],
  ["ADDITIONAL_ENI_TAGS", '{"":"x"}', '"" must be 1–128 characters'],
  ["ADDITIONAL_ENI_TAGS", `{"k":"${"v".repeat(257)}"}`, '"k" has a value over 256 characters'],
  ["AWS_EC2_ENDPOINT", "ec2.local", "must be an http or https URL"],
  ["AWS_EC2_ENDPOINT", "ftp://ec2.local", "must be an http or https URL"],
  ["HTTP_TIMEOUT", "9", "must be at least 10"],
  ["AWS_ENDPOINT_URL_EC2", "localhost:9000", "must be an http or https URL"],
  ["AWS_EC2_METADATA_SERVICE_ENDPOINT", "169.254.169.254", "must be an http or https URL"],
  ["IMDS_ALLOW_V1", "maybe", "must be true, false, 1 or 0"],
  ["IMDS_TOKEN_TTL", "21601", "must be at most 21600"],
  ["EC2_REQUEST_BUDGET", "mutating=50", '"mutating=50" is not CATEGORY=CAPACITY/REFILL_PER_SECOND'],
  [
    "EC2_REQUEST_BUDGET",
    "writes=5/1",
    'unknown category "writes"; known: non-mutating, unfiltered-non-mutating, mutating, ' +
    "AssignPrivateIpAddresses, UnassignPrivateIpAddresses, CreateNetworkInterface, DeleteNetworkInterface, " +
    "ModifyNetworkInterfaceAttribute, CreateTags",
  ],
  [
    "EC2_REQUEST_BUDGET",
    "mutating=0/5",
    '"mutating=0/5" needs a capacity of at least 1 and a refill above 0',
  ],
  ["EC2_THROTTLE_RETRIES", "21", "must be at most 20"],
  ["NODE_RECONCILE_INTERVAL", "0", "must be at least 1"],
  ["LEAKED_ENI_CLEANUP_INTERVAL", "0", "must be at least 1"],
  ["LEAKED_ENI_CLEANUP_START_DELAY", "-1", "must not be negative"],
  ["LEAKED_ENI_MIN_AGE", "5m", "not an integer"],
  ["ADD_WAIT_TIMEOUT", "0", "must be at least 1"],
  ["ADD_WAIT_TIMEOUT", "61", "must be at most 60"],
  ["POOL_RECONCILE_INTERVAL", "1s", "not an integer"],
  ["MAX_PODS", "0", "must be at least 1"],
];

Deno.test("parseIpamdConfig() rejects each kind of bad value", async (t) => {
  for (const [name, text, reason] of BAD) {
    await t.step(`${name}=${text}`, () => {
      const problem = `${name}=${JSON.stringify(text)}: ${reason}`;
      assert.deepEqual(problemsOf(() => parseIpamdConfig({ [name]: text })), [problem]);
    });
  }
});

Deno.test("parseIpamdConfig() reports every bad variable at once", () => {
  const env = {
    WARM_IP_TARGET: "x",
    AWS_VPC_ENI_MTU: "100",
    "ENABLE_IPv6": "true",
    ADDITIONAL_ENI_TAGS: "{",
  };
  let caught: unknown;
  try {
    parseIpamdConfig(env, { socket: "relative.sock" });
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError);
  assert.equal(caught.name, "ConfigError");
  assert.deepEqual(caught.problems, [
    'WARM_IP_TARGET="x": not an integer',
    'ENABLE_IPv6="true": must be false: IPv6 pods are not supported yet',
    'AWS_VPC_ENI_MTU="100": must be at least 576',
    'ADDITIONAL_ENI_TAGS="{": not valid JSON',
    '--socket="relative.sock": must be an absolute path',
  ]);
  assert.equal(caught.message, `Invalid settings: ${caught.problems.join("; ")}`);
});

Deno.test("parseIpamdConfig() takes --socket and --checkpoint over the env and the defaults", () => {
  const config = parseIpamdConfig(
    { AWS_VPC_K8S_CNI_BACKING_STORE: "/env/ipam.json" },
    { socket: "/run/aws-cni/ipamd.sock", checkpoint: "/flag/ipam.json" },
  );
  assert.equal(config.socketPath, "/run/aws-cni/ipamd.sock");
  assert.equal(config.checkpointPath, "/flag/ipam.json");
});

Deno.test("parseIpamdConfig() names the flag when a flag value is bad", () => {
  const longSocket = `/${"s".repeat(107)}`;
  assert.deepEqual(
    problemsOf(() =>
      parseIpamdConfig({ AWS_VPC_K8S_CNI_BACKING_STORE: "/ok.json" }, { checkpoint: "x.json" })
    ),
    ['--checkpoint="x.json": must be an absolute path'],
  );
  assert.deepEqual(problemsOf(() => parseIpamdConfig({}, { socket: longSocket })), [
    `--socket="${longSocket}": must be at most 107 bytes long`,
  ]);
});

Deno.test("parseIpamdConfig() treats an empty string in the env or a flag as unset", () => {
  const env = Object.fromEntries(IPAMD_ENV_TABLE.map((row) => [row.name, ""]));
  assert.deepEqual(parseIpamdConfig(env, { socket: "", checkpoint: "" }), DEFAULTS);
});

Deno.test("parseIpamdConfig() returns a deeply frozen config", () => {
  const config = parseIpamdConfig({
    AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS: "10.0.0.0/8",
    ADDITIONAL_ENI_TAGS: '{"team":"net"}',
  });
  for (
    const part of [config, config.pool, config.excludeSnatCidrs, config.additionalEniTags, config.warnings]
  ) {
    assert.ok(Object.isFrozen(part));
  }
  assert.throws(() => {
    (config as { eniMtu: number }).eniMtu = 1500;
  }, TypeError);
  assert.throws(() => (config.excludeSnatCidrs as string[]).push("192.168.0.0/16"), TypeError);
});

Deno.test("parseIpamdConfig() drops k8s.amazonaws.com tags with a warning", () => {
  const config = parseIpamdConfig({
    ADDITIONAL_ENI_TAGS: '{"team":"net","node.k8s.amazonaws.com/instance_id":"i-1"}',
  });
  assert.deepEqual(config.additionalEniTags, { team: "net" });
  assert.deepEqual(config.warnings, [
    'ADDITIONAL_ENI_TAGS: dropped tag "node.k8s.amazonaws.com/instance_id": "k8s.amazonaws.com" keys are reserved',
  ]);
});

Deno.test("parseIpamdConfig() rejects introspection and metrics on one port unless one is off", () => {
  const env = { INTROSPECTION_BIND_ADDRESS: "0.0.0.0:9000", METRICS_BIND_ADDRESS: "127.0.0.1:9000" };
  assert.deepEqual(problemsOf(() => parseIpamdConfig(env)), [
    'INTROSPECTION_BIND_ADDRESS="0.0.0.0:9000" and METRICS_BIND_ADDRESS="127.0.0.1:9000" cannot share a port',
  ]);
  assert.equal(parseIpamdConfig({ ...env, DISABLE_METRICS: "true" }).disableMetrics, true);
  assert.equal(
    parseIpamdConfig({ ...env, INTROSPECTION_BIND_ADDRESS: "10.0.0.1:9000" }).introspectionBindAddress,
    "10.0.0.1:9000",
  );
});

Deno.test("parsePoolSettings() allows every prefix target at 0 with prefix delegation on", () => {
  const settings = parsePoolSettings({
    ENABLE_PREFIX_DELEGATION: "true",
    WARM_PREFIX_TARGET: "0",
    WARM_IP_TARGET: "0",
    MINIMUM_IP_TARGET: "0",
  });
  assert.deepEqual(
    [settings.prefixDelegation, settings.warmPrefixTarget, settings.warmIpTarget, settings.minimumIpTarget],
    [true, 0, 0, 0],
  );
});

Deno.test("parsePoolSettings() returns the pool defaults and ignores other variables", () => {
  const settings = parsePoolSettings({ AWS_VPC_ENI_MTU: "nonsense" });
  assert.deepEqual(settings, DEFAULTS.pool);
  assert.ok(Object.isFrozen(settings));
});

Deno.test("resolvePoolSettings() lets overrides win over the env", () => {
  const settings = resolvePoolSettings(
    { WARM_IP_TARGET: "5", MAX_ENI: "2", IP_COOLDOWN_PERIOD: "10" },
    { WARM_IP_TARGET: "7", MAX_ENI: "", ENABLE_PREFIX_DELEGATION: "1" },
  );
  assert.equal(settings.warmIpTarget, 7);
  assert.equal(settings.maxEni, 2, "an empty override leaves the env value");
  assert.equal(settings.prefixDelegation, true);
  assert.equal(settings.ipCooldownMs, 10_000);
});

Deno.test("resolvePoolSettings() names the flag of a bad override and the variable of a bad env value", () => {
  assert.deepEqual(
    problemsOf(() =>
      resolvePoolSettings({ WARM_ENI_TARGET: "-2" }, { MAX_ENI: "0", WARM_IP_TARGET: "many" })
    ),
    [
      'WARM_ENI_TARGET="-2": must not be negative',
      '--warm-ip-target="many": not an integer',
      '--max-eni="0": must be at least 1',
    ],
  );
});

Deno.test("collectPoolSettings() returns every problem instead of throwing", () => {
  const result = collectPoolSettings({ WARM_PREFIX_TARGET: "a" }, { AWS_VPC_ENI_MTU: "1500" });
  assert.deepEqual(result, {
    ok: false,
    problems: ['Unknown pool setting "AWS_VPC_ENI_MTU"', 'WARM_PREFIX_TARGET="a": not an integer'],
    warnings: [],
  });
  const good = collectPoolSettings({ WARM_PREFIX_TARGET: "3" });
  assert.ok(good.ok);
  assert.equal(good.value.warmPrefixTarget, 3);
});

Deno.test("IPAMD_ENV_TABLE has unique names, docs, and defaults that parse", () => {
  const names = IPAMD_ENV_TABLE.map((row) => row.name);
  assert.equal(new Set(names).size, names.length);
  for (const row of IPAMD_ENV_TABLE) {
    assert.ok(row.doc.length > 0 && row.parser.accepts.length > 0, row.name);
    assert.doesNotThrow(() => row.parser.parse(row.default, () => {}), row.name);
  }
  for (const poolRow of Object.values(POOL_ENV)) {
    assert.ok(names.includes(poolRow.name), poolRow.name);
    assert.match(poolRow.flag ?? "", /^--[a-z-]+$/, poolRow.name);
  }
});

Deno.test("describeConfig() returns a plain unfrozen copy that keeps tag values", () => {
  const config = parseIpamdConfig({ ADDITIONAL_ENI_TAGS: '{"team":"net"}', WARM_IP_TARGET: "3" });
  const described = describeConfig(config);
  assert.equal(described.connmark, "0x80");
  assert.deepEqual(described.additionalEniTags, { team: "net" });
  assert.deepEqual(described.pool, { ...DEFAULTS.pool, warmIpTarget: 3 });
  assert.deepEqual(JSON.parse(JSON.stringify(described)), described);
  assert.ok(!Object.isFrozen(described) && !Object.isFrozen(described.pool));
  assert.notEqual(described.additionalEniTags, config.additionalEniTags);
});

Deno.test("parseIpamdConfig() reads custom networking's subnets by zone and its security groups", () => {
  const config = parseIpamdConfig({
    AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true",
    ENI_CONFIG_SUBNETS: "us-east-1a=subnet-0aaa,us-east-1b=subnet-0bbb",
    ENI_CONFIG_SECURITY_GROUPS: "sg-01,sg-02",
  });
  assert.equal(config.pool.customNetworking, true);
  assert.deepEqual(config.eniConfigSubnets, { "us-east-1a": "subnet-0aaa", "us-east-1b": "subnet-0bbb" });
  assert.deepEqual(config.eniConfigSecurityGroups, ["sg-01", "sg-02"]);
  assert.deepEqual(parseIpamdConfig({ ENI_CONFIG_SUBNETS: "subnet-0ccc" }).eniConfigSubnets, {
    "*": "subnet-0ccc",
  });
  assert.deepEqual(problemsOf(() => parseIpamdConfig({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true" })), [
    'AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG="true" needs ENI_CONFIG_SUBNETS',
  ]);
  assert.deepEqual(problemsOf(() => parseIpamdConfig({ ENI_CONFIG_SUBNETS: "us-east-1a:subnet-0aaa" })), [
    'ENI_CONFIG_SUBNETS="us-east-1a:subnet-0aaa": must be a subnet ID or zone=subnet-ID pairs, like ' +
    "us-east-1a=subnet-0abc",
  ]);
  assert.deepEqual(problemsOf(() => parseIpamdConfig({ ENI_CONFIG_SECURITY_GROUPS: "sg-01,web" })), [
    'ENI_CONFIG_SECURITY_GROUPS="sg-01,web": must be sg- IDs',
  ]);
});
