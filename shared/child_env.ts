/**
 * How the product starts programs (`ip`, `nsenter`, iptables, `sysctl`,
 * `systemd-notify`): never with the caller's environment. Container runtimes run
 * the plugin with theirs (containerd's `opt` plugin adds `LD_LIBRARY_PATH`, and
 * Deno refuses to spawn while a loader variable would be inherited), so every
 * child gets `clearEnv` and an explicit environment: a fixed `PATH` plus only what
 * that program needs.
 *
 * `--allow-run=ip` is resolved once, against the PATH the process started with,
 * to one absolute path (say /usr/bin/ip), and a spawn is allowed only when the
 * child's own PATH leads to that same path. So the fixed directories are ordered
 * per program: those where running it is permitted come first.
 *
 * @module
 */

/** The directories of the children's PATH, in the usual order for root. */
export const CHILD_PATH_DIRS = [
  "/usr/local/sbin",
  "/usr/local/bin",
  "/usr/sbin",
  "/usr/bin",
  "/sbin",
  "/bin",
] as const;

/** Whether running the program at an absolute path is permitted. */
export type RunPermitted = (path: string) => boolean;

/** Variables the dynamic loader acts on; never passed to a child. */
const LOADER_VARIABLE = /^(LD_|DYLD_)/;

/** Deno's run permission for `path`, without prompting. */
export function runPermitted(path: string): boolean {
  return Deno.permissions.querySync({ name: "run", command: path }).state === "granted";
}

/**
 * Whether `program` may be started: by the name the permission was given as
 * (resolved against the PATH this process started with), or at one of the
 * children's PATH directories.
 */
export function mayRun(program: string, permitted: RunPermitted = runPermitted): boolean {
  if (permitted(program)) return true;
  return !program.includes("/") && CHILD_PATH_DIRS.some((dir) => permitted(`${dir}/${program}`));
}

/**
 * The PATH a child running `program` gets: `CHILD_PATH_DIRS`, the directories
 * where `permitted` allows `<dir>/<program>` first (so the name resolves to the
 * path the permission was granted for), in their usual order otherwise.
 */
export function childPath(program: string, permitted: RunPermitted = runPermitted): string {
  if (program.includes("/")) return CHILD_PATH_DIRS.join(":");
  const allowed = CHILD_PATH_DIRS.filter((dir) => permitted(`${dir}/${program}`));
  const rest = CHILD_PATH_DIRS.filter((dir) => !allowed.includes(dir));
  return [...allowed, ...rest].join(":");
}

/** What a child needs besides PATH, and (for tests) the permission check. */
export interface ChildEnvOptions {
  /** Variables this program needs, e.g. NOTIFY_SOCKET; an undefined value is left out. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly permitted?: RunPermitted;
}

/**
 * The whole environment of a child running `program`: PATH plus `options.env`.
 * A loader variable or PATH there is a TypeError.
 */
export function childEnv(program: string, options: ChildEnvOptions = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: childPath(program, options.permitted) };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (LOADER_VARIABLE.test(name) || name === "PATH") {
      throw new TypeError(`Cannot pass "${name}" to ${program}: the child environment is fixed`);
    }
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** `Deno.CommandOptions` without the environment, which `childCommand` sets. */
export type ChildCommandOptions = Omit<Deno.CommandOptions, "env" | "clearEnv"> & {
  /** Variables this program needs besides PATH. */
  readonly env?: Readonly<Record<string, string | undefined>>;
};

/** A `Deno.Command` for `program` with a clean, explicit environment (see `childEnv`). */
export function childCommand(program: string, options: ChildCommandOptions = {}): Deno.Command {
  const { env, ...rest } = options;
  return new Deno.Command(program, { ...rest, clearEnv: true, env: childEnv(program, { env: env ?? {} }) });
}
