/**
 * How ipamd's environment variables are read: one small parser per kind of value,
 * each saying what it accepts (for the settings table) and throwing a RangeError,
 * SyntaxError or TypeError with the reason.
 *
 * @module
 */
import { parseCidr, parseIpv4 } from "../../shared/mod.ts";
import { parseRequestBudget, REQUEST_BUDGET_ACCEPTS } from "../cloud/mod.ts";

/** How a variable's text becomes a value. `parse` throws a RangeError, SyntaxError or TypeError with the reason. */
export interface Parser<T> {
  /** What the text may be, for the settings table. */
  readonly accepts: string;
  parse(text: string, warn: (message: string) => void): T;
}

/** ipamd's log levels. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** setTimeout cannot wait longer than 2^31 − 1 ms. */
export const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export function toInteger(text: string, min: number, max: number): number {
  if (!/^[+-]?[0-9]+$/.test(text)) throw new SyntaxError("not an integer");
  const value = Number(text) + 0; // + 0 turns -0 into 0
  if (value < 0 && min >= 0) throw new RangeError("must not be negative");
  if (value < min) throw new RangeError(`must be at least ${min}`);
  if (value > max) throw new RangeError(`must be at most ${max}`);
  return value;
}

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  const accepts = max === Number.MAX_SAFE_INTEGER ? `integer ≥ ${min}` : `integer ${min}–${max}`;
  return { accepts, parse: (text) => toInteger(text, min, max) };
}

/** Whole seconds in the env, milliseconds in the result. */
export function seconds(min: number, max = MAX_SECONDS): Parser<number> {
  return {
    accepts: `seconds ${min}–${max}`,
    parse: (text) => toInteger(text, min, max) * 1000,
  };
}

export const BOOLEAN: Parser<boolean> = {
  accepts: "true, false, 1 or 0 (any case)",
  parse(text) {
    const lower = text.toLowerCase();
    if (lower === "true" || lower === "1") return true;
    if (lower === "false" || lower === "0") return false;
    throw new SyntaxError("must be true, false, 1 or 0");
  },
};

/** A boolean that must have one value for now. */
export function only<const T extends boolean>(expected: T, reason: string): Parser<T> {
  return {
    accepts: String(expected),
    parse(text, warn) {
      if (BOOLEAN.parse(text, warn) !== expected) throw new RangeError(`must be ${expected}: ${reason}`);
      return expected;
    },
  };
}

export function oneOf<const T extends string>(values: readonly T[]): Parser<T> {
  const accepts = `${values.join(", ")} (any case)`;
  return {
    accepts,
    parse(text) {
      const found = values.find((value) => value === text.toLowerCase());
      if (found === undefined) throw new RangeError(`must be one of ${accepts}`);
      return found;
    },
  };
}

/** `unset` for "", otherwise `parser`. */
export function orUnset<T, U>(parser: Parser<T>, unset: U): Parser<T | U> {
  return { accepts: parser.accepts, parse: (text, warn) => text === "" ? unset : parser.parse(text, warn) };
}

export const TEXT: Parser<string> = { accepts: "text", parse: (text) => text };

export function absolutePath(maxBytes = 4095): Parser<string> {
  return {
    accepts: "absolute path",
    parse(text) {
      if (!text.startsWith("/") || text.includes("\0")) throw new RangeError("must be an absolute path");
      const bytes = new TextEncoder().encode(text).length;
      if (bytes > maxBytes) throw new RangeError(`must be at most ${maxBytes} bytes long`);
      return text;
    },
  };
}

/** A log destination; the plugin may not use stdout, which carries its CNI result. */
export function logTarget(streams: readonly string[]): Parser<string> {
  const path = absolutePath();
  return {
    accepts: `absolute path, ${streams.join(" or ")}`,
    parse(text, warn) {
      if (streams.includes(text)) return text;
      if (text === "stdout") throw new RangeError("cannot be stdout, which carries the CNI result");
      if (!text.startsWith("/")) throw new RangeError(`must be an absolute path or ${streams.join(" or ")}`);
      return path.parse(text, warn);
    },
  };
}

export function isCidr(text: string): boolean {
  try {
    parseCidr(text);
    return true;
  } catch {
    return false;
  }
}

export const CIDR_LIST: Parser<readonly string[]> = {
  accepts: "comma-separated IPv4 CIDRs",
  parse(text) {
    const items = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
    const bad = items.filter((item) => !isCidr(item));
    if (bad.length > 0) {
      throw new SyntaxError(
        `not IPv4 CIDRs with host bits zero: ${bad.map((item) => `"${item}"`).join(", ")}`,
      );
    }
    return Object.freeze(items);
  },
};

export const BIND_ADDRESS: Parser<string> = {
  accepts: "IPv4 address:port",
  parse(text) {
    const [, host = "", port = ""] = /^([0-9.]+):([0-9]{1,5})$/.exec(text) ?? [];
    try {
      parseIpv4(host);
    } catch {
      throw new SyntaxError("must be an IPv4 address and a port, like 127.0.0.1:61679");
    }
    if (Number(port) < 1 || Number(port) > 65535) throw new RangeError("port must be 1–65535");
    return text;
  },
};

export const MARK: Parser<number> = {
  accepts: "integer 1–0xffffffff, decimal or 0x hex",
  parse(text) {
    const value = /^(0x[0-9a-f]{1,8}|[1-9][0-9]{0,9})$/i.test(text) ? Number(text) : 0;
    if (value < 1 || value > 0xffffffff) throw new RangeError("must be 1–0xffffffff, decimal or 0x hex");
    return value;
  },
};

export const VETH_PREFIX: Parser<string> = {
  accepts: "1–4 letters, digits, - or _ (no - first); not eth, lo, vlan",
  parse(text) {
    if (!/^[A-Za-z0-9_-]{1,4}$/.test(text)) throw new RangeError("must be 1–4 letters, digits, - or _");
    if (text.startsWith("-")) throw new RangeError("must not start with - (tools read it as an option)");
    if (["eth", "lo", "vlan"].includes(text)) throw new RangeError("is reserved for host interfaces");
    return text;
  },
};

export const ENDPOINT: Parser<string> = {
  accepts: "http or https URL",
  parse(text) {
    if (!/^https?:$/.test(URL.parse(text)?.protocol ?? "")) {
      throw new SyntaxError("must be an http or https URL");
    }
    return text;
  },
};

/** EC2 tag keys hold 1–128 characters and may not start with "aws:"; values hold 256. */
export const ENI_TAGS: Parser<Readonly<Record<string, string>>> = {
  accepts: "JSON object of strings",
  parse(text, warn) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new SyntaxError("not valid JSON", { cause: error });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new TypeError("must be a JSON object");
    }
    const kept: [string, string][] = [];
    const bad: string[] = [];
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value !== "string") bad.push(`"${key}" is not a string`);
      else if (key.includes("k8s.amazonaws.com")) {
        warn(`dropped tag "${key}": "k8s.amazonaws.com" keys are reserved`);
      } else if (key === "" || [...key].length > 128) bad.push(`"${key}" must be 1–128 characters`);
      else if (key.toLowerCase().startsWith("aws:")) bad.push(`"${key}" uses the reserved "aws:" prefix`);
      else if ([...value].length > 256) bad.push(`"${key}" has a value over 256 characters`);
      else kept.push([key, value]);
    }
    if (bad.length > 0) throw new RangeError(bad.join(", "));
    return Object.freeze(Object.fromEntries(kept)); // fromEntries, so a "__proto__" key stays a key
  },
};

export const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});

/** IMDS grants session tokens of 1 to 21 600 s. */
export const IMDS_TOKEN_TTL: Parser<number> = {
  accepts: "seconds 1–21600",
  parse: (text) => toInteger(text, 1, 21_600) * 1000,
};

export const REQUEST_BUDGET: Parser<ReturnType<typeof parseRequestBudget>> = {
  accepts: REQUEST_BUDGET_ACCEPTS,
  parse: (text) => parseRequestBudget(text),
};

export const LOG_LEVEL = oneOf<LogLevel>(["debug", "info", "warn", "error"]);

const SUBNET_ID = /^subnet-[0-9a-f]{1,17}$/;

/** ENI_CONFIG_SUBNETS: one subnet for every zone (key "*"), or `zone=subnet,...`; "" is none. */
export const SUBNET_MAP: Parser<Readonly<Record<string, string>>> = {
  accepts: "a subnet ID, or zone=subnet-ID pairs, comma-separated",
  parse(text) {
    if (text === "" || SUBNET_ID.test(text)) return Object.freeze(text === "" ? {} : { "*": text });
    const pairs = text.split(",").map((item) => item.trim().split("="));
    if (pairs.some((p) => p.length !== 2 || !/^[a-z0-9-]+$/.test(p[0]!) || !SUBNET_ID.test(p[1]!))) {
      throw new SyntaxError("must be a subnet ID or zone=subnet-ID pairs, like us-east-1a=subnet-0abc");
    }
    return Object.freeze(Object.fromEntries(pairs));
  },
};

/** ENI_CONFIG_SECURITY_GROUPS: at most 5 security group IDs, as an ENI takes. */
export const GROUP_IDS: Parser<readonly string[]> = {
  accepts: "up to 5 security group IDs, comma-separated",
  parse(text) {
    const ids = text.split(",").map((item) => item.trim()).filter((item) => item !== "");
    if (ids.some((id) => !/^sg-[0-9a-f]{1,17}$/.test(id))) throw new SyntaxError("must be sg- IDs");
    if (ids.length > 5) throw new RangeError("an ENI takes at most 5 security groups");
    return Object.freeze(ids);
  },
};
