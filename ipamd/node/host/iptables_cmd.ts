/**
 * The iptables port (read a table, apply a restore text) and its adapter over
 * `iptables-save` and `iptables-restore --noflush`, run through `Deno.Command`
 * with argument arrays and a clean environment (`childCommand`). Whatever
 * `iptables` the system has (nft or legacy) is used.
 *
 * @module
 */
import { childCommand, realTimers } from "../../../shared/mod.ts";

/** iptables as host setup uses it. */
export interface IptablesPort {
  /** `iptables-save -t <table>`. */
  save(table: string): Promise<string>;
  /** `iptables-restore --noflush` with `text` (one or more `*table … COMMIT` blocks). */
  restore(text: string): Promise<void>;
}

/** iptables failed or could not be started. */
export class IptablesError extends Error {
  override readonly name = "IptablesError";
}

/** How `CommandIptables` starts processes. */
export interface CommandIptablesOptions {
  /** Default "iptables-save". */
  readonly savePath?: string;
  /** Default "iptables-restore". */
  readonly restorePath?: string;
  /** Kill a run after this long; default 30 s. */
  readonly timeoutMs?: number;
  /** The xtables lock file (`XTABLES_LOCKFILE`); default iptables' own, /run/xtables.lock. */
  readonly lockFile?: string;
}

/** The adapter. */
export class CommandIptables implements IptablesPort {
  readonly #save: string;
  readonly #restore: string;
  readonly #timeoutMs: number;
  readonly #lockFile: string | undefined;

  constructor(options: CommandIptablesOptions = {}) {
    this.#save = options.savePath ?? "iptables-save";
    this.#restore = options.restorePath ?? "iptables-restore";
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#lockFile = options.lockFile;
  }

  async save(table: string): Promise<string> {
    if (!/^[a-z]+$/.test(table)) throw new TypeError(`Invalid iptables table "${table}"`);
    return await this.#run(this.#save, ["-t", table], "");
  }

  async restore(text: string): Promise<void> {
    await this.#run(this.#restore, ["-w", "--noflush"], text);
  }

  async #run(program: string, args: string[], input: string): Promise<string> {
    const abort = new AbortController();
    const cancel = realTimers.after(this.#timeoutMs, () => abort.abort());
    try {
      const child = childCommand(program, {
        args,
        env: { XTABLES_LOCKFILE: this.#lockFile },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        signal: abort.signal,
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(input)).catch(() => {}); // a dead child shows in its status
      await writer.close().catch(() => {});
      const out = await child.output();
      const decoder = new TextDecoder();
      if (abort.signal.aborted) {
        throw new IptablesError(`Cannot run ${program}: killed after ${this.#timeoutMs} ms`);
      }
      if (!out.success) {
        const stderr = decoder.decode(out.stderr).trim().replaceAll("\n", "; ");
        throw new IptablesError(`Cannot run ${program} ${args.join(" ")}: exit ${out.code}: ${stderr}`);
      }
      return decoder.decode(out.stdout);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new IptablesError(`Cannot run "${program}": not installed`, { cause: error });
      }
      throw error;
    } finally {
      cancel();
    }
  }
}
