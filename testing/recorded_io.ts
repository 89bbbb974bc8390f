/**
 * `recordedIo()`: an `Io` of records and buffers, for tests and tools that run a
 * command in process.
 *
 * @module
 */
import type { Io } from "../shared/mod.ts";

/** An `Io` that records output, for tests. */
export interface RecordedIo extends Io {
  readonly out: string[];
  readonly err: string[];
}

/** Builds a recording `Io` with the given env, args and stdin. */
export function recordedIo(
  options: { env?: Record<string, string>; args?: string[]; stdin?: string } = {},
): RecordedIo {
  const out: string[] = [];
  const err: string[] = [];
  const stdin = new TextEncoder().encode(options.stdin ?? "");
  return {
    env: options.env ?? {},
    args: options.args ?? [],
    readStdin: () => Promise.resolve(stdin),
    stdout: (text) => void out.push(text),
    stderr: (text) => void err.push(text),
    out,
    err,
  };
}
