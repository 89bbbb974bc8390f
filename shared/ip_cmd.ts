/**
 * The `ip` runner: a small port for reading and changing network state, and the
 * adapter that drives iproute2 through `Deno.Command` (never a shell). Writes go
 * through `ip -batch -` so a pod costs a few execs; reads use `ip -j -batch -`.
 * A namespace given by a path under /run/netns is entered with `ip -n <name>`,
 * any other path with `nsenter --net=<path> ip`. Known stderr texts become
 * `LinkNotFoundError`, `NetnsNotFoundError` (`NotNetnsError`), `EntryNotFoundError` and
 * `EntryExistsError`; anything else is an `IpCommandError`. `ip` and `nsenter`
 * run with a clean environment (`childCommand`).
 *
 * @module
 */
import { childCommand } from "./child_env.ts";
import { AlreadyExistsError, NotFoundError } from "./errors.ts";

/** One `ip` command as words, without the leading "ip", e.g. `["link", "set", "eth0", "up"]`. */
export type IpCommand = readonly string[];

/** Where commands run: a network namespace file, or (no `netns`) the caller's own namespace. */
export interface IpTarget {
  readonly netns?: string;
}

/** A failed line of a batch run with `applyAll`. */
export interface IpLineFailure {
  /** 0-based index of the command. */
  readonly index: number;
  readonly error: Error & IpErrorInfo;
}

/** The port: three ways to run a batch. */
export interface IpRunner {
  /** Runs `commands` in order and stops at the first failure, which it throws. */
  apply(commands: readonly IpCommand[], target?: IpTarget): Promise<void>;
  /** Runs every command even when some fail (`-force`) and returns the failures; for teardown. */
  applyAll(commands: readonly IpCommand[], target?: IpTarget): Promise<readonly IpLineFailure[]>;
  /** Runs show commands with `-j`; one parsed JSON value per command. Throws the first failure. */
  query(commands: readonly IpCommand[], target?: IpTarget): Promise<unknown[]>;
}

/** What every `ip` error carries. */
export interface IpErrorInfo {
  /** The failed command line, or "" when `ip` did not say which. */
  readonly command: string;
  /** 0-based index of the failed command, or -1 when unknown. */
  readonly index: number;
}

type Info = { command: string; index: number; cause?: unknown };

/** `ip` failed for a reason not mapped to a domain error. */
export class IpCommandError extends Error implements IpErrorInfo {
  override readonly name = "IpCommandError";
  readonly command: string;
  readonly index: number;
  constructor(message: string, info: Info) {
    super(message, { cause: info.cause });
    this.command = info.command;
    this.index = info.index;
  }
}

/** Something `ip` was told to act on does not exist (the base of the three below). */
class IpNotFoundError extends NotFoundError implements IpErrorInfo {
  readonly command: string;
  readonly index: number;
  constructor(message: string, info: Info) {
    super(message);
    this.command = info.command;
    this.index = info.index;
  }
}

/** A named link does not exist. */
export class LinkNotFoundError extends IpNotFoundError {
  override readonly name = "LinkNotFoundError";
}

/** A route, rule, address or neighbour to delete does not exist. */
export class EntryNotFoundError extends IpNotFoundError {
  override readonly name = "EntryNotFoundError";
}

/** The network namespace path cannot be opened (most often: it does not exist). */
export class NetnsNotFoundError extends IpNotFoundError {
  override readonly name: string = "NetnsNotFoundError";
}

/** The path opens, but the kernel will not enter it as a network namespace. */
export class NotNetnsError extends NetnsNotFoundError {
  override readonly name = "NotNetnsError";
}

/** A link, route, rule or address to add exists already. */
export class EntryExistsError extends AlreadyExistsError implements IpErrorInfo {
  override readonly name = "EntryExistsError";
  readonly command: string;
  readonly index: number;
  constructor(message: string, info: Info) {
    super(message);
    this.command = info.command;
    this.index = info.index;
  }
}

type IpError = Error & IpErrorInfo;

/** Known stderr texts, first match wins. */
const STDERR_TABLE: readonly (readonly [RegExp, new (message: string, info: Info) => IpError])[] = [
  [/Cannot find device|Device "[^"]*" does not exist|No such device/, LinkNotFoundError],
  [/reassociate to namespace/, NotNetnsError],
  [/Cannot open network namespace|nsenter: cannot open|Invalid "netns" value/, NetnsNotFoundError],
  [/File exists/, EntryExistsError],
  [
    /No such process|No such file or directory|Address not found|Cannot assign requested address/,
    EntryNotFoundError,
  ],
];

/** Turns the stderr of one failed command into a typed error. */
export function ipErrorFromStderr(stderr: string, info: Info): IpError {
  const text = stderr.trim() || "ip failed without a message";
  const where = info.command === "" ? "" : ` "${info.command}"`;
  const message = `Cannot run ip${where}: ${text.replaceAll("\n", "; ")}`;
  for (const [pattern, ErrorClass] of STDERR_TABLE) {
    if (pattern.test(text)) return new ErrorClass(message, info);
  }
  return new IpCommandError(message, info);
}

/** Characters `ip -batch` would split on or treat specially (quotes, escapes, comments). */
const UNSAFE_WORD = /[\s"'\\#]|^$/;

/** Joins commands into batch text; refuses words `ip -batch` would not pass through as they are. */
export function batchText(commands: readonly IpCommand[]): string {
  return commands.map((command) => {
    for (const word of command) {
      if (UNSAFE_WORD.test(word)) throw new TypeError(`Cannot pass "${word}" to ip -batch: empty or unsafe`);
    }
    return command.join(" ") + "\n";
  }).join("");
}

/**
 * Splits the stderr of `ip -batch` into per-line failures. `ip` prints the error,
 * then "Command failed -:N". Text after the last marker (a command that made
 * `ip` exit) becomes a failure with index -1 when `exitFailed` is set.
 */
export function parseBatchStderr(
  stderr: string,
  commands: readonly IpCommand[],
  exitFailed: boolean,
): IpLineFailure[] {
  const failures: IpLineFailure[] = [];
  let pending: string[] = [];
  for (const line of stderr.split("\n")) {
    const marker = /^Command failed -:(\d+)$/.exec(line.trim());
    if (marker === null) {
      if (line.trim() !== "") pending.push(line);
      continue;
    }
    const index = Number(marker[1]) - 1;
    const command = commands[index]?.join(" ") ?? "";
    failures.push({ index, error: ipErrorFromStderr(pending.join("\n"), { command, index }) });
    pending = [];
  }
  if (exitFailed && (pending.length > 0 || failures.length === 0)) {
    failures.push({ index: -1, error: ipErrorFromStderr(pending.join("\n"), { command: "", index: -1 }) });
  }
  return failures;
}

/** How `CommandIpRunner` starts processes. */
export interface CommandIpRunnerOptions {
  /** Kill `ip` after this long; default 30 s. */
  readonly timeoutMs?: number;
  /** The `ip` program; default "ip". */
  readonly ipPath?: string;
  /** The `nsenter` program; default "nsenter". */
  readonly nsenterPath?: string;
}

/** Directories whose entries `ip -n <name>` can open by name. */
const NAMED_NETNS = /^(?:\/var)?\/run\/netns\/([A-Za-z0-9_.-]+)$/;

/** The `IpRunner` adapter over iproute2 and util-linux `nsenter`. */
export class CommandIpRunner implements IpRunner {
  readonly #timeoutMs: number;
  readonly #ip: string;
  readonly #nsenter: string;

  constructor(options: CommandIpRunnerOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#ip = options.ipPath ?? "ip";
    this.#nsenter = options.nsenterPath ?? "nsenter";
  }

  async apply(commands: readonly IpCommand[], target: IpTarget = {}): Promise<void> {
    if (commands.length === 0) return;
    const run = await this.#run(["-batch", "-"], commands, target);
    if (run.success) return;
    const [first] = parseBatchStderr(run.stderr, commands, true);
    if (first !== undefined) throw first.error;
  }

  async applyAll(commands: readonly IpCommand[], target: IpTarget = {}): Promise<readonly IpLineFailure[]> {
    if (commands.length === 0) return [];
    const run = await this.#run(["-force", "-batch", "-"], commands, target);
    return run.success ? [] : parseBatchStderr(run.stderr, commands, true);
  }

  async query(commands: readonly IpCommand[], target: IpTarget = {}): Promise<unknown[]> {
    if (commands.length === 0) return [];
    const run = await this.#run(["-j", "-batch", "-"], commands, target);
    if (!run.success) {
      const [first] = parseBatchStderr(run.stderr, commands, true);
      if (first !== undefined) throw first.error;
    }
    const lines = run.stdout.split("\n").filter((line) => line.trim() !== "");
    if (lines.length !== commands.length) {
      throw new IpCommandError(
        `Cannot read ip -j output: expected ${commands.length} documents, got ${lines.length}`,
        {
          command: "",
          index: -1,
        },
      );
    }
    return lines.map((line, index) => {
      try {
        return JSON.parse(line);
      } catch (cause) {
        throw new IpCommandError("Cannot parse ip -j output", {
          command: commands[index]!.join(" "),
          index,
          cause,
        });
      }
    });
  }

  /** The program and leading arguments for a target. */
  argv(target: IpTarget): [string, ...string[]] {
    const netns = target.netns;
    if (netns === undefined) return [this.#ip];
    const named = NAMED_NETNS.exec(netns);
    if (named !== null) return [this.#ip, "-n", named[1]!];
    if (!netns.startsWith("/") || /\s/.test(netns)) {
      throw new TypeError(`Cannot enter network namespace "${netns}": not an absolute path`);
    }
    return [this.#nsenter, `--net=${netns}`, this.#ip];
  }

  async #run(
    options: string[],
    commands: readonly IpCommand[],
    target: IpTarget,
  ): Promise<{ success: boolean; stdout: string; stderr: string }> {
    const input = new TextEncoder().encode(batchText(commands));
    // AbortSignal.timeout, not setTimeout: Deno's first setTimeout costs ~7 ms, once per plugin run.
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    try {
      const child = this.spawn(options, target, "piped", deadline);
      const writer = child.stdin.getWriter();
      await writer.write(input).catch(() => {}); // a dead child shows in its exit status
      await writer.close().catch(() => {});
      const out = await child.output();
      const decoder = new TextDecoder();
      const stderr = decoder.decode(out.stderr);
      if (deadline.aborted) {
        throw new IpCommandError(`Cannot run ip: killed after ${this.#timeoutMs} ms`, {
          command: "",
          index: -1,
        });
      }
      return { success: out.success, stdout: decoder.decode(out.stdout), stderr };
    } catch (error) {
      throw notInstalled(error, this.argv(target)[0]);
    }
  }

  /**
   * Starts `ip` for `target` with `options`, to read its batch from stdin, in a
   * clean environment (`childCommand`), killed when `signal` aborts (by default
   * after the runner's timeout). A program not installed is an `IpCommandError`.
   */
  spawn(
    options: readonly string[],
    target: IpTarget,
    stdout: "piped" | "null",
    signal: AbortSignal = AbortSignal.timeout(this.#timeoutMs),
  ): Deno.ChildProcess {
    const [program, ...lead] = this.argv(target);
    try {
      return childCommand(program, {
        args: [...lead, ...options],
        stdin: "piped",
        stdout,
        stderr: "piped",
        signal,
      }).spawn();
    } catch (error) {
      throw notInstalled(error, program);
    }
  }
}

/** A missing program as an `IpCommandError`; other errors as they are. */
function notInstalled(error: unknown, program: string): unknown {
  if (!(error instanceof Deno.errors.NotFound)) return error;
  return new IpCommandError(`Cannot run "${program}": not installed`, {
    command: "",
    index: -1,
    cause: error,
  });
}
