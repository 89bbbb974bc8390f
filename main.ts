/**
 * The only entry point: it reads the process once (env, args, stdin, stdout) and
 * hands that to one role: the CNI plugin, ipamd, or a command. @module
 */
import type { Io } from "./shared/io.ts";
import { USAGE } from "./shared/cli/usage.ts";
import { VERSION } from "./shared/version.ts";

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = new TextEncoder().encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

function processIo(args: string[]): Io {
  return {
    env: Deno.env.toObject(),
    args,
    readStdin: async () => new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer()),
    stdout: (text) => writeAll(Deno.stdout, text),
    stderr: (text) => writeAll(Deno.stderr, text),
    stderrIsTerminal: Deno.stderr.isTerminal(),
  };
}

async function main([first = "", ...rest]: string[]): Promise<number> {
  if (Deno.env.get("CNI_COMMAND") !== undefined) {
    return (await import("./cni/mod.ts")).runPlugin(processIo([first, ...rest].filter(Boolean)));
  }
  const io = processIo(rest);
  if (first === "--daemon") return (await import("./ipamd/mod.ts")).runDaemon(io);
  if (first === "plan") return (await import("./ipamd/cli/plan.ts")).planCommand(io);
  if (first === "replay") return (await import("./ipamd/cli/replay.ts")).replayCommand(io);
  if (first === "status") return (await import("./ipamd/cli/status.ts")).statusCommand(io);
  if (/^(un)?install$/.test(first)) return (await import("./ipamd/cli/install.ts")).installCommand(io, first);
  if (first === "version" || first === "--version") return io.stdout(`aws-cni ${VERSION}\n`), 0;
  if (first === "help" || first === "--help") return io.stdout(USAGE), 0;
  return io.stderr(USAGE), 2;
}

Deno.exit(await main(Deno.args));
