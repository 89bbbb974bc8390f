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
import { parseArgs } from "node:util";
import { errorText, type Io } from "../shared/mod.ts";
import { ConfigError, parseIpamdConfig } from "../ipamd/config/mod.ts";
import {
  CONFLIST_NAME,
  isOurConflist,
  pathExists,
  writeConflist,
  writeFileAtomic,
} from "../ipamd/ops/mod.ts";
import { NODE_PATHS, renderEnvTemplate, renderUnit, UNIT_NAME } from "./systemd_unit.ts";

const INSTALL_USAGE = `usage: aws-cni install [--prefix DIR] [--write-conflist] [--binary FILE]
       aws-cni uninstall [--prefix DIR]

install copies this binary to /opt/cni/bin/aws-cni, writes the systemd unit
/etc/systemd/system/${UNIT_NAME} and the settings file /etc/aws-cni/ipamd.env (every
setting, commented; an existing file is kept). The unit starts ipamd with
--write-conflist /etc/cni/net.d, so the conflist appears once ipamd serves;
--write-conflist writes it now as well. --binary copies FILE instead of this binary.
uninstall removes what install wrote (a settings file you edited is kept).
--prefix DIR puts everything under DIR instead of /.
`;

/** Where install writes, under a prefix. */
interface Layout {
  readonly binDir: string;
  readonly binary: string;
  readonly conflistDir: string;
  readonly unit: string;
  readonly envDir: string;
  readonly envFile: string;
}

function layout(prefix: string): Layout {
  const root = prefix.replace(/\/+$/, "");
  const envFile = root + NODE_PATHS.envFile;
  return {
    binDir: `${root}/opt/cni/bin`,
    binary: root + NODE_PATHS.binary,
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

async function findBinary(flag: string | undefined): Promise<BinarySource> {
  let path = flag;
  if (path === undefined) {
    path = runningCompiled() ? Deno.execPath() : launcherPath(import.meta.url);
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

async function install(io: Io, paths: Layout, options: { binary?: string; writeConflist: boolean }) {
  const config = options.writeConflist ? parseIpamdConfig(io.env) : null;
  const source = await findBinary(options.binary);
  const say = (line: string) => io.stdout(`${line}\n`);
  await Deno.mkdir(paths.binDir, { recursive: true, mode: 0o755 });
  if (await sameFile(source.path, paths.binary)) say(`kept ${paths.binary} (it is the running binary)`);
  else {
    await writeFileAtomic(paths.binary, await Deno.readFile(source.path), 0o755);
    say(`installed ${paths.binary} from ${source.path}`);
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
  say("next: systemctl daemon-reload && systemctl enable --now aws-ipamd");
}

async function removeIf(path: string, say: (line: string) => void): Promise<void> {
  if (!await pathExists(path)) return;
  await Deno.remove(path);
  say(`removed ${path}`);
}

async function uninstall(io: Io, paths: Layout) {
  const say = (line: string) => io.stdout(`${line}\n`);
  say("(stop the service first: systemctl disable --now aws-ipamd)");
  await removeIf(paths.unit, say);
  const conflist = `${paths.conflistDir}/${CONFLIST_NAME}`;
  if (await pathExists(conflist)) {
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
  await removeIf(paths.binary, say);
  say("left /run/aws-node (socket, checkpoint) and /var/log/aws-routed-eni; then: systemctl daemon-reload");
}

/** Runs `install` or `uninstall` (`verb`); returns the exit code. */
export async function installCommand(io: Io, verb: string): Promise<number> {
  let values;
  const uninstalling = verb === "uninstall";
  try {
    values = parseArgs({
      args: [...io.args],
      options: {
        prefix: { type: "string" },
        help: { type: "boolean", short: "h" },
        ...(uninstalling ? {} : { "write-conflist": { type: "boolean" }, binary: { type: "string" } }),
      },
      strict: true,
      allowPositionals: false,
    }).values as { prefix?: string; help?: boolean; "write-conflist"?: boolean; binary?: string };
  } catch (error) {
    io.stderr(`aws-cni ${verb}: ${errorText(error)}\n${INSTALL_USAGE}`);
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
    if (uninstalling) await uninstall(io, paths);
    else {
      await install(io, paths, {
        writeConflist: values["write-conflist"] === true,
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
