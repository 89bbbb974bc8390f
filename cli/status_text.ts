/**
 * `aws-cni status` as text: a `/v1/pool` report turned into the operator's view
 * (one ENI table, the warm-pool targets against the pool, the pending reconcile
 * action, why the pool cannot grow, the last EC2 errors). Pure: no I/O.
 *
 * @module
 */
import { formatIpv4, parseCidr } from "../shared/mod.ts";
import { GROWTH_BLOCK_TEXT, type PoolAction } from "../ipamd/pool/mod.ts";
import type { PermissionStatus } from "../ipamd/cloud/mod.ts";
import type { PoolReport } from "../ipamd/ops/mod.ts";

/** Pads cells into left-aligned columns two spaces apart. */
function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, [...cell].length));
  return rows.map((row) =>
    row.map((cell, i) => i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - [...cell].length))
      .join("  ").trimEnd() + "\n"
  ).join("");
}

/** Secondary IPs as runs ("10.0.0.5-9"), prefixes as CIDRs, cut to `max` characters. */
export function addressSummary(cidrs: readonly string[], max = 44): string {
  const parts: string[] = [];
  let run: { first: number; last: number } | null = null;
  const flush = () => {
    if (run === null) return;
    const first = formatIpv4(run.first);
    const lastText = formatIpv4(run.last);
    const sameNet = run.first >>> 8 === run.last >>> 8;
    parts.push(
      run.first === run.last ? first : `${first}-${sameNet ? lastText.split(".")[3] : lastText}`,
    );
    run = null;
  };
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (cidr.bits !== 32) {
      flush();
      parts.push(text);
    } else if (run !== null && cidr.base === run.last + 1) run.last = cidr.base;
    else {
      flush();
      run = { first: cidr.base, last: cidr.base };
    }
  }
  flush();
  if (parts.length === 0) return "-";
  let text = parts.join(", ");
  if ([...text].length > max) {
    let kept = parts.length;
    while (kept > 1 && `${parts.slice(0, kept).join(", ")}, … (+${parts.length - kept})`.length > max) kept--;
    text = `${parts.slice(0, kept).join(", ")}, … (+${parts.length - kept})`;
  }
  return text;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** One planned action in words. */
export function describeAction(action: PoolAction, prefixes: boolean): string {
  const unit = prefixes ? "prefix" : "IP";
  const units = prefixes ? "prefixes" : "IPs";
  switch (action.kind) {
    case "assign":
      return `assign ${plural(action.count, unit, units)} to ${action.eniId}`;
    case "create-eni":
      return `create an ENI with ${plural(action.count, unit, units)}`;
    case "release":
      return `release ${plural(action.cidrs.length, unit, units)} from ${action.eniId}`;
    case "free-eni":
      return `free ${action.eniId}`;
  }
}

function seconds(ms: number): string {
  return `${Math.max(Math.round(ms / 1000), 0)} s`;
}

function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** The whole status text. */
export function renderStatus(report: PoolReport, options: { source?: string } = {}): string {
  const { pool, limits, settings } = report;
  const out: string[] = [];
  const from = options.source === undefined ? "" : ` (${options.source})`;
  out.push(
    `ipamd ${report.version}${from}: ${plural(pool.enis, "ENI")} of ${limits.maxEnisUsable}, ` +
      `${plural(pool.total, "address", "addresses")} (${pool.assigned} assigned, ${pool.cooling} cooling, ` +
      `${pool.free} free), ${plural(pool.waitingAdds, "ADD")} waiting\n\n`,
  );
  const eniRows = report.enis.map((eni) => [
    `${eni.deviceNumber}${eni.primary ? "*" : ""}`,
    eni.eniId,
    [eni.subnetId, eni.subnetCidr].filter((part) => part !== "").join(" ") || "-",
    addressSummary(eni.cidrs),
    String(eni.assigned),
    String(eni.cooling),
    String(eni.free),
  ]);
  const ipsOrPrefixes = settings.prefixDelegation ? "PREFIXES" : "IPS";
  out.push(table([["DEVICE", "ENI", "SUBNET", ipsOrPrefixes, "ASSIGNED", "COOLING", "FREE"], ...eniRows]));
  out.push("(* primary ENI)\n\n");
  const targetRows = report.targets.map((t) => [
    t.setting,
    t.target === null ? "unset" : String(t.target),
    String(t.actual),
    t.active ? t.measure : `${t.measure} (not in use with these settings)`,
  ]);
  out.push(table([["SETTING", "TARGET", "ACTUAL", "MEASURE"], ...targetRows]));
  out.push("\n");
  const actions = report.next.actions;
  const short = report.next.shortIps > 0
    ? `; the pool is ${plural(report.next.shortIps, "address", "addresses")} short`
    : "";
  out.push(
    actions.length === 0
      ? `Next reconcile: nothing to do${short}\n`
      : `Next reconcile: ${
        actions.map((a) => describeAction(a, settings.prefixDelegation)).join("; ")
      }${short}\n`,
  );
  if (report.next.nextWakeMs !== null) {
    out.push(
      `  a deferred decision (cooldown, ENI age, decrease spacing) is due in ${
        seconds(report.next.nextWakeMs - report.atMs)
      }\n`,
    );
  }
  const block = report.growthBlock;
  if (block === null) out.push("Growth: not blocked\n");
  else {
    const until = block.untilMs === null ? "" : `, paused ${seconds(block.untilMs - report.atMs)} more`;
    const detail = block.detail === "" ? "" : `: ${block.detail}`;
    out.push(`Growth: blocked, ${GROWTH_BLOCK_TEXT[block.reason]} (${block.reason})${until}${detail}\n`);
  }
  out.push(iamLine(report.iam ?? []));
  const errors = report.cloudErrors;
  if (errors.recent.length === 0) out.push("EC2 errors: none\n");
  else {
    out.push(`EC2 errors (last ${errors.recent.length} of ${errors.total}, newest first):\n`);
    const rows = errors.recent.map((e) => [`  ${clockTime(e.atMs)}`, e.action, e.eniId ?? "-", e.error]);
    out.push(table(rows));
  }
  return out.join("");
}

/** The `IAM:` line: what the node's role lacks, and what is not known yet. */
function iamLine(statuses: readonly PermissionStatus[]): string {
  const named = (state: PermissionStatus["state"]) =>
    statuses.filter((status) => status.state === state).map((status) => `ec2:${status.action}`);
  const missing = named("missing");
  const unknown = named("unknown");
  const unchecked = named("unchecked");
  if (statuses.length === 0) return "IAM: not checked (no EC2 credentials in use)\n";
  const parts = [
    missing.length === 0 ? "no permission missing" : `missing ${missing.join(", ")}`,
    ...(unknown.length === 0 ? [] : [`not known (DryRun got another answer): ${unknown.join(", ")}`]),
    ...(unchecked.length === 0 ? [] : [
      `checked on first use: ${unchecked.length > 2 ? `${unchecked.length} actions` : unchecked.join(", ")}`,
    ]),
  ];
  const hint = missing.length === 0 ? "" : ' (README, "IAM: what the node\'s role needs")';
  return `IAM: ${parts.join("; ")}${hint}\n`;
}
