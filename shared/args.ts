/**
 * The command line as every role reads it: `node:util` `parseArgs` with two
 * fixes for people. A value that starts with a dash (`--warm-ip-target -1`) is
 * taken as the flag's value, so the setting's own check can say what is wrong
 * with it, instead of parseArgs' "argument is ambiguous"; and parse errors read
 * as one sentence without the error class.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** `parseArgs({ args, options, strict: true, allowPositionals: false })` after joining dash values. */
export function parseFlags<const T extends Options>(
  args: readonly string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false }>> {
  return parseArgs({ args: joinDashValues(args, options), options, strict: true, allowPositionals: false });
}

/** `--flag -1` as `--flag=-1` for flags that take a value. */
export function joinDashValues(args: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === "string" && next !== undefined && /^-./.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** A parse error as one line: `unknown flag "--x"`, `flag "--x" needs a value`, ... */
export function flagErrorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown !== null) return `unknown flag "${unknown[1]}"`;
  const missing = /^Option '([^']+?)(?: <value>)?' argument missing/.exec(message);
  if (missing !== null) return `flag "${missing[1]!.replace(/^-\w, /, "")}" needs a value`;
  const positional = /^Unexpected argument '([^']+)'/.exec(message);
  if (positional !== null) return `unexpected argument "${positional[1]}"`;
  const boolean = /^Option '([^']+?)' does not take an argument/.exec(message);
  if (boolean !== null) return `flag "${boolean[1]!.replace(/^-\w, /, "")}" takes no value`;
  return message.split("\n")[0]!;
}
