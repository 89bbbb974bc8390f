/**
 * ipamd's settings. One table of environment variables turns an env record into
 * a frozen, fully resolved `IpamdConfig`. Every bad value is reported at once in
 * one `ConfigError`; none falls back to a default. An empty value, in the env or
 * in a flag, means unset. Durations are whole seconds in the env and `…Ms` here.
 * The reference's settings ipamd does not read are checked too (reference_settings.ts).
 *
 * @module
 */
import { DEFAULT_POOL_SETTINGS, type PoolSettings } from "../pool/mod.ts";
import {
  absolutePath,
  BIND_ADDRESS,
  BOOLEAN,
  CIDR_LIST,
  ENDPOINT,
  ENI_TAGS,
  GROUP_IDS,
  IMDS_TOKEN_TTL,
  integer,
  LOG_LEVEL,
  type LogLevel,
  logTarget,
  MARK,
  NO_TAGS,
  oneOf,
  only,
  orUnset,
  type Parser,
  REQUEST_BUDGET,
  seconds,
  SUBNET_MAP,
  TEXT,
  VETH_PREFIX,
} from "./env_parsers.ts";
import { migrationFindings } from "./reference_settings.ts";
import type { LogValue } from "../../shared/mod.ts";

/** Startup stops on this; `problems` names every bad variable or flag. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid settings: ${problems.join("; ")}`);
    this.problems = Object.freeze([...problems]);
  }
}

/** One row of the settings table. */
export interface EnvRow<T> {
  /** The environment variable (or, for flag-only settings, the flag). */
  readonly name: string;
  readonly parser: Parser<T>;
  /** The default as env text; "" means unset. */
  readonly default: string;
  readonly doc: string;
  /** The `plan` or daemon flag that overrides the variable. */
  readonly flag?: string;
  /** The reference's name, where it has none or another one. */
  readonly referenceName?: string;
  /** The reference's code default, where ours differs. */
  readonly referenceDefault?: string;
}

/** Either a value or every problem found, plus warnings either way. */
export type ConfigResult<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly problems: readonly string[]; readonly warnings: readonly string[] };

/** Log levels, lower case whatever the env spelling. */
export type { LogLevel, Parser };

type Env = Readonly<Record<string, string>>;
type Values<R> = { readonly [K in keyof R]: R[K] extends EnvRow<infer T> ? T : never };
interface Findings {
  readonly problems: string[];
  readonly warnings: string[];
}

/**
 * The longest ADD_WAIT_TIMEOUT: the plugin gives ipamd 65 s for an ADD (cni/mod.ts
 * `IPAMD_DEADLINES`), within the 2 minutes kubelet gives the runtime for a sandbox.
 */
export const ADD_WAIT_MAX_S = 60;

function row<T>(spec: Omit<EnvRow<T>, "doc">, doc: string): EnvRow<T> {
  return Object.freeze({ ...spec, doc });
}

/** The pool settings, keyed by `PoolSettings` field. */
export type PoolEnvRows = {
  readonly [K in Exclude<keyof PoolSettings, "minEniAgeMs" | "decreaseIntervalMs">]: EnvRow<PoolSettings[K]>;
};

/** The pool settings' rows, keyed by `PoolSettings` field: env name, `plan` flag, parser, default. */
export const POOL_ENV: PoolEnvRows = Object.freeze({
  warmEniTarget: row(
    { name: "WARM_ENI_TARGET", parser: integer(0), default: "1", flag: "--warm-eni-target" },
    "Free ENIs to keep attached. Ignored when WARM_IP_TARGET or MINIMUM_IP_TARGET is set.",
  ),
  warmIpTarget: row(
    { name: "WARM_IP_TARGET", parser: integer(0), default: "0", flag: "--warm-ip-target" },
    "Free IPs to keep ready; 0 = unset. When it or MINIMUM_IP_TARGET is set, the ENI and prefix targets are ignored.",
  ),
  minimumIpTarget: row(
    { name: "MINIMUM_IP_TARGET", parser: integer(0), default: "0", flag: "--minimum-ip-target" },
    "IPs to hold at least, assigned or free; 0 = unset.",
  ),
  maxEni: row(
    { name: "MAX_ENI", parser: orUnset(integer(1), 0), default: "", flag: "--max-eni" },
    "Most ENIs to attach, at least 1 when set; unset = the instance limit.",
  ),
  prefixDelegation: row(
    { name: "ENABLE_PREFIX_DELEGATION", parser: BOOLEAN, default: "false", flag: "--prefix-delegation" },
    "Assign /28 prefixes to ENIs instead of secondary IPs (Nitro instances).",
  ),
  warmPrefixTarget: row(
    {
      name: "WARM_PREFIX_TARGET",
      parser: integer(0),
      default: "1",
      flag: "--warm-prefix-target",
      referenceDefault: "0",
    },
    "Free /28 prefixes to keep with prefix delegation. If it, WARM_IP_TARGET and MINIMUM_IP_TARGET " +
      "are all 0, the pool grows only while pods wait for an IP.",
  ),
  ipCooldownMs: row(
    { name: "IP_COOLDOWN_PERIOD", parser: seconds(0), default: "30", flag: "--ip-cooldown-period" },
    "Seconds a released pod IP rests before another pod may get it.",
  ),
  customNetworking: row(
    {
      name: "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG",
      parser: BOOLEAN,
      default: "false",
      flag: "--custom-networking",
    },
    "Custom networking: new ENIs in ENI_CONFIG_SUBNETS, none of the primary ENI's addresses for pods.",
  ),
  subnetAware: row(
    {
      name: "POOL_SUBNET_AWARE",
      parser: BOOLEAN,
      default: "true",
      flag: "--subnet-aware",
      referenceName: "none (the targets ignore the subnet)",
    },
    "Spare addresses shrink as the subnets run out: 64 are left for waiting pods, a node keeps 1/16 of the rest.",
  ),
  scaleDownWindowMs: row(
    {
      name: "POOL_SCALE_DOWN_WINDOW",
      parser: orUnset(seconds(0), null),
      default: "",
      flag: "--scale-down-window",
      referenceName: "none (frees at once)",
    },
    "Seconds a demand peak keeps the pool from shrinking below it; 0 shrinks as soon as the targets allow; " +
      "unset = 300 with WARM_ENI_TARGET, 180 with IP targets or prefix delegation.",
  ),
});

const HOST_ENV = Object.freeze({
  enableIpv4: row(
    {
      name: "ENABLE_IPv4",
      parser: only(true, "IPv4 is the only family supported"),
      default: "true",
      referenceDefault: "false",
    },
    "Give pods IPv4 addresses. Must be true.",
  ),
  enableIpv6: row(
    { name: "ENABLE_IPv6", parser: only(false, "IPv6 pods are not supported yet"), default: "false" },
    "Give pods IPv6 addresses. Not supported yet, so it must be false.",
  ),
  eniMtu: row({ name: "AWS_VPC_ENI_MTU", parser: integer(576, 9001), default: "9001" }, "MTU of the ENIs."),
  podMtu: row(
    { name: "POD_MTU", parser: orUnset(integer(576, 9001), null), default: "" },
    "MTU of pod interfaces; unset = AWS_VPC_ENI_MTU.",
  ),
  vethPrefix: row(
    { name: "AWS_VPC_K8S_CNI_VETHPREFIX", parser: VETH_PREFIX, default: "eni" },
    "Prefix of host-side veth names.",
  ),
  externalSnat: row(
    { name: "AWS_VPC_K8S_CNI_EXTERNALSNAT", parser: BOOLEAN, default: "false" },
    "Leave SNAT of traffic leaving the VPC to a NAT device instead of the node.",
  ),
  excludeSnatCidrs: row(
    { name: "AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS", parser: CIDR_LIST, default: "" },
    "Destinations outside the VPC that pod traffic reaches without SNAT.",
  ),
  randomizeSnat: row(
    { name: "AWS_VPC_K8S_CNI_RANDOMIZESNAT", parser: oneOf(["prng", "hashrandom", "none"]), default: "prng" },
    "SNAT source ports: prng (--random-fully), hashrandom (--random) or none.",
  ),
  nodePortSupport: row(
    { name: "AWS_VPC_CNI_NODE_PORT_SUPPORT", parser: BOOLEAN, default: "true" },
    "Send NodePort replies back out of the primary ENI (connmark rules).",
  ),
  connmark: row(
    { name: "AWS_VPC_K8S_CNI_CONNMARK", parser: MARK, default: "0x80" },
    "Connection mark of the NodePort rules.",
  ),
  externalServiceCidrs: row(
    { name: "AWS_EXTERNAL_SERVICE_CIDRS", parser: CIDR_LIST, default: "" },
    "Destinations outside the VPC that pods on secondary ENIs reach through the main routing table.",
  ),
  checkpointPath: row(
    {
      name: "AWS_VPC_K8S_CNI_BACKING_STORE",
      parser: absolutePath(),
      default: "/var/run/aws-node/ipam.json",
      flag: "--checkpoint",
    },
    "File where ipamd keeps IP assignments across restarts.",
  ),
  logLevel: row(
    { name: "AWS_VPC_K8S_CNI_LOGLEVEL", parser: LOG_LEVEL, default: "DEBUG" },
    "ipamd log level.",
  ),
  logFile: row(
    {
      name: "AWS_VPC_K8S_CNI_LOG_FILE",
      parser: logTarget(["stdout", "stderr"]),
      default: "stderr",
      referenceDefault: "/host/var/log/aws-routed-eni/ipamd.log",
    },
    "Where ipamd logs; stderr goes to the journal under systemd.",
  ),
  pluginLogFile: row(
    {
      name: "AWS_VPC_K8S_PLUGIN_LOG_FILE",
      parser: logTarget(["stderr"]),
      default: "/var/log/aws-routed-eni/plugin.log",
    },
    "Where the CNI plugin logs.",
  ),
  pluginLogLevel: row(
    { name: "AWS_VPC_K8S_PLUGIN_LOG_LEVEL", parser: LOG_LEVEL, default: "DEBUG" },
    "CNI plugin log level.",
  ),
  conflistVersion: row(
    {
      name: "CNI_CONFLIST_VERSION",
      parser: oneOf(["0.4.0", "1.0.0", "1.1.0"]),
      default: "1.0.0",
      referenceName: "none (0.4.0, fixed)",
    },
    "cniVersion of the conflist ipamd writes. 1.1.0 lets the runtime call GC and STATUS, and needs one built " +
      "on libcni 1.2 or later; containerd 1.6 and 1.7 load 1.0.0 at most.",
  ),
  introspectionBindAddress: row(
    { name: "INTROSPECTION_BIND_ADDRESS", parser: BIND_ADDRESS, default: "127.0.0.1:61679" },
    "Where the introspection HTTP endpoint listens.",
  ),
  disableIntrospection: row(
    { name: "DISABLE_INTROSPECTION", parser: BOOLEAN, default: "false" },
    "Turn the introspection endpoint off.",
  ),
  metricsBindAddress: row(
    {
      name: "METRICS_BIND_ADDRESS",
      parser: BIND_ADDRESS,
      default: "127.0.0.1:61678",
      referenceName: "none (port 61678, fixed)",
    },
    "Where the Prometheus metrics endpoint listens.",
  ),
  disableMetrics: row(
    { name: "DISABLE_METRICS", parser: BOOLEAN, default: "false" },
    "Turn the metrics endpoint off.",
  ),
  disableProvisioning: row(
    { name: "DISABLE_NETWORK_RESOURCE_PROVISIONING", parser: BOOLEAN, default: "false" },
    "Never create, attach or grow ENIs; use only what the node already has.",
  ),
  disableLeakedEniCleanup: row(
    { name: "DISABLE_LEAKED_ENI_CLEANUP", parser: BOOLEAN, default: "false" },
    "Do not delete detached ENIs that this cluster's nodes left behind.",
  ),
  additionalEniTags: row(
    { name: "ADDITIONAL_ENI_TAGS", parser: orUnset(ENI_TAGS, NO_TAGS), default: "" },
    'Extra tags on ENIs ipamd creates, as a JSON object; keys containing "k8s.amazonaws.com" are dropped.',
  ),
  eniConfigSubnets: row(
    { name: "ENI_CONFIG_SUBNETS", parser: SUBNET_MAP, default: "", referenceName: "none (ENIConfig)" },
    "Custom networking's pod subnet: one subnet ID, or zone=subnet-ID pairs; the node's zone picks its entry.",
  ),
  eniConfigSecurityGroups: row(
    { name: "ENI_CONFIG_SECURITY_GROUPS", parser: GROUP_IDS, default: "", referenceName: "none (ENIConfig)" },
    "Custom networking's security groups for new ENIs; unset = the primary ENI's.",
  ),
  subnetDiscovery: row(
    { name: "ENABLE_SUBNET_DISCOVERY", parser: BOOLEAN, default: "true" },
    "New ENIs go to the zone's subnet tagged kubernetes.io/role/cni=1, or the primary's, with most free addresses.",
  ),
  clusterName: row(
    { name: "CLUSTER_NAME", parser: TEXT, default: "" },
    "Cluster name, for ENI tags and the leaked-ENI filter.",
  ),
  ec2Endpoint: row(
    { name: "AWS_EC2_ENDPOINT", parser: orUnset(ENDPOINT, null), default: "" },
    "EC2 endpoint URL; unset = the regional default.",
  ),
  httpTimeoutMs: row(
    { name: "HTTP_TIMEOUT", parser: seconds(10), default: "10" },
    "Seconds an EC2 or IMDS request may take.",
  ),
  ec2EndpointUrl: row(
    { name: "AWS_ENDPOINT_URL_EC2", parser: orUnset(ENDPOINT, null), default: "" },
    "The AWS SDK's own EC2 endpoint variable; AWS_EC2_ENDPOINT wins when both are set.",
  ),
  imdsEndpoint: row(
    { name: "AWS_EC2_METADATA_SERVICE_ENDPOINT", parser: ENDPOINT, default: "http://169.254.169.254" },
    "Where the instance metadata service (IMDS) answers.",
  ),
  imdsAllowV1: row(
    {
      name: "IMDS_ALLOW_V1",
      parser: BOOLEAN,
      default: "false",
      referenceName: "none (the SDK falls back to IMDSv1)",
    },
    "Fall back to token-less IMDSv1 reads when IMDS refuses to issue an IMDSv2 session token.",
  ),
  imdsTokenTtlMs: row(
    { name: "IMDS_TOKEN_TTL", parser: IMDS_TOKEN_TTL, default: "21600", referenceName: "none (6 h)" },
    "Seconds an IMDSv2 session token lives; it is renewed before it expires.",
  ),
  ec2RequestBudget: row(
    { name: "EC2_REQUEST_BUDGET", parser: REQUEST_BUDGET, default: "", referenceName: "none" },
    "Client-side token buckets per EC2 action category, over AWS's documented sizes " +
      "(e.g. mutating=50/5,CreateNetworkInterface=100/5); off turns them off.",
  ),
  ec2ThrottleRetries: row(
    {
      name: "EC2_THROTTLE_RETRIES",
      parser: integer(0, 20),
      default: "5",
      referenceName: "none (SDK default: 3 attempts)",
    },
    "Retries of a throttled EC2 request, with exponential back-off and jitter, before the pool loop holds growth.",
  ),
  nodeReconcileIntervalMs: row(
    {
      name: "NODE_RECONCILE_INTERVAL",
      parser: seconds(1),
      default: "60",
      referenceName: "none (about 60 s)",
    },
    "Seconds between reconciliations of the pool's ENIs and addresses with IMDS and EC2.",
  ),
  leakedEniCleanupIntervalMs: row(
    { name: "LEAKED_ENI_CLEANUP_INTERVAL", parser: seconds(1), default: "3600", referenceName: "none (1 h)" },
    "Seconds between sweeps for leaked ENIs.",
  ),
  leakedEniCleanupStartDelayMs: row(
    {
      name: "LEAKED_ENI_CLEANUP_START_DELAY",
      parser: seconds(0),
      default: "300",
      referenceName: "none (random, up to 300 s)",
    },
    "The first leaked-ENI sweep waits a random time of up to this many seconds.",
  ),
  leakedEniMinAgeMs: row(
    { name: "LEAKED_ENI_MIN_AGE", parser: seconds(0), default: "300", referenceName: "none (5 min)" },
    "Seconds since creation (createdAt tag) before a leaked ENI is deleted.",
  ),
  addWaitTimeoutMs: row(
    { name: "ADD_WAIT_TIMEOUT", parser: seconds(1, ADD_WAIT_MAX_S), default: "60", referenceName: "none" },
    "Seconds an ADD waits for a free IP before it fails with try again later (CNI code 11); the plugin waits 65 s.",
  ),
  reconcileIntervalMs: row(
    {
      name: "POOL_RECONCILE_INTERVAL",
      parser: seconds(1),
      default: "5",
      referenceName: "none (ipPoolMonitorInterval, 5 s)",
    },
    "Seconds between two runs of the pool loop.",
  ),
  maxPods: row(
    {
      name: "MAX_PODS",
      parser: orUnset(integer(1), null),
      default: "",
      referenceName: "none (node capacity or eni-max-pods.txt)",
    },
    "Pods the node runs at most; unset = kubelet's max pods for the instance type as EKS computes it (aws-cni max-pods).",
  ),
});

/** Every variable ipamd reads, pool settings first, for the README table and the env template. */
export const IPAMD_ENV_TABLE: readonly EnvRow<unknown>[] = Object.freeze([
  ...Object.values(POOL_ENV),
  ...Object.values(HOST_ENV),
]);

/** Where ipamd serves the CNI plugin unless `--socket` says otherwise. */
export const DEFAULT_SOCKET_PATH = "/var/run/aws-node/ipamd.sock";

const SOCKET_FLAG = row(
  { name: "--socket", parser: absolutePath(107), default: DEFAULT_SOCKET_PATH },
  "Unix socket ipamd serves the plugin on (sun_path holds 107 bytes).",
);

/** Everything ipamd needs on a host, resolved and frozen. */
export interface IpamdConfig extends Omit<Values<typeof HOST_ENV>, "podMtu"> {
  readonly pool: PoolSettings;
  /** AWS_VPC_ENI_MTU when POD_MTU is unset. */
  readonly podMtu: number;
  readonly socketPath: string;
  /** Things dropped on the way, to log at startup. */
  readonly warnings: readonly string[];
}

/** The daemon's command-line flags. */
export interface IpamdFlags {
  readonly socket?: string;
  readonly checkpoint?: string;
}

/** Parses each row from `overrides`, else `env`, else its default; problems and warnings go to `findings`. */
function readRows<R extends Readonly<Record<string, EnvRow<unknown>>>>(
  rows: R,
  sources: { env: Env; overrides: Env },
  findings: Findings,
): Values<R> {
  const values: Record<string, unknown> = {};
  for (const [key, { name, flag, parser, default: fallback }] of Object.entries(rows)) {
    const override = sources.overrides[name] ?? "";
    const label = override === "" ? name : flag ?? name;
    const text = override || sources.env[name] || fallback;
    try {
      values[key] = parser.parse(text, (message) => findings.warnings.push(`${label}: ${message}`));
    } catch (error) {
      if (!(error instanceof RangeError || error instanceof SyntaxError || error instanceof TypeError)) {
        throw error;
      }
      findings.problems.push(`${label}=${JSON.stringify(text)}: ${error.message}`);
    }
  }
  return values as Values<R>;
}

/** Reads the pool settings from `env`, with `overrides` (keyed by env name) winning; collects every problem. */
export function collectPoolSettings(env: Env, overrides: Env = {}): ConfigResult<PoolSettings> {
  const findings: Findings = { problems: [], warnings: [] };
  const known = Object.values(POOL_ENV).map((poolRow) => poolRow.name);
  for (const name of Object.keys(overrides).filter((name) => !known.includes(name))) {
    findings.problems.push(`Unknown pool setting "${name}"`);
  }
  const values = readRows(POOL_ENV, { env, overrides }, findings);
  const warnings = Object.freeze(findings.warnings);
  if (findings.problems.length > 0) {
    return { ok: false, problems: Object.freeze(findings.problems), warnings };
  }
  return { ok: true, value: Object.freeze({ ...DEFAULT_POOL_SETTINGS, ...values }), warnings };
}

/** Like `collectPoolSettings`, but throws one `ConfigError` naming every problem. */
export function resolvePoolSettings(env: Env, overrides: Env = {}): PoolSettings {
  const result = collectPoolSettings(env, overrides);
  if (!result.ok) throw new ConfigError(result.problems);
  return result.value;
}

/** The pool settings from `env` alone; throws one `ConfigError` naming every bad variable. */
export function parsePoolSettings(env: Env): PoolSettings {
  return resolvePoolSettings(env);
}

function splitHostPort(address: string): [string, string] {
  const colon = address.lastIndexOf(":");
  return [address.slice(0, colon), address.slice(colon + 1)];
}

/** Two listeners cannot share a port on the same (or the wildcard) address. */
function checkListeners(host: Values<typeof HOST_ENV>, findings: Findings): void {
  const [a, b] = [host.introspectionBindAddress, host.metricsBindAddress];
  if (host.disableIntrospection || host.disableMetrics || a === undefined || b === undefined) return;
  const [[hostA, portA], [hostB, portB]] = [splitHostPort(a), splitHostPort(b)];
  if (portA === portB && (hostA === hostB || hostA === "0.0.0.0" || hostB === "0.0.0.0")) {
    findings.problems.push(
      `INTROSPECTION_BIND_ADDRESS="${a}" and METRICS_BIND_ADDRESS="${b}" cannot share a port`,
    );
  }
}

/** Resolves everything ipamd needs from the env and its flags; throws one `ConfigError` naming every problem. */
export function parseIpamdConfig(env: Env, flags: IpamdFlags = {}): IpamdConfig {
  const findings: Findings = { problems: [], warnings: [] };
  const pool = readRows(POOL_ENV, { env, overrides: {} }, findings);
  const checkpoint = { [HOST_ENV.checkpointPath.name]: flags.checkpoint ?? "" };
  const host = readRows(HOST_ENV, { env, overrides: checkpoint }, findings);
  const socket = { [SOCKET_FLAG.name]: flags.socket ?? "" };
  const { socketPath } = readRows({ socketPath: SOCKET_FLAG }, { env: socket, overrides: {} }, findings);
  checkListeners(host, findings);
  if (pool.customNetworking && Object.keys(host.eniConfigSubnets).length === 0) {
    findings.problems.push(
      `AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG="${env.AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG}" needs ENI_CONFIG_SUBNETS`,
    );
  }
  const migration = migrationFindings(env, IPAMD_ENV_TABLE);
  findings.problems.push(...migration.problems);
  findings.warnings.push(...migration.warnings);
  if (findings.problems.length > 0) throw new ConfigError(findings.problems);
  return Object.freeze({
    ...host,
    podMtu: host.podMtu ?? host.eniMtu,
    pool: Object.freeze({ ...DEFAULT_POOL_SETTINGS, ...pool }),
    socketPath,
    warnings: Object.freeze(findings.warnings),
  });
}

/** A plain, unfrozen copy of `config` for the startup log line, as JSON data (nothing in it is secret). */
export function describeConfig(config: IpamdConfig): { readonly [key: string]: LogValue } {
  return JSON.parse(JSON.stringify({ ...config, connmark: `0x${config.connmark.toString(16)}` }));
}
