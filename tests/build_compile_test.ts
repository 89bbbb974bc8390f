/**
 * The build's compile step (tools/compile.sh) run with a stand-in runtime: `deno
 * compile` appends its payload to whatever DENORT_BIN names (an ELF file), so the
 * result does not run, but it shows that compile finishes and what a real binary
 * would embed: main.js and every role's bundle byte for byte, the permission set
 * deno.json names `aws-cni`, the same one the launcher passes as flags, and the V8
 * flags of shared/runtime_tuning.ts, which the launcher passes too, with its malloc
 * settings.
 * Needs dist/bin from `make build` (`make test` builds first).
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type RoleName, ROLES, roleUrl } from "../cli/roles.ts";
import { permissionFlags } from "../tools/permission_flags.ts";
import { MALLOC_ENV, V8_FLAGS } from "../shared/runtime_tuning.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BIN = `${ROOT}/dist/bin`;
/** Marks the start (and the end) of a standalone payload, followed by the metadata's length and JSON. */
const MAGIC = "d3n0l4nd";

/** The bundle's files a binary must embed: main.js and one per role. */
function bundleFiles(): string[] {
  return [
    "main.js",
    ...Object.values(ROLES).map(([path]) => path.replace(/^\.\//, "").replace(/\.ts$/, ".js")),
  ];
}

async function projectSet(): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).permissions["aws-cni"];
}

/** The payload's metadata: the JSON after the magic and its little-endian u64 length. */
function payloadMetadata(binary: Buffer): Record<string, unknown> {
  for (let at = binary.indexOf(MAGIC); at !== -1; at = binary.indexOf(MAGIC, at + 1)) {
    const start = at + MAGIC.length + 8;
    if (start >= binary.length || binary[start] !== "{".charCodeAt(0)) continue;
    const length = Number(binary.readBigUInt64LE(at + MAGIC.length));
    return JSON.parse(binary.subarray(start, start + length).toString("utf8"));
  }
  throw new Error(`no ${MAGIC} payload with metadata in the compiled file`);
}

/** What `--allow-read=/a,/b` or `--allow-env` says, as the payload's permissions record it. */
function bakedFromFlags(flags: readonly string[]): Record<string, string[]> {
  const baked: Record<string, string[]> = {};
  for (const flag of flags) {
    const match = /^--(allow|deny|ignore)-([a-z]+)(?:=(.*))?$/.exec(flag);
    assert.ok(match, flag);
    baked[`${match[1]}_${match[2]}`] = match[3] === undefined ? [] : match[3].split(",");
  }
  return baked;
}

Deno.test("compile with a stand-in runtime embeds main.js, every role's bundle, deno.json's permission set and the V8 flags", async () => {
  for (const file of bundleFiles()) {
    assert.ok(
      (await Deno.stat(`${BIN}/${file}`).catch(() => null))?.isFile,
      `${BIN}/${file}: run \`make build\``,
    );
  }
  const dir = await Deno.makeTempDir();
  try {
    const standIn = `${dir}/denort`;
    await Deno.copyFile(await Deno.realPath("/bin/true"), standIn);
    const out = `${dir}/aws-cni`;
    const result = await new Deno.Command("bash", {
      args: [`${ROOT}/tools/compile.sh`, out],
      env: { DENORT_BIN: standIn, DENO_NO_UPDATE_CHECK: "1" },
    }).output();
    assert.equal(result.code, 0, `compile failed: ${new TextDecoder().decode(result.stderr)}`);
    const binary = Buffer.from(await Deno.readFile(out));
    assert.ok(
      binary.subarray(0, 4).equals(Buffer.from("\x7fELF", "latin1")),
      "the output is the stand-in, an ELF file",
    );
    for (const file of bundleFiles()) {
      const content = await Deno.readFile(`${BIN}/${file}`);
      assert.notEqual(binary.indexOf(Buffer.from(content)), -1, `the payload lacks dist/bin/${file}`);
    }
    const metadata = payloadMetadata(binary);
    assert.match(String(metadata.entrypoint_key), /(^|\/)dist\/bin\/main\.js$/);
    const permissions = metadata.permissions as Record<string, unknown>;
    const expected = bakedFromFlags(permissionFlags(await projectSet(), ROOT));
    for (const [key, value] of Object.entries(permissions)) {
      if (key === "prompt" || key.endsWith("_import")) continue;
      assert.deepEqual(value, expected[key] ?? null, key);
    }
    for (const key of Object.keys(expected)) assert.ok(key in permissions, `the payload has no ${key}`);
    // Deno records its own defaults first; the flags given to compile come last.
    assert.ok(V8_FLAGS.length > 0, "the binary carries V8 flags");
    assert.deepEqual((metadata.v8_flags as string[]).slice(-V8_FLAGS.length), V8_FLAGS);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "the launcher runs the bundle a binary embeds, with deno.json's permission set as flags, no config, the binary's V8 flags and the malloc settings",
  ignore: !(await Deno.readTextFile(`${ROOT}/dist/aws-cni`).catch(() => "")).includes("aws-cni LAUNCHER"),
  fn: async () => {
    const text = await Deno.readTextFile(`${ROOT}/dist/aws-cni`);
    const exec = text.split("\n").find((line) => line.startsWith("exec "));
    assert.ok(exec, "the launcher has an exec line");
    const words = [...exec.matchAll(/'([^']*)'/g)].map((match) => match[1]);
    const flags = permissionFlags(await projectSet(), ROOT, [BIN]);
    assert.deepEqual(words.slice(1, 6), [
      "run",
      "--quiet",
      "--no-config",
      "--no-prompt",
      `--v8-flags=${V8_FLAGS.join(",")}`,
    ]);
    assert.deepEqual(words.slice(6, -1), flags);
    assert.equal(words.at(-1), `${BIN}/main.js`);
    const exported = text.split("\n").find((line) => line.startsWith("export "));
    assert.ok(exported, "the launcher exports its environment");
    for (const [name, value] of Object.entries(MALLOC_ENV)) {
      assert.ok(exported.split(" ").includes(`${name}=${value}`), `the launcher exports ${name}=${value}`);
    }
  },
});

Deno.test("each role's bundle, found as the bundled main.js finds it, exports that role's entry function", async () => {
  for (const [name, [, symbol]] of Object.entries(ROLES)) {
    const mod: Record<string, unknown> = await import(roleUrl(name as RoleName, `file://${BIN}/main.js`));
    assert.equal(typeof mod[symbol], "function", `${name}: ${symbol}`);
  }
});
