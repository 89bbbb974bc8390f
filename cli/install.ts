/**
 * `aws-cni install` and `aws-cni uninstall`: put the binary, the systemd unit,
 * the settings template and (when asked) the conflist on a node, or take them
 * off again. `--prefix` stages everything under another root (packaging, tests);
 * the files still name the node's own paths.
 *
 * ```
 * aws-cni install [--prefix DIR] [--write-conflist] [--binary FILE]
 * aws-cni uninstall [--prefix DIR]
 * ```
 *
 * @module
 */
import { COMMAND_USAGE } from "./usage.ts";
import { flagErrorText, parseFlags } from "../shared/mod.ts";
import { childCommand, errorText, type Io, mayRun } from "../shared/mod.ts";
import { ConfigError, parseIpamdConfig } from "../ipamd/config/mod.ts";
import { CONFLIST_NAME, pathExists, writeConflist, writeFileAtomic } from "../ipamd/ops/mod.ts";
import { NODE_PATHS, renderEnvTemplate, renderUnit, UNIT_NAME } from "./systemd_unit.ts";

const INSTALL_USAGE = COMMAND_USAGE.install;

/** Runs `systemctl` with `args`; resolves to what it said on failure, "" on success. */
export type Systemctl = (args: readonly string[]) => Promise<string>;

/** What install runs besides writing files. */
export interface InstallDeps {
  readonly systemctl?: Systemctl;
}

/** `systemctl` from the children's PATH, with a clean environment. */
async function runSystemctl(args: readonly string[]): Promise<string> {
  if (!mayRun("systemctl")) return "running systemctl is not permitted";
  try {
    const output = await childCommand("systemctl", {
      args: [...args],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    return output.success ? "" : new TextDecoder().decode(output.stderr).trim() || `exit code ${output.code}`;
  } catch (error) {
    return errorText(error);
  }
}

/** Where install writes, under a prefix. */
interface Layout {
  /** Under --prefix: nothing is restarted. */
  readonly staged: boolean;
  readonly binDir: string;
  readonly binary: string;
  /** The binary an upgrade replaced, for a rollback. */
  readonly previous: string;
  readonly conflistDir: string;
  readonly unit: string;
  readonly envDir: string;
  readonly envFile: string;
}

function layout(prefix: string): Layout {
  const root = prefix.replace(/\/+$/, "");
  const envFile = root + NODE_PATHS.envFile;
  return {
    staged: root !== "",
    binDir: `${root}/opt/cni/bin`,
    binary: root + NODE_PATHS.binary,
    previous: `${root + NODE_PATHS.binary}.previous`,
    conflistDir: root + NODE_PATHS.conflistDir,
    unit: `${root}/etc/systemd/system/${UNIT_NAME}`,
    envDir: envFile.slice(0, envFile.lastIndexOf("/")),
    envFile,
  };
}

/** The file to install and what it is. */
interface BinarySource {
  readonly path: string;
  /** True for the launcher script `make build` writes when it cannot compile. */
  readonly launcher: boolean;
}

/** Running from a compiled binary means Deno's executable is not `deno` itself. */
function runningCompiled(): boolean {
  const name = Deno.execPath().split("/").pop() ?? "";
  return !/^deno(\.exe)?$/.test(name);
}

/** `dist/aws-cni` of the checkout this module runs from: its sources, or the bundle in `dist/bin`. */
export function launcherPath(moduleUrl: string): string {
  const path = new URL(moduleUrl).pathname;
  const bundle = path.lastIndexOf("/dist/bin/");
  return bundle >= 0
    ? `${path.slice(0, bundle)}/dist/aws-cni`
    : new URL("../dist/aws-cni", moduleUrl).pathname;
}

/** The launcher script this process was started from (it names itself), if any. */
function runningLauncher(): string | undefined {
  return Deno.env.get("AWS_CNI_LAUNCHER") || undefined;
}

async function findBinary(flag: string | undefined): Promise<BinarySource> {
  let path = flag;
  if (path === undefined) {
    path = runningCompiled() ? Deno.execPath() : runningLauncher() ?? launcherPath(import.meta.url);
  }
  let head: string;
  try {
    const file = await Deno.open(path);
    try {
      const buffer = new Uint8Array(512);
      const read = await file.read(buffer) ?? 0;
      head = new TextDecoder().decode(buffer.subarray(0, read));
    } finally {
      file.close();
    }
  } catch (error) {
    const hint = flag === undefined ? " (run `make build` first, or pass --binary FILE)" : "";
    throw new InstallError(`Cannot read the binary "${path}"${hint}: ${errorText(error)}`);
  }
  return { path, launcher: head.startsWith("#!") && head.includes("aws-cni LAUNCHER") };
}

class InstallError extends Error {
  override readonly name = "InstallError";
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    return await Deno.realPath(a) === await Deno.realPath(b);
  } catch {
    return false;
  }
}

async function install(
  io: Io,
  paths: Layout,
  options: { binary?: string; writeConflist: boolean; restart: boolean; systemctl: Systemctl },
) {
  const config = options.writeConflist ? parseIpamdConfig(io.env) : null;
  const source = await findBinary(options.binary);
  const say = (line: string) => io.stdout(`${line}\n`);
  await Deno.mkdir(paths.binDir, { recursive: true, mode: 0o755 });
  let replaced = false;
  if (await sameFile(source.path, paths.binary)) say(`kept ${paths.binary} (it is the running binary)`);
  else {
    const bytes = await Deno.readFile(source.path);
    const earlier = await pathExists(paths.binary) ? await Deno.readFile(paths.binary) : null;
    if (earlier !== null && !sameBytes(earlier, bytes)) {
      // Running processes keep the old file open; the rename below swaps the name in one step.
      await writeFileAtomic(paths.previous, earlier, 0o755);
      replaced = true;
    }
    await writeFileAtomic(paths.binary, bytes, 0o755);
    say(
      replaced
        ? `replaced ${paths.binary} from ${source.path}; the one it replaced is ${paths.previous} ` +
          `(roll back with: ${NODE_PATHS.binary}.previous install)`
        : `installed ${paths.binary} from ${source.path}`,
    );
  }
  if (source.launcher) {
    io.stderr(
      `warning: ${source.path} is the launcher script \`make build\` writes when \`deno compile\` cannot ` +
        "get its runtime: it runs the bundle in the checkout's dist/bin with the pinned Deno. It was copied as it is, " +
        "so the plugin and ipamd work only while that checkout and Deno stay where they are (and the " +
        "unit's ProtectHome may hide them). Build a compiled binary for a real node: " +
        "DENORT_BIN=/path/to/denort make build.\n",
    );
  }
  await Deno.mkdir(paths.unit.slice(0, paths.unit.lastIndexOf("/")), { recursive: true, mode: 0o755 });
  await writeFileAtomic(paths.unit, renderUnit(), 0o644);
  say(`wrote ${paths.unit}`);
  await Deno.mkdir(paths.envDir, { recursive: true, mode: 0o755 });
  if (await pathExists(paths.envFile)) say(`kept ${paths.envFile} (it exists; your settings stay)`);
  else {
    await writeFileAtomic(paths.envFile, renderEnvTemplate(), 0o644);
    say(`wrote ${paths.envFile} (every setting with its default, commented)`);
  }
  await Deno.mkdir(paths.conflistDir, { recursive: true, mode: 0o755 });
  if (config !== null) {
    const written = await writeConflist(paths.conflistDir, config, { binDir: paths.binDir });
    say(`wrote ${written}`);
  } else {
    say(`${paths.conflistDir}/${CONFLIST_NAME}: ipamd writes it once it serves (--write-conflist)`);
  }
  if (!replaced) {
    say("next: systemctl daemon-reload && systemctl enable --now aws-ipamd");
    return;
  }
  if (!options.restart) {
    say(
      `next: systemctl daemon-reload && systemctl try-restart ${UNIT_NAME} (ipamd runs the old binary until then)`,
    );
    return;
  }
  const reload = await options.systemctl(["daemon-reload"]);
  const restart = reload === "" ? await options.systemctl(["try-restart", UNIT_NAME]) : reload;
  if (restart !== "") {
    io.stderr(
      `warning: cannot restart ${UNIT_NAME} onto the new binary: ${restart}; ipamd runs the old one until ` +
        `you run: systemctl daemon-reload && systemctl try-restart ${UNIT_NAME}\n`,
    );
    return;
  }
  say(
    `restarted ${UNIT_NAME} if it was running: ipamd writes its checkpoint when it stops and reads it when it ` +
      "starts, so pods keep their addresses (ADDs in between get try again later)",
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

async function removeIf(path: string, say: (line: string) => void): Promise<void> {
  if (!await pathExists(path)) return;
  await Deno.remove(path);
  say(`removed ${path}`);
}

async function uninstall(io: Io, paths: Layout, options: { keepPlugin: boolean }) {
  const say = (line: string) => io.stdout(`${line}\n`);
  say("(stop the service first: systemctl disable --now aws-ipamd)");
  await removeIf(paths.unit, say);
  const conflist = `${paths.conflistDir}/${CONFLIST_NAME}`;
  if (options.keepPlugin) {
    say(`left ${paths.binary} and ${conflist} for aws-node to replace (--keep-plugin)`);
  } else if (await pathExists(conflist)) {
    if (isOurConflist(await Deno.readTextFile(conflist))) await removeIf(conflist, say);
    else say(`left ${conflist}: aws-cni did not write it`);
  }
  if (await pathExists(paths.envFile)) {
    if (await Deno.readTextFile(paths.envFile) === renderEnvTemplate()) await removeIf(paths.envFile, say);
    else say(`kept ${paths.envFile}: it holds your settings; remove it by hand`);
  }
  try {
    await Deno.remove(paths.envDir);
    say(`removed ${paths.envDir}`);
  } catch {
    // Not empty or not there.
  }
  if (!options.keepPlugin) await removeIf(paths.binary, say);
  await removeIf(paths.previous, say);
  say("left /run/aws-node (socket, checkpoint) and /var/log/aws-routed-eni; then: systemctl daemon-reload");
}

/** Runs `install` or `uninstall` (`verb`); returns the exit code. */
export async function installCommand(io: Io, verb: string, deps: InstallDeps = {}): Promise<number> {
  let values;
  const uninstalling = verb === "uninstall";
  try {
    values = parseFlags(io.args, {
      prefix: { type: "string" },
      help: { type: "boolean", short: "h" },
      ...(uninstalling ? { "keep-plugin": { type: "boolean" } } : {
        "write-conflist": { type: "boolean" },
        binary: { type: "string" },
        "no-restart": { type: "boolean" },
        restart: { type: "boolean" },
      }),
    }).values as {
      prefix?: string;
      help?: boolean;
      "write-conflist"?: boolean;
      binary?: string;
      "no-restart"?: boolean;
      restart?: boolean;
      "keep-plugin"?: boolean;
    };
  } catch (error) {
    io.stderr(`aws-cni ${verb}: ${flagErrorText(error)}\n${INSTALL_USAGE}`);
    return 2;
  }
  if (values.help === true) return io.stdout(INSTALL_USAGE), 0;
  const prefix = values.prefix ?? "/";
  if (!prefix.startsWith("/")) {
    io.stderr(`aws-cni ${verb}: --prefix must be an absolute path, not "${prefix}"\n`);
    return 2;
  }
  const paths = layout(prefix);
  try {
    if (uninstalling) await uninstall(io, paths, { keepPlugin: values["keep-plugin"] === true });
    else {
      await install(io, paths, {
        writeConflist: values["write-conflist"] === true,
        restart: values["no-restart"] !== true && (!paths.staged || values.restart === true),
        systemctl: deps.systemctl ?? runSystemctl,
        ...(values.binary === undefined ? {} : { binary: values.binary }),
      });
    }
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof InstallError) {
      io.stderr(`aws-cni ${verb}: ${error.message}\n`);
      return error instanceof ConfigError ? 2 : 1;
    }
    if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotFound) {
      io.stderr(`aws-cni ${verb}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/** Whether `text` is a conflist this product wrote (its first plugin is aws-cni). */
export function isOurConflist(text: string): boolean {
  try {
    const parsed = JSON.parse(text);
    return parsed?.name === "aws-cni" && parsed?.plugins?.[0]?.type === "aws-cni";
  } catch {
    return false;
  }
}
