/**
 * The binary's commands. main.ts reads `ROLES` and loads the one a process runs
 * by its computed path, so nothing here imports a role's module.
 *
 * @module
 */
export { type RoleEntry, roleFor, type RoleName, ROLES, roleUrl } from "./roles.ts";
export { COMMAND_USAGE, DAEMON_SYNOPSIS, DAEMON_USAGE, helpFor, unknownCommandText, USAGE } from "./usage.ts";
export type { CommandName } from "./usage.ts";
