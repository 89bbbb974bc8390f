/**
 * The modules main.ts dispatches to, named by path rather than imported, so
 * that the plugin (run once per pod) loads only its own small graph: a literal
 * `import("../shared/cli/ipamd/mod.ts")` would make `deno run` resolve the daemon's npm
 * packages on every start (≈35 ms). `make build` passes these paths to
 * `deno compile --include`, and `roles_test.ts` checks each export's type.
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
  replay: ["./cli/replay.ts", "replayCommand"],
  status: ["./cli/status.ts", "statusCommand"],
  install: ["./cli/install.ts", "installCommand"],
} as const satisfies Record<string, readonly [string, string]>;

/** One of the roles. */
export type RoleName = keyof typeof ROLES;
