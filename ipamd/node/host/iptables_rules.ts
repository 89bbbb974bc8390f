/**
 * The iptables rules ipamd owns, as data, and the `iptables-restore --noflush`
 * text that turns what `iptables-save` shows into them. Ours are the chains
 * `AWS-SNAT-CHAIN-<n>` and `AWS-CONNMARK-CHAIN-<n>`, and the rules in other
 * chains that carry one of our comments or jump to one of our chains; anything
 * else is left alone. Rules are written in the form `iptables-save` prints
 * them (`--set-xmark`, `--nfmask/--ctmask`), so an unchanged node compares
 * equal and needs no write.
 *
 * @module
 */
import { hex } from "./eni_plan.ts";
import type { HostSetup } from "./types.ts";

/** The SNAT chain: RETURN for in-VPC and excluded destinations, then SNAT. */
export const SNAT_CHAIN = "AWS-SNAT-CHAIN-0";
/** The connmark chain: RETURN for in-VPC and excluded destinations, then mark. */
export const CONNMARK_CHAIN = "AWS-CONNMARK-CHAIN-0";

const OWNED_CHAIN = /^AWS-(SNAT|CONNMARK)-CHAIN-[0-9]+$/;
const COMMENTS = {
  snatJump: "AWS SNAT CHAIN",
  snatExclusion: "AWS SNAT CHAIN EXCLUSION",
  snat: "AWS, SNAT",
  outbound: "AWS, outbound connections",
  connmark: "AWS, CONNMARK",
  connmarkVpc: "AWS CONNMARK CHAIN, VPC CIDR",
  connmarkExcluded: "AWS CONNMARK CHAIN, EXCLUDED CIDR",
  primaryEni: "AWS, primary ENI",
} as const;
/** Comments that mark a rule in a chain we do not own as ours. */
const OWNED_COMMENTS: ReadonlySet<string> = new Set([
  COMMENTS.snatJump,
  COMMENTS.outbound,
  COMMENTS.connmark,
  COMMENTS.primaryEni,
]);

/** One rule: its chain and the words after `-A <chain>`. */
export interface IptablesRule {
  readonly chain: string;
  readonly spec: readonly string[];
}

/** The rules and user chains of one table, in order. */
export interface TableRules {
  /** User-defined chains that should exist (ours only in a desired table). */
  readonly chains: readonly string[];
  readonly rules: readonly IptablesRule[];
}

/** What the iptables rules depend on: the host settings they read. */
export type IptablesTarget = Pick<
  HostSetup,
  | "primaryIf"
  | "primaryIp"
  | "vpcCidrs"
  | "excludeSnatCidrs"
  | "externalSnat"
  | "randomizeSnat"
  | "nodePortSupport"
  | "connmark"
  | "vethPrefix"
>;

/** The tables we write, in write order. */
export const TABLES = ["mangle", "nat"] as const;
/** One of `TABLES`. */
export type TableName = typeof TABLES[number];

function comment(text: string): string[] {
  return ["-m", "comment", "--comment", text];
}

/** The wanted rules per table. */
export function desiredRules(t: IptablesTarget): Record<TableName, TableRules> {
  const mark = hex(t.connmark);
  const veths = `${t.vethPrefix}+`;
  const restore = ["-j", "CONNMARK", "--restore-mark", "--nfmask", mark, "--ctmask", mark];
  const mangle: IptablesRule[] = t.nodePortSupport
    ? [
      {
        chain: "PREROUTING",
        spec: [
          "-i",
          t.primaryIf,
          ...comment(COMMENTS.primaryEni),
          ...["-m", "addrtype", "--dst-type", "LOCAL", "--limit-iface-in"],
          ...["-j", "CONNMARK", "--set-xmark", `${mark}/${mark}`],
        ],
      },
      { chain: "PREROUTING", spec: ["-i", veths, ...comment(COMMENTS.primaryEni), ...restore] },
    ]
    : [];
  if (t.externalSnat) return { mangle: { chains: [], rules: mangle }, nat: { chains: [], rules: [] } };

  const cidrs = [
    ...t.vpcCidrs.map((cidr) => ({ cidr, excluded: false })),
    ...t.excludeSnatCidrs.filter((cidr) => !t.vpcCidrs.includes(cidr)).map((cidr) => ({
      cidr,
      excluded: true,
    })),
  ];
  const random = t.randomizeSnat === "prng"
    ? ["--random-fully"]
    : t.randomizeSnat === "hashrandom"
    ? ["--random"]
    : [];
  const nat: IptablesRule[] = [
    { chain: "PREROUTING", spec: ["-i", veths, ...comment(COMMENTS.outbound), "-j", CONNMARK_CHAIN] },
    { chain: "PREROUTING", spec: [...comment(COMMENTS.connmark), ...restore] },
    { chain: "POSTROUTING", spec: [...comment(COMMENTS.snatJump), "-j", SNAT_CHAIN] },
    ...cidrs.map(({ cidr, excluded }) => ({
      chain: CONNMARK_CHAIN,
      spec: [
        "-d",
        cidr,
        ...comment(excluded ? COMMENTS.connmarkExcluded : COMMENTS.connmarkVpc),
        "-j",
        "RETURN",
      ],
    })),
    {
      chain: CONNMARK_CHAIN,
      spec: [...comment(COMMENTS.connmark), "-j", "CONNMARK", "--set-xmark", `${mark}/${mark}`],
    },
    ...cidrs.map(({ cidr, excluded }) => ({
      chain: SNAT_CHAIN,
      spec: ["-d", cidr, ...comment(excluded ? COMMENTS.snatExclusion : COMMENTS.snatJump), "-j", "RETURN"],
    })),
    {
      chain: SNAT_CHAIN,
      spec: [
        ...["!", "-o", "vlan+"],
        ...comment(COMMENTS.snat),
        ...["-m", "addrtype", "!", "--dst-type", "LOCAL"],
        ...["-j", "SNAT", "--to-source", t.primaryIp, ...random],
      ],
    },
  ];
  return { mangle: { chains: [], rules: mangle }, nat: { chains: [CONNMARK_CHAIN, SNAT_CHAIN], rules: nat } };
}

/** Splits one `iptables-save` line into words, honouring double quotes and backslash escapes. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let quoted = false;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "\\" && i + 1 < line.length) {
      word += line[++i];
      started = true;
    } else if (c === '"') {
      quoted = !quoted;
      started = true;
    } else if (!quoted && /\s/.test(c)) {
      if (started) words.push(word);
      word = "";
      started = false;
    } else {
      word += c;
      started = true;
    }
  }
  if (quoted) throw new SyntaxError(`Cannot parse iptables-save line: unbalanced quote: ${line}`);
  if (started) words.push(word);
  return words;
}

/** Parses the `iptables-save -t <table>` output of one table. */
export function parseSave(text: string, table: string): TableRules {
  const chains: string[] = [];
  const rules: IptablesRule[] = [];
  let inTable = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("*")) {
      inTable = line.slice(1) === table;
    } else if (line === "COMMIT") {
      inTable = false;
    } else if (inTable && line.startsWith(":")) {
      const [name = "", policy] = line.slice(1).split(/\s+/);
      if (policy === "-") chains.push(name);
    } else if (inTable && line.startsWith("-A ")) {
      const [, chain = "", ...spec] = splitWords(line);
      rules.push({ chain, spec });
    }
  }
  return { chains, rules };
}

/** Whether a rule in a chain we do not own is ours. */
function ownedElsewhere(rule: IptablesRule): boolean {
  const spec = rule.spec;
  for (let i = 0; i < spec.length - 1; i++) {
    if (spec[i] === "--comment" && OWNED_COMMENTS.has(spec[i + 1]!)) return true;
    if ((spec[i] === "-j" || spec[i] === "-g") && OWNED_CHAIN.test(spec[i + 1]!)) return true;
  }
  return false;
}

function quote(word: string): string {
  return /^[A-Za-z0-9_.:/+!,=@%-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, "\\$1")}"`;
}

function line(op: "-A" | "-D", rule: IptablesRule): string {
  return [op, rule.chain, ...rule.spec].map(quote).join(" ");
}

function rulesOf(
  rules: readonly IptablesRule[],
  chain: string,
  owned: (r: IptablesRule) => boolean,
): string[] {
  return rules.filter((r) => r.chain === chain && owned(r)).map((r) => line("-A", r));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The `iptables-restore --noflush` block (`*<table>` … `COMMIT`) that turns
 * `current` into `desired` for our rules, or null when nothing differs. Other
 * chains keep their foreign rules; ours are deleted and appended again, in
 * order, only in chains whose list of our rules changed. Chains of ours that
 * differ are declared (which flushes them) and refilled; stale ones are
 * flushed and deleted.
 */
export function planRestore(table: string, current: TableRules, desired: TableRules): string | null {
  const everyAll = (_: IptablesRule) => true;
  const ownedCurrent = current.chains.filter((c) => OWNED_CHAIN.test(c));
  const rewrite = desired.chains.filter((c) =>
    !ownedCurrent.includes(c) ||
    !sameList(rulesOf(current.rules, c, everyAll), rulesOf(desired.rules, c, everyAll))
  );
  const drop = ownedCurrent.filter((c) => !desired.chains.includes(c));
  const foreignChains = [
    ...new Set([...current.rules, ...desired.rules].map((r) => r.chain).filter((c) => !OWNED_CHAIN.test(c))),
  ];
  const rewriteForeign = foreignChains.filter((c) =>
    !sameList(rulesOf(current.rules, c, ownedElsewhere), rulesOf(desired.rules, c, everyAll))
  );
  if (rewrite.length + drop.length + rewriteForeign.length === 0) return null;

  const lines = [`*${table}`];
  for (const c of [...rewrite, ...drop]) lines.push(`:${c} - [0:0]`);
  for (const c of rewriteForeign) {
    for (const r of current.rules) if (r.chain === c && ownedElsewhere(r)) lines.push(line("-D", r));
  }
  for (const c of rewriteForeign) {
    for (const r of desired.rules) if (r.chain === c) lines.push(line("-A", r));
  }
  for (const c of rewrite) {
    for (const r of desired.rules) if (r.chain === c) lines.push(line("-A", r));
  }
  for (const c of drop) lines.push(`-X ${c}`);
  lines.push("COMMIT");
  return lines.join("\n") + "\n";
}
