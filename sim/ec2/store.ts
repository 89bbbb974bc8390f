/**
 * Keeps an EC2 simulation in a file, so the simulated cloud outlives the daemon
 * that drives it, as EC2 outlives a crashed ipamd. The file is rewritten
 * atomically (temp file in the same directory, fsync, rename, fsync of the
 * directory) after every successful mutating action, synchronously, so by the
 * time an action returns its effect is durable. Fault knobs and throttle
 * settings are not saved.
 *
 * @module
 */

import type { Clock } from "../../shared/mod.ts";
import { Ec2Simulation } from "./simulation.ts";

/** How to open a state file. */
export interface OpenSimulationOptions {
  /** Builds the simulation when the file does not exist yet. */
  readonly create: () => Ec2Simulation;
  /** The clock a loaded simulation runs on. */
  readonly clock: Clock;
}

/** A simulation bound to its state file. */
export interface SimulationFile {
  readonly sim: Ec2Simulation;
  readonly path: string;
  /** True when the state came from the file, false when `create()` built it. */
  readonly loaded: boolean;
  /** Writes the current state now (mutations already do). */
  persist(): void;
  /** Stops writing on mutations; the file keeps the last state. */
  close(): void;
}

/**
 * Loads the simulation saved at `path`, or creates one with `create()` and saves
 * it, then saves it again after each successful mutation. Throws SyntaxError for
 * a file that is not JSON, and `Ec2Simulation.fromState`'s errors for bad state.
 */
export async function openSimulationFile(
  path: string,
  options: OpenSimulationOptions,
): Promise<SimulationFile> {
  const text = await readIfExists(path);
  let sim: Ec2Simulation;
  if (text === null) {
    sim = options.create();
    Deno.mkdirSync(directoryOf(path), { recursive: true });
  } else {
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch (error) {
      throw new SyntaxError(`Cannot load EC2 simulation from "${path}": not JSON`, { cause: error });
    }
    sim = Ec2Simulation.fromState(state, { clock: options.clock });
  }
  const persist = (): void => writeFileAtomicSync(path, `${JSON.stringify(sim.exportState())}\n`);
  if (text === null) persist();
  const close = sim.onMutation(persist);
  return { sim, path, loaded: text !== null, persist, close };
}

/** Replaces `path` with `text` so that a crash leaves the old or the new content, never a mix. */
export function writeFileAtomicSync(path: string, text: string): void {
  const directory = directoryOf(path);
  const name = path.slice(path.lastIndexOf("/") + 1);
  const tempPath = `${directory}/.${name}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    using file = Deno.openSync(tempPath, { write: true, createNew: true, mode: 0o600 });
    const bytes = new TextEncoder().encode(text);
    for (let written = 0; written < bytes.length;) written += file.writeSync(bytes.subarray(written));
    file.syncDataSync();
  } catch (error) {
    removeQuietly(tempPath);
    throw error;
  }
  try {
    Deno.renameSync(tempPath, path);
  } catch (error) {
    removeQuietly(tempPath);
    throw error;
  }
  using dir = Deno.openSync(directory, { read: true });
  dir.syncSync();
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Already gone, or never made; the original error is the one to report.
  }
}
