/**
 * The plugin's log: JSON lines appended to `pluginLogFile` (never stdout).
 * "" or "stderr" means stderr; a file that cannot be written falls back to
 * stderr, which runtimes keep as free-form logs.
 *
 * @module
 */
import { createLogger, type Logger } from "../shared/mod.ts";
import type { NetConf } from "./netconf.ts";

/** Opens the log for a netconf; each line is one append. */
export function openPluginLog(conf: NetConf, stderr: (text: string) => void): Logger {
  const path = conf.pluginLogFile;
  let write = stderr;
  if (path !== "" && path !== "stderr") {
    const slash = path.lastIndexOf("/");
    let ready = false;
    write = (line) => {
      try {
        if (!ready && slash > 0) Deno.mkdirSync(path.slice(0, slash), { recursive: true });
        ready = true;
        Deno.writeTextFileSync(path, line, { append: true, mode: 0o640 });
      } catch {
        stderr(line);
      }
    };
  }
  return createLogger(write, { level: conf.pluginLogLevel, fields: { pid: Deno.pid } });
}
