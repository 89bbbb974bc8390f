/**
 * `aws-cni help [TOPIC]`, `--help` where no role reads it, `version`, and a word
 * that is no command: text only, loaded by computed import like the roles.
 *
 * @module
 */
import { type Io, VERSION } from "../shared/mod.ts";
import { helpFor, unknownCommandText } from "./usage.ts";

/** Answers `verb` with `io.args` as what followed it. */
export function helpCommand(io: Io, verb: string): Promise<number> {
  return Promise.resolve(answer(io, verb));
}

function answer(io: Io, verb: string): number {
  const asksHelp = io.args.some((arg) => arg === "--help" || arg === "-h");
  const help = verb === "help" || verb === "--help" ? helpFor(io.args[0]) : asksHelp ? helpFor(verb) : null;
  if (help !== null) {
    if (help.code === 0) io.stdout(help.text);
    else io.stderr(help.text);
    return help.code;
  }
  if (verb === "version" || verb === "--version") {
    io.stdout(`aws-cni ${VERSION}\n`);
    return 0;
  }
  io.stderr(unknownCommandText(verb));
  return 2;
}
