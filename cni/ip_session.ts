/**
 * An `ip -force -batch -` process started before its commands are known and
 * fed in steps, so its start overlaps other work (the plugin starts `ip`
 * while ipamd picks the address). After each step the session writes a
 * marker command that always fails (`link show dev` of a name too long to
 * exist); `ip` reports its failure on stderr after those of the step's own
 * commands, so when the marker's "Command failed" line arrives, the step has
 * run and its failures are known. `-force` keeps `ip` going past failures,
 * as `applyAll` does; a command that makes `ip` exit fails every later step.
 * `SessionIpRunner` starts sessions through `CommandIpRunner.spawn`, so they
 * get the clean environment of every child (`childCommand`).
 *
 * @module
 */
import {
  batchText,
  CommandIpRunner,
  type IpCommand,
  ipErrorFromStderr,
  type IpLineFailure,
  type IpTarget,
} from "../shared/mod.ts";

/** Commands given to one `ip` process in steps. */
export interface IpSession {
  /** Sends the next step; resolves with its failures (indexes within the step) once `ip` has run it. */
  step(commands: readonly IpCommand[]): Promise<readonly IpLineFailure[]>;
  /** Sends the last step (if any), ends `ip`'s input and resolves with that step's failures once `ip` exited. */
  end(commands?: readonly IpCommand[]): Promise<readonly IpLineFailure[]>;
  /**
   * Sends the last step and ends `ip`'s input without waiting: `ip` runs it
   * even after this process has exited, and its failures go unreported.
   */
  detach(commands: readonly IpCommand[]): void;
}

/** Opens sessions. */
export interface IpSessions {
  /** Starts `ip` at once in the caller's namespace, or in the one at `netns`. */
  open(target?: { readonly netns?: string }): IpSession;
}

/** Longer than any interface name (15 bytes), so it never exists and fails without side effects. */
const MARKER: IpCommand = ["link", "show", "dev", "aws-cni-step-marker"];
const FAILED = /^Command failed -:(\d+)$/;

/** The parts of `Deno.ChildProcess` a session uses (stdin and stderr piped). */
export interface IpChild {
  readonly stdin: WritableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly status: Promise<Deno.CommandStatus>;
  unref(): void;
}

/** A session over a started `ip -force -batch -`; see the module doc. */
export class CommandIpSession implements IpSession {
  readonly #child: IpChild;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Every line written, markers included; "Command failed -:N" counts from 1. */
  readonly #lines: IpCommand[] = [];
  readonly #markers = new Set<number>();
  /** Failures by line number. */
  readonly #failures = new Map<number, IpLineFailure["error"]>();
  /** The line number of the last marker reported. */
  #reached = 0;
  /** Stderr text not yet followed by a "Command failed" line. */
  #pending: string[] = [];
  #partial = "";
  /** Set once stderr ended: the error for lines `ip` never reached, if it stopped early. */
  #ended: { readonly fatal: IpLineFailure["error"] | undefined } | undefined;
  #waiters: (() => void)[] = [];
  #ending: Promise<readonly IpLineFailure[]> | undefined;

  constructor(child: IpChild) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#reader = child.stderr.getReader();
    void this.#read();
  }

  async step(commands: readonly IpCommand[]): Promise<readonly IpLineFailure[]> {
    const first = this.#send(commands, true);
    const marker = this.#lines.length;
    while (this.#reached < marker && this.#ended === undefined) await this.#change();
    return this.#failuresFrom(first, marker);
  }

  end(commands: readonly IpCommand[] = []): Promise<readonly IpLineFailure[]> {
    this.#ending ??= (async () => {
      const first = this.#send(commands, false);
      await this.#writer.close().catch(() => {});
      while (this.#ended === undefined) await this.#change();
      await this.#child.status;
      return this.#failuresFrom(first, this.#lines.length + 1);
    })();
    return this.#ending;
  }

  detach(commands: readonly IpCommand[]): void {
    this.#send(commands, false);
    this.#writer.close().catch(() => {});
    this.#ending ??= Promise.resolve([]);
    // Stop listening: `ip` writes to stderr only if a command fails, and then may die of SIGPIPE.
    this.#reader.cancel().catch(() => {});
    this.#child.unref();
  }

  /** Resolves at the next marker or failure reported, or when stderr ends. */
  #change(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Writes a step; returns the line number of its first command. */
  #send(commands: readonly IpCommand[], marked: boolean): number {
    const first = this.#lines.length + 1;
    const lines = marked ? [...commands, MARKER] : commands;
    if (lines.length === 0) return first;
    this.#lines.push(...lines);
    if (marked) this.#markers.add(this.#lines.length);
    // A dead `ip` shows in its stderr and exit status.
    this.#writer.write(new TextEncoder().encode(batchText(lines))).catch(() => {});
    return first;
  }

  /** The failures of lines `first` to `end - 1`, indexed from `first`. */
  #failuresFrom(first: number, end: number): IpLineFailure[] {
    const failures: IpLineFailure[] = [];
    for (const [line, error] of this.#failures) {
      if (line >= first && line < end) failures.push({ index: line - first, error });
    }
    const fatal = this.#ended?.fatal;
    const unreached = Math.max(first, this.#reached + 1);
    if (fatal !== undefined && unreached < end && !failures.some((f) => f.error === fatal)) {
      failures.push({ index: -1, error: fatal });
    }
    return failures.sort((a, b) => a.index - b.index);
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await this.#reader.read();
        if (done) break;
        this.#take(decoder.decode(value, { stream: true }));
      }
    } catch {
      // Cancelled by detach(), or the pipe broke: the exit status tells.
    }
    const text = [...this.#pending, this.#partial].join("\n").trim();
    const status = await this.#child.status.catch(() => undefined);
    const stoppedEarly = text !== "" || status?.signal !== null;
    const fatal = stoppedEarly && this.#reached < this.#lines.length
      ? ipErrorFromStderr(text || `ip ended by ${status?.signal ?? "an unknown cause"}`, {
        command: "",
        index: -1,
      })
      : undefined;
    this.#ended = { fatal };
    this.#wake();
  }

  /** Takes stderr text: message lines, then "Command failed -:N" for each failed line N. */
  #take(text: string): void {
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop()!;
    for (const line of lines) {
      const failed = FAILED.exec(line.trim());
      if (failed === null) {
        if (line.trim() !== "") this.#pending.push(line);
        continue;
      }
      const n = Number(failed[1]);
      if (this.#markers.has(n)) {
        this.#reached = n;
        this.#wake();
      } else {
        const command = this.#lines[n - 1]?.join(" ") ?? "";
        this.#failures.set(n, ipErrorFromStderr(this.#pending.join("\n"), { command, index: n - 1 }));
        this.#reached = Math.max(this.#reached, n);
      }
      this.#pending = [];
    }
  }
}

/** A child that never started: its stderr says why, and it has exited. */
export function deadChild(why: string): IpChild {
  return {
    stdin: new WritableStream(),
    stderr: new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(why + "\n"));
        controller.close();
      },
    }),
    status: Promise.resolve({ success: false, code: 127, signal: null }),
    unref: () => {},
  };
}

/**
 * `CommandIpRunner` that also opens sessions: `ip -force -batch -` started at
 * once, in the same clean environment as its batches; a failure to start shows
 * as the failure of every step.
 */
export class SessionIpRunner extends CommandIpRunner implements IpSessions {
  open(target: IpTarget = {}): IpSession {
    try {
      return new CommandIpSession(this.spawn(["-force", "-batch", "-"], target, "null"));
    } catch (error) {
      return new CommandIpSession(deadChild(error instanceof Error ? error.message : String(error)));
    }
  }
}
