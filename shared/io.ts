/**
 * The process boundary as values. Only `main.ts` builds the real one; every role
 * and command takes it as a parameter so tests can pass records and buffers.
 *
 * @module
 */

/** What a role or command may touch of the process. */
export interface Io {
  /** The environment, read once at start. */
  readonly env: Readonly<Record<string, string>>;
  /** Command-line arguments after the subcommand. */
  readonly args: readonly string[];
  /** Reads all of stdin. */
  readStdin(): Promise<Uint8Array>;
  /** Writes text to stdout. */
  stdout(text: string): void;
  /** Writes text to stderr. */
  stderr(text: string): void;
  /** Whether stderr is a terminal (for progress bars). */
  readonly stderrIsTerminal?: boolean;
}

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
