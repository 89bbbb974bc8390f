/**
 * A dependency-free JSON-lines logger: one object per line with `ts`, `level`,
 * `msg` and context fields. The only module allowed to touch the console.
 *
 * @module
 */

/** Levels in increasing order of severity. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** One of `LOG_LEVELS`. */
export type LogLevel = typeof LOG_LEVELS[number];

/** A field's value: a plain value, or a JSON object or list of them (written as JSON, not as a string). */
export type LogValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly LogValue[]
  | { readonly [key: string]: LogValue };

/** Context carried on a line: ids, counts, error texts. Never a netconf or a credential. */
export type LogFields = Readonly<Record<string, LogValue>>;

/** Where lines go and which are kept. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  with(fields: LogFields): Logger;
}

/** Builds a logger that writes lines at or above `level` through `write`. */
export function createLogger(
  write: (line: string) => void,
  options: { level?: LogLevel; fields?: LogFields; now?: () => number } = {},
): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  const base = options.fields ?? {};
  const now = options.now ?? Date.now;
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const line = { ts: new Date(now()).toISOString(), level, msg, ...base, ...fields };
    write(JSON.stringify(line) + "\n");
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    with: (fields) => createLogger(write, { ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = createLogger(() => {});

/** The message of any thrown value, for a log field. */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
