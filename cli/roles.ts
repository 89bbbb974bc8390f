/**
 * The modules main.ts dispatches to, named by path rather than imported, so
 * that the plugin (run once per pod) loads only its own small graph: a literal
 * `import("./ipamd/mod.ts")` would make `deno run` resolve the daemon's npm
 * packages on every start (≈35 ms). `make build` bundles each role into one
 * file at the same path under `dist/bin/` with `.js` for `.ts`, beside the
 * bundled main.js, and `roles_test.ts` checks each export's type.
 *
 * @module
 */
import type { Io } from "../shared/mod.ts";

/** A role's entry function: the process IO and the verb that chose it; returns the exit code. */
export type RoleEntry = (io: Io, verb: string) => Promise<number>;

/** Role → [module path relative to main.ts, exported entry function]. */
export const ROLES = {
  plugin: ["./cni/mod.ts", "pluginMain"],
  daemon: ["./ipamd/mod.ts", "runDaemon"],
  plan: ["./cli/plan.ts", "planCommand"],
  "max-pods": ["./cli/max_pods.ts", "maxPodsCommand"],
  replay: ["./cli/replay.ts", "replayCommand"],
  status: ["./cli/status.ts", "statusCommand"],
  install: ["./cli/install.ts", "installCommand"],
  help: ["./cli/help.ts", "helpCommand"],
} as const satisfies Record<string, readonly [string, string]>;

/** One of the roles. */
export type RoleName = keyof typeof ROLES;

/**
 * The URL of a role's module for the entry at `entry`: the source beside main.ts,
 * or, from the bundled main.js, that role's bundle beside it.
 */
export function roleUrl(name: RoleName, entry: string): string {
  const [path] = ROLES[name];
  return new URL(entry.endsWith(".js") ? path.replace(/\.ts$/, ".js") : path, entry).href;
}

/**
 * The role a command line asks for: its first word and whether the rest asks for
 * help (`--daemon --help` is help, not a start).
 */
export function roleFor(first: string, rest: readonly string[]): RoleName {
  const asksHelp = rest.some((arg) => arg === "--help" || arg === "-h");
  if (first === "--daemon") return asksHelp ? "help" : "daemon";
  if (first === "plan" || first === "replay" || first === "status" || first === "max-pods") return first;
  return first === "install" || first === "uninstall" ? "install" : "help";
}
