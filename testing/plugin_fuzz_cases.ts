/**
 * Hostile plugin invocations, the one generator of every plugin fuzz test: each
 * breaks one thing in an otherwise valid call (stdin bytes, JSON shape and
 * depth, a netconf field's type or value, a huge value, an env var with path
 * tricks, option-like names, unicode or random characters) and names the CNI
 * error code it must produce.
 *
 * @module
 */
import { mulberry32 as prng } from "../sim/ec2/random.ts";

/** One hostile invocation. */
export interface FuzzCase {
  readonly label: string;
  readonly env: Record<string, string>;
  readonly stdin: Uint8Array;
  /** The code it must produce; null when any input-error code (1, 4, 6, 7) will do. */
  readonly code: number | null;
}

/** Where the otherwise valid parts point. */
export interface FuzzTarget {
  /** An existing pod namespace. */
  readonly netns: string;
  readonly socket: string;
  readonly logFile: string;
}

const VALID_PREV = {
  cniVersion: "1.0.0",
  interfaces: [{ name: "eni1" }, { name: "eth0", sandbox: "/x" }],
  ips: [{ address: "10.0.0.9/32", interface: 1 }],
};

const HUGE = "x".repeat(2_000_000);
const UNICODE = ["\u202eeth0", "e\u0301", "\u{1f4a5}", "\u200b", "\ufeff", "\u0000", "\ud800", "名前"];

/** Invalid values per netconf field: [field, value, code]. */
const BAD_FIELDS: readonly [string, unknown, number][] = [
  ...[42, null, true, [], {}, "", "-lead", "a b", "é", "a/b", HUGE, ...UNICODE].map((v) =>
    ["name", v, 7] as [string, unknown, number]
  ),
  ...[[], {}, 1, "", null, true].map((v) => ["type", v, 7] as [string, unknown, number]),
  ...[575, 9002, "nine", 1500.5, -1, 1e308, -0.5, [], {}, true, null, HUGE].map((v) =>
    ["mtu", v, 7] as [string, unknown, number]
  ),
  ...["toolong", "a/b", "", "-n", "-", "é", "a b", 1, null, [], ...UNICODE].map((v) =>
    ["vethPrefix", v, 7] as [string, unknown, number]
  ),
  ...["relative.sock", 7, "", "/", null, [], "-n", "../ipamd.sock", `/${HUGE}/`].map((v) =>
    ["ipamdSocket", v, 7] as [string, unknown, number]
  ),
  ...[{}, 1, "rel.log", "/a/../../etc/shadow", "/dir/", null, [], "-"].map((v) =>
    ["pluginLogFile", v, 7] as [string, unknown, number]
  ),
  ...["loud", 3, null, [], {}, "DEBUG\u0000"].map((v) =>
    ["pluginLogLevel", v, 7] as [string, unknown, number]
  ),
  ...["x", 5, [], { interfaces: [{}] }, { ips: [{ address: "10.0.0.1/32", interface: -1 }] }, {
    routes: "none",
  }, { ips: [{ address: HUGE }] }].map((v) => ["prevResult", v, 7] as [string, unknown, number]),
  ...["0.3.1", "0.1.0", "2.0.0", "1.0", "v1.0.0", 1, true, null, "1.0.0\u0000", "1.0.0 ", HUGE].map((v) =>
    ["cniVersion", v, 1] as [string, unknown, number]
  ),
];

const BAD_IFNAMES = [
  "-n",
  "--help",
  "-",
  "-netns",
  "a".repeat(16),
  ".",
  "..",
  "a/b",
  "eth 0",
  "eth\t0",
  "e:0",
  'e"0',
  "e#0",
  "e\\0",
  "e\u00010",
  "é",
  ...UNICODE.filter((u) => u !== "\u0000"),
];
const BAD_CONTAINER_IDS = [
  "-x",
  "--",
  "-rf",
  ".x",
  "a b",
  "a/b",
  "a;b",
  "é",
  "a\nb",
  "x".repeat(1025),
  "$(id)",
  "`id`",
];
const BAD_COMMANDS = ["", "add", "DELETE", "VERSIONS", "ADD ", "ADD\u0000", "-n", "--help", "\u202eADD"];
const BAD_CNI_ARGS = [
  "K8S_POD_NAME",
  "=x",
  `K8S_POD_NAME=${"x".repeat(1025)}`,
  "a=b;;c=d",
  `A=${"y".repeat(65 * 1024)}`,
];

function badNetns(netns: string): string[] {
  return [
    "",
    "relative/ns",
    "-n",
    "/var/run/netns/does-not-exist",
    "/a b",
    "/x/../y",
    `${netns}/..`,
    `${netns} `,
    `${netns}\u0000`,
    "/proc/self/ns/net",
    "/proc/1/ns/net",
    "/dev/null",
    "/etc/passwd",
    "/run/netns/../../etc/shadow",
    "/" + "a/".repeat(3000),
  ];
}

/** Builds `count` cases from `seed`. */
export function hostileCases(count: number, seed: number, target: FuzzTarget): FuzzCase[] {
  const rand = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  /** `length` random characters below U+0250 (Latin, controls, symbols). */
  const junk = (length: number): string =>
    Array.from({ length }, () => String.fromCharCode(Math.floor(rand() * 0x250))).join("");
  const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
  const cases: FuzzCase[] = [];
  for (let i = 0; cases.length < count; i++) {
    const verb = pick(["ADD", "DEL", "CHECK", "GC", "STATUS"]);
    const v110 = verb === "GC" || verb === "STATUS";
    const conf: Record<string, unknown> = {
      cniVersion: v110 ? "1.1.0" : pick(["0.4.0", "1.0.0", "1.1.0"]),
      name: "aws-cni",
      type: "aws-cni",
      ipamdSocket: target.socket,
      pluginLogFile: target.logFile,
      ...(verb === "CHECK" ? { prevResult: VALID_PREV } : {}),
    };
    const env: Record<string, string> = v110 ? { CNI_COMMAND: verb, CNI_PATH: "/opt/cni/bin" } : {
      CNI_COMMAND: verb,
      CNI_CONTAINERID: `fuzz${i}`,
      CNI_NETNS: target.netns,
      CNI_IFNAME: "eth0",
      CNI_PATH: "/opt/cni/bin",
      CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=fuzz",
    };
    const add = (label: string, code: number | null, stdin = enc(JSON.stringify(conf))) =>
      cases.push({ label, env, stdin, code });
    const kind = Math.floor(rand() * 10);
    if (kind === 0) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(rand() * 256) }, () => Math.floor(rand() * 256));
      bytes[0] = pick([0x00, 0xff, 0x5b, 0x22, 0x7b, 0xef, 0x2d]); // never a digit: never a bare JSON number
      add("random bytes", null, bytes);
    } else if (kind === 1) {
      const text = JSON.stringify(conf);
      add("truncated JSON", 6, enc(text.slice(0, Math.floor(rand() * (text.length - 1)))));
    } else if (kind === 2) {
      const depth = pick([100, 5_000, 100_000]);
      const shape = pick(
        [
          ["not an object", pick(["[]", "1", '"x"', "null", "true", "[{}]", "1e999", '"\\ud800"'])],
          ["deep arrays", "[".repeat(depth) + "]".repeat(depth)],
          ["deep objects", '{"a":'.repeat(depth) + "1" + "}".repeat(depth)],
          ["unclosed depth", '{"a":['.repeat(depth)],
        ] as const,
      );
      add(
        `JSON ${shape[0]}`,
        shape[0] === "deep objects" || shape[0] === "deep arrays" ? null : 6,
        enc(shape[1]),
      );
    } else if (kind === 3 || kind === 4) {
      const [key, value, code] = rand() < 0.1 ? ["cniVersion", junk(6), 1] as const : pick(BAD_FIELDS);
      if (v110 && key === "cniVersion") continue;
      conf[key] = value;
      add(`netconf ${key}=${JSON.stringify(value)?.slice(0, 40)}`, code);
    } else if (kind === 5) {
      delete conf[pick(["name", "type", "cniVersion"])];
      add("netconf missing a required key", null);
    } else if (kind === 6 && !v110) {
      const which = pick(["CNI_IFNAME", "CNI_CONTAINERID", "CNI_ARGS"] as const);
      env[which] = which === "CNI_CONTAINERID" && rand() < 0.2 ? `${junk(4)}$` : pick(
        which === "CNI_IFNAME" ? BAD_IFNAMES : which === "CNI_ARGS" ? BAD_CNI_ARGS : BAD_CONTAINER_IDS,
      );
      add(`${which} ${JSON.stringify(env[which]).slice(0, 40)}`, 4);
    } else if (kind === 7 && (verb === "ADD" || verb === "CHECK")) {
      env["CNI_NETNS"] = pick(badNetns(target.netns));
      add(`CNI_NETNS ${JSON.stringify(env["CNI_NETNS"]).slice(0, 60)}`, 4);
    } else if (kind === 8) {
      env["CNI_COMMAND"] = rand() < 0.2 ? `${junk(5)}!` : pick(BAD_COMMANDS);
      add(`CNI_COMMAND ${JSON.stringify(env["CNI_COMMAND"])}`, 4);
    } else if (kind === 9) {
      if (v110) {
        conf["cniVersion"] = pick(["0.4.0", "1.0.0"]);
        if (verb === "GC") {
          conf["cni.dev/valid-attachments"] = pick(["x", [{}], [{ containerID: 1, ifname: "eth0" }]]);
        }
        add(`${verb} on an old config`, 1);
      } else {
        delete env[pick(["CNI_CONTAINERID", "CNI_IFNAME"])];
        add("a required variable unset", 4);
      }
    }
  }
  return cases;
}

/** Checks one answer: exactly one spec error document, the expected code, no trace. Returns the problem or null. */
export function errorDocumentProblem(stdout: string, status: number, fuzz: FuzzCase): string | null {
  const where = `${fuzz.label}: ${stdout.slice(0, 300)}`;
  if (status === 0) return `exit 0: ${where}`;
  const lines = stdout.split("\n").filter((l) => l !== "");
  if (lines.length !== 1) return `not one document: ${where}`;
  if (/\n\s+at |Stack backtrace|\.ts:\d+|Uncaught/.test(stdout)) return `a trace on stdout: ${where}`;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(lines[0]!);
  } catch {
    return `not JSON: ${where}`;
  }
  if (typeof doc["cniVersion"] !== "string" || typeof doc["msg"] !== "string") {
    return `not a spec error: ${where}`;
  }
  if (doc["details"] !== undefined && typeof doc["details"] !== "string") return `bad details: ${where}`;
  const code = doc["code"];
  if (fuzz.code !== null && code !== fuzz.code) return `code ${code}, expected ${fuzz.code}: ${where}`;
  if (fuzz.code === null && ![1, 4, 6, 7].includes(code as number)) {
    return `code ${code} for bad input: ${where}`;
  }
  return null;
}
