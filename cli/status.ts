/**
 * `aws-cni status`: the operator's view of a running ipamd, read from its
 * introspection endpoint (`/v1/pool`).
 *
 * ```
 * aws-cni status [--json] [--introspection ADDR]
 * ```
 *
 * @module
 */
import { COMMAND_USAGE } from "./usage.ts";
import { flagErrorText, parseFlags } from "../shared/mod.ts";
import { errorText, type Io } from "../shared/mod.ts";
import { IPAMD_ENV_TABLE } from "../ipamd/config/mod.ts";
import type { PoolReport } from "../ipamd/ops/mod.ts";
import { renderStatus } from "./status_text.ts";

const STATUS_USAGE = COMMAND_USAGE["status"];

const INTROSPECTION_ROW = IPAMD_ENV_TABLE.find((row) => row.name === "INTROSPECTION_BIND_ADDRESS")!;

/** How long ipamd gets to answer. */
const TIMEOUT_MS = 5_000;

/** The address to ask: the flag, else the env var, else the default; a wildcard host means loopback. */
function resolveAddress(flag: string | undefined, env: Readonly<Record<string, string>>): string {
  const text = flag ?? (env[INTROSPECTION_ROW.name] || INTROSPECTION_ROW.default);
  const address = String(INTROSPECTION_ROW.parser.parse(text, () => {}));
  return address.replace(/^0\.0\.0\.0:/, "127.0.0.1:");
}

/** Runs `status`; returns the exit code (1 when ipamd cannot be reached). */
export async function statusCommand(io: Io): Promise<number> {
  let values;
  try {
    values = parseFlags(io.args, {
      json: { type: "boolean" },
      introspection: { type: "string" },
      help: { type: "boolean", short: "h" },
    }).values;
  } catch (error) {
    io.stderr(`aws-cni status: ${flagErrorText(error)}\n${STATUS_USAGE}`);
    return 2;
  }
  if (values.help === true) return io.stdout(STATUS_USAGE), 0;
  let address: string;
  try {
    address = resolveAddress(values.introspection, io.env);
  } catch (error) {
    io.stderr(`aws-cni status: invalid introspection address: ${errorText(error)}\n`);
    return 2;
  }
  let report: PoolReport;
  try {
    const response = await fetch(`http://${address}/v1/pool`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const body = await response.text();
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${body.trim()}`);
    report = JSON.parse(body);
  } catch (error) {
    io.stderr(
      `aws-cni status: cannot read ipamd's pool from http://${address}/v1/pool: ${
        fetchFailure(error, address)
      }\n` +
        "ipamd is not running, or does not serve introspection there: see whether it runs and why it " +
        "stopped (systemctl status aws-ipamd; journalctl -u aws-ipamd); with DISABLE_INTROSPECTION=true " +
        "there is nothing to read, and with another INTROSPECTION_BIND_ADDRESS pass --introspection ADDR\n",
    );
    return 1;
  }
  io.stdout(
    values.json === true ? JSON.stringify(report, null, 2) + "\n" : renderStatus(report, { source: address }),
  );
  return 0;
}

/** What went wrong with the request, by its cause: fetch itself only says "fetch failed". */
function fetchFailure(error: unknown, address: string): string {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof Deno.errors.ConnectionRefused || /connection refused/i.test(cause.message)) {
      return `nothing listens on ${address} (connection refused)`;
    }
    if (cause.name === "TimeoutError") return `no answer within ${TIMEOUT_MS / 1000} s`;
    if (cause instanceof SyntaxError) return `the answer is not JSON: ${cause.message}`;
    if (cause.cause === undefined || !(cause.cause instanceof Error)) return errorText(cause);
  }
  return errorText(error);
}
