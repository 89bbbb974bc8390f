/**
 * The plugin's one config reader: stdin bytes to a fully resolved `NetConf`,
 * with defaults and every problem reported together (code 7). Undecodable
 * input is code 6; an unsupported `cniVersion` is code 1.
 *
 * @module
 */
import { CNI_VERSIONS, CniError, CniErrorCode, LOG_LEVELS, type LogLevel } from "../shared/mod.ts";
import { type CniResult, parseResult } from "./result.ts";

/** A spec version the plugin speaks. */
export type CniVersion = typeof CNI_VERSIONS[number];

/** The newest spec version, used for errors when the request names none we speak. */
export const LATEST_VERSION: CniVersion = "1.1.0";

/** One attachment the runtime still uses (GC input). */
export interface ValidAttachment {
  readonly containerId: string;
  readonly ifName: string;
}

/** The resolved network configuration. */
export interface NetConf {
  readonly cniVersion: CniVersion;
  readonly name: string;
  readonly type: string;
  readonly mtu: number;
  readonly vethPrefix: string;
  readonly ipamdSocket: string;
  readonly pluginLogFile: string;
  readonly pluginLogLevel: LogLevel;
  readonly prevResult?: CniResult;
  /** GC only: `cni.dev/valid-attachments` (or the older `cni.dev/attachments`). */
  readonly validAttachments?: readonly ValidAttachment[];
}

/** Defaults of the optional keys. */
export const NETCONF_DEFAULTS = {
  mtu: 9001,
  vethPrefix: "eni",
  ipamdSocket: "/var/run/aws-node/ipamd.sock",
  pluginLogFile: "/var/log/aws-routed-eni/plugin.log",
  pluginLogLevel: "info",
} as const;

const MTU_MIN = 576;
const MTU_MAX = 9001;
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$/;

/** Parses stdin as a JSON object; anything else is a code-6 error. */
export function decodeConfig(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    const why = error instanceof SyntaxError ? error.message : "not UTF-8";
    throw new CniError(CniErrorCode.DECODE_FAILURE, "Cannot decode the network configuration", {
      details: why,
      cause: error,
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CniError(CniErrorCode.DECODE_FAILURE, "Cannot decode the network configuration", {
      details: "expected a JSON object",
    });
  }
  return value as Record<string, unknown>;
}

/** The config's `cniVersion` if it is one we speak, else a code-1 (or code-7 when absent) error. */
export function configVersion(config: Readonly<Record<string, unknown>>): CniVersion {
  const version = config["cniVersion"];
  if (version === undefined || version === "") {
    throw new CniError(CniErrorCode.INVALID_CONFIG, "Invalid network configuration: cniVersion is required");
  }
  const known = CNI_VERSIONS.find((v) => v === version);
  if (known !== undefined) return known;
  throw new CniError(
    CniErrorCode.INCOMPATIBLE_VERSION,
    `Incompatible CNI version ${JSON.stringify(version)}`,
    {
      details: `the plugin supports ${CNI_VERSIONS.join(", ")}`,
    },
  );
}

type Reader<T> = (value: unknown) => T;

function stringOf(check: (text: string) => string | undefined): Reader<string> {
  return (value) => {
    if (typeof value !== "string") throw new TypeError("must be a string");
    const problem = check(value);
    if (problem !== undefined) throw new TypeError(problem);
    return value;
  };
}

function readMtu(value: unknown): number {
  const mtu = typeof value === "string" && /^\d{1,5}$/.test(value) ? Number(value) : value;
  if (typeof mtu !== "number" || !Number.isInteger(mtu) || mtu < MTU_MIN || mtu > MTU_MAX) {
    throw new RangeError(`must be an integer from ${MTU_MIN} to ${MTU_MAX}`);
  }
  return mtu;
}

function readLogLevel(value: unknown): LogLevel {
  const level = typeof value === "string" ? value.toLowerCase() : undefined;
  const known = LOG_LEVELS.find((l) => l === (level === "warning" ? "warn" : level));
  if (known === undefined) throw new TypeError(`must be one of ${LOG_LEVELS.join(", ")}`);
  return known;
}

function readAttachments(value: unknown): ValidAttachment[] {
  if (!Array.isArray(value)) throw new TypeError("must be an array");
  return value.map((entry, i) => {
    const containerId = (entry as Record<string, unknown> | null)?.["containerID"];
    const ifName = (entry as Record<string, unknown> | null)?.["ifname"];
    if (typeof containerId !== "string" || typeof ifName !== "string") {
      throw new TypeError(`entry ${i} must have string "containerID" and "ifname"`);
    }
    return { containerId, ifName };
  });
}

/** Resolves a decoded config whose version passed `configVersion`; every problem makes one code-7 error. */
export function resolveNetConf(config: Readonly<Record<string, unknown>>, cniVersion: CniVersion): NetConf {
  const problems: string[] = [];
  const read = <T>(key: string, reader: Reader<T>, fallback: T): T => {
    const value = config[key];
    if (value === undefined) return fallback;
    try {
      return reader(value);
    } catch (error) {
      problems.push(`${key} ${(error as Error).message}`);
      return fallback;
    }
  };
  const required = (key: string, check: (text: string) => string | undefined): string => {
    if (config[key] === undefined) problems.push(`${key} is required`);
    return read(key, stringOf(check), "");
  };
  const name = required(
    "name",
    (v) =>
      NETWORK_NAME.test(v) && v.length <= 253
        ? undefined
        : "must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (at most 253)",
  );
  const type = required("type", (v) => v === "" ? "must not be empty" : undefined);
  const mtu = read("mtu", readMtu, NETCONF_DEFAULTS.mtu);
  const vethPrefix = read(
    "vethPrefix",
    stringOf((v) =>
      /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,3}$/.test(v)
        ? undefined
        : "must be 1 to 4 of [a-zA-Z0-9_-], not starting with -"
    ),
    NETCONF_DEFAULTS.vethPrefix,
  );
  const ipamdSocket = read(
    "ipamdSocket",
    stringOf((v) => v.startsWith("/") && !v.endsWith("/") ? undefined : "must be an absolute file path"),
    NETCONF_DEFAULTS.ipamdSocket,
  );
  const pluginLogFile = read(
    "pluginLogFile",
    stringOf((v) =>
      v === "" || v === "stderr" || (v.startsWith("/") && !v.endsWith("/") && !v.split("/").includes(".."))
        ? undefined
        : 'must be "stderr" or an absolute file path without ".."'
    ),
    NETCONF_DEFAULTS.pluginLogFile,
  );
  const pluginLogLevel = read("pluginLogLevel", readLogLevel, NETCONF_DEFAULTS.pluginLogLevel);
  const prevResult = read<CniResult | undefined>("prevResult", parseResult, undefined);
  const attachmentsKey = config["cni.dev/valid-attachments"] !== undefined
    ? "cni.dev/valid-attachments"
    : "cni.dev/attachments";
  const validAttachments = read<ValidAttachment[] | undefined>(attachmentsKey, readAttachments, undefined);
  if (problems.length > 0) {
    throw new CniError(CniErrorCode.INVALID_CONFIG, `Invalid network configuration: ${problems.join("; ")}`);
  }
  return {
    cniVersion,
    name,
    type,
    mtu,
    vethPrefix,
    ipamdSocket,
    pluginLogFile,
    pluginLogLevel,
    ...(prevResult === undefined ? {} : { prevResult }),
    ...(validAttachments === undefined ? {} : { validAttachments }),
  };
}
