/**
 * The binary's entry point: it reads the process once (env, args, stdin, stdout) and
 * hands that to one role: the CNI plugin, ipamd, or a command. @module
 */
import { processIo } from "./shared/process_io.ts";
import { refusedAccess } from "./shared/errors.ts";
import { type RoleEntry, roleFor, type RoleName, ROLES, roleUrl } from "./cli/roles.ts";
import { narrow } from "./shared/narrow.ts";

/** Loads a role by a computed specifier, so `deno run` never resolves the daemon's npm graph for the plugin. */
async function role(name: RoleName): Promise<RoleEntry> {
  const mod: Record<string, unknown> = await import(roleUrl(name, import.meta.url));
  // Each role drops the permissions it does not use; the plugin does once it has checked CNI_NETNS.
  if (name !== "plugin") narrow(name);
  return mod[ROLES[name][1]] as RoleEntry;
}

async function main([first = "", ...rest]: string[]): Promise<number> {
  if (Deno.env.get("CNI_COMMAND") !== undefined) {
    return (await role("plugin"))(processIo([first, ...rest].filter(Boolean)), "");
  }
  return (await role(roleFor(first, rest)))(processIo(rest), first);
}

/**
 * A path or address outside the binary's permission set (deno.json,
 * `permissions.aws-cni`): one line, no stack; a compiled binary takes no flags.
 */
function refused(error: Error): number {
  const text = `aws-cni: ${refusedAccess(error)}: outside what this binary may use (README, "Permissions")\n`;
  Deno.stderr.writeSync(new TextEncoder().encode(text));
  return 1;
}

try {
  Deno.exit(await main(Deno.args));
} catch (error) {
  if (!(error instanceof Deno.errors.NotCapable)) throw error;
  Deno.exit(refused(error));
}
