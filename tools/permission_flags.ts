/**
 * A permission set of deno.json (`permissions.NAME`) as `deno run` flags, so that
 * the launcher grants what the compiled binary bakes in (`-P=NAME`) without
 * Deno reading the config file on every start. Whatever the set says is turned
 * into flags; nothing is hard-coded here.
 *
 * `deno run --allow-read tools/permission_flags.ts deno.json NAME [--also-read PATH]...`
 * prints one flag a line.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";

/** A list, or every value (true), or none (false). */
type Value = boolean | string[];
/** What one kind grants, denies and silently ignores (read and env only). */
type Rule = { allow?: Value; deny?: Value; ignore?: Value };

/** The kinds a permission set may name, in Deno's order; the rest is `all`. */
const KINDS = ["read", "write", "import", "env", "net", "run", "ffi", "sys"] as const;
/** Kinds whose entries are paths, resolved against the config file's folder as Deno does. */
const PATH_KINDS = new Set<string>(["read", "write", "ffi"]);
/** Kinds that take `ignore`. */
const IGNORE_KINDS = new Set<string>(["read", "env"]);

/** The flags of one permission set; `alsoRead` paths are added to what it may read. */
export function permissionFlags(set: unknown, configDir: string, alsoRead: readonly string[] = []): string[] {
  if (typeof set !== "object" || set === null || Array.isArray(set)) {
    throw new TypeError(`A permission set must be an object, got ${JSON.stringify(set)}`);
  }
  const entries = set as Record<string, unknown>;
  for (const key of Object.keys(entries)) {
    if (key !== "all" && !(KINDS as readonly string[]).includes(key)) {
      throw new TypeError(`Unknown permission "${key}" in the permission set`);
    }
  }
  if (entries.all !== undefined && typeof entries.all !== "boolean") {
    throw new TypeError(`Permission "all" must be true or false, got ${JSON.stringify(entries.all)}`);
  }
  if (entries.all === true) return ["--allow-all"];
  const flags: string[] = [];
  for (const kind of KINDS) {
    const rule = ruleOf(kind, entries[kind]);
    const extra = kind === "read" ? alsoRead : [];
    for (const part of ["allow", "deny", "ignore"] as const) {
      const value = part === "allow" && extra.length > 0 ? withExtra(rule.allow, extra) : rule[part];
      const flag = flagOf(kind, part, value, configDir);
      if (flag !== null) flags.push(flag);
    }
  }
  return flags;
}

/** One kind's entry as a rule: a bare value is what it allows. */
function ruleOf(kind: string, entry: unknown): Rule {
  if (entry === undefined) return {};
  if (isValue(entry)) return { allow: entry };
  if (typeof entry !== "object" || entry === null) {
    throw new TypeError(
      `Permission "${kind}" must be true, false, a list or an object, got ${JSON.stringify(entry)}`,
    );
  }
  const rule: Record<string, unknown> = { ...entry };
  for (const [part, value] of Object.entries(rule)) {
    const known = part === "allow" || part === "deny" || (part === "ignore" && IGNORE_KINDS.has(kind));
    if (!known) throw new TypeError(`Unknown field "${part}" of permission "${kind}"`);
    if (!isValue(value)) {
      throw new TypeError(
        `Permission "${kind}.${part}" must be true, false or a list, got ${JSON.stringify(value)}`,
      );
    }
  }
  return rule as Rule;
}

function isValue(value: unknown): value is Value {
  return typeof value === "boolean" ||
    (Array.isArray(value) && value.every((item) => typeof item === "string"));
}

/** `value` plus `extra`, unless it already allows everything. */
function withExtra(value: Value | undefined, extra: readonly string[]): Value {
  if (value === true) return true;
  return [...(Array.isArray(value) ? value : []), ...extra];
}

/** `--allow-read=/a,/b`, `--deny-net`, or null for false and empty lists (Deno grants nothing for those). */
function flagOf(kind: string, part: keyof Rule, value: Value | undefined, configDir: string): string | null {
  if (value === undefined || value === false || (Array.isArray(value) && value.length === 0)) return null;
  const flag = `--${part}-${kind}`;
  if (value === true) return flag;
  const items = value.map((item) => PATH_KINDS.has(kind) ? resolve(configDir, item) : item);
  const withComma = items.find((item) => item.includes(","));
  if (withComma !== undefined) {
    throw new TypeError(`Permission "${kind}" entry "${withComma}" has a comma, which a flag cannot carry`);
  }
  return `${flag}=${items.join(",")}`;
}

if (import.meta.main) {
  const { positionals, values } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { "also-read": { type: "string", multiple: true } },
  });
  const [config, name] = positionals;
  if (config === undefined || name === undefined || positionals.length !== 2) {
    throw new TypeError("Usage: permission_flags.ts CONFIG NAME [--also-read PATH]...");
  }
  const sets = JSON.parse(await Deno.readTextFile(config)).permissions ?? {};
  if (!Object.hasOwn(sets, name)) throw new TypeError(`No permission set "${name}" in ${config}`);
  const flags = permissionFlags(sets[name], dirname(resolve(config)), values["also-read"] ?? []);
  await Deno.stdout.write(new TextEncoder().encode(flags.map((flag) => `${flag}\n`).join("")));
}
