/**
 * The process as an `Io`: env, args, stdin, stdout and stderr, read once by an
 * entry point (main.ts).
 *
 * @module
 */
import { concatBytes } from "./bytes.ts";
import type { Io } from "./io.ts";

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = new TextEncoder().encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/** All of stdin, read synchronously: the first web stream costs a plugin run ~6 ms. */
function readAllStdin(): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  for (let n = Deno.stdin.readSync(buffer); n !== null; n = Deno.stdin.readSync(buffer)) {
    chunks.push(buffer.slice(0, n));
  }
  return Promise.resolve(concatBytes(chunks));
}

/** This process's IO, with `args` as the role's arguments. */
export function processIo(args: string[]): Io {
  return {
    env: Deno.env.toObject(),
    args,
    readStdin: readAllStdin,
    stdout: (text) => writeAll(Deno.stdout, text),
    stderr: (text) => writeAll(Deno.stderr, text),
    stderrIsTerminal: Deno.stderr.isTerminal(),
  };
}
