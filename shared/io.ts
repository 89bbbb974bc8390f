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
