/**
 * `aws-cni install` and `aws-cni uninstall` in a temp prefix: the files they
 * write and remove, what they keep, the launcher case, and the unit checked by
 * `systemd-analyze verify` when it is installed.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { installCommand } from "../cli/install.ts";
import { IPAMD_ENV_TABLE } from "../ipamd/config/config.ts";
import { renderEnvTemplate } from "../cli/systemd_unit.ts";
import { recordedIo } from "../shared/io.ts";
import { VERSION } from "../shared/version.ts";

const DIST = new URL("../dist/aws-cni", import.meta.url).pathname;

async function withPrefix(fn: (prefix: string) => Promise<void>): Promise<void> {
  const prefix = await Deno.makeTempDir({ prefix: "aws-cni-install-" });
  try {
    await fn(prefix);
  } finally {
    await Deno.remove(prefix, { recursive: true });
  }
}

async function run(verb: string, args: string[], env: Record<string, string> = {}) {
  const io = recordedIo({ args, env });
  const code = await installCommand(io, verb);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

/** Every file under `dir`, relative, sorted. */
function files(dir: string, base = dir): string[] {
  return [...Deno.readDirSync(dir)].flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    return entry.isDirectory ? files(path, base) : [path.slice(base.length)];
  }).sort();
}

Deno.test("install writes binary, unit, settings and conflist under a prefix; uninstall removes them", async () => {
  await withPrefix(async (prefix) => {
    const binary = `${prefix}/built-aws-cni`;
    await Deno.writeTextFile(binary, "\x7fELF pretend binary");
    await Deno.mkdir(`${prefix}/opt/cni/bin`, { recursive: true });
    await Deno.writeTextFile(`${prefix}/opt/cni/bin/portmap`, "");
    const installed = await run("install", ["--prefix", prefix, "--binary", binary, "--write-conflist"], {
      POD_MTU: "1500",
    });
    equal(installed.code, 0, installed.err);
    equal(installed.err, "");
    deepStrictEqual(files(prefix), [
      "/built-aws-cni",
      "/etc/aws-cni/ipamd.env",
      "/etc/cni/net.d/10-aws.conflist",
      "/etc/systemd/system/aws-ipamd.service",
      "/opt/cni/bin/aws-cni",
      "/opt/cni/bin/portmap",
    ]);
    equal(await Deno.readTextFile(`${prefix}/opt/cni/bin/aws-cni`), "\x7fELF pretend binary");
    equal((await Deno.stat(`${prefix}/opt/cni/bin/aws-cni`)).mode! & 0o777, 0o755);
    const unit = await Deno.readTextFile(`${prefix}/etc/systemd/system/aws-ipamd.service`);
    match(unit, /^ExecStart=\/opt\/cni\/bin\/aws-cni --daemon --write-conflist \/etc\/cni\/net\.d$/m);
    const env = await Deno.readTextFile(`${prefix}/etc/aws-cni/ipamd.env`);
    for (const row of IPAMD_ENV_TABLE) ok(env.includes(`\n#${row.name}=${row.default}\n`), row.name);
    const conflist = JSON.parse(await Deno.readTextFile(`${prefix}/etc/cni/net.d/10-aws.conflist`));
    equal(conflist.cniVersion, "1.0.0");
    equal(conflist.plugins[0].mtu, "1500");
    equal(conflist.plugins[1].type, "portmap");
    match(installed.out, /next: systemctl daemon-reload && systemctl enable --now aws-ipamd/);

    const removed = await run("uninstall", ["--prefix", prefix]);
    equal(removed.code, 0, removed.err);
    deepStrictEqual(files(prefix), ["/built-aws-cni", "/opt/cni/bin/portmap"]);
    ok(!(await Array.fromAsync(Deno.readDir(`${prefix}/etc`))).some((e) => e.name === "aws-cni"));
    const again = await run("uninstall", ["--prefix", prefix]);
    equal(again.code, 0, "uninstall twice is fine");
  });
});

Deno.test("install leaves the conflist to ipamd unless asked, and keeps settings an operator edited", async () => {
  await withPrefix(async (prefix) => {
    const binary = `${prefix}/b`;
    await Deno.writeTextFile(binary, "bin");
    await Deno.mkdir(`${prefix}/etc/aws-cni`, { recursive: true });
    await Deno.writeTextFile(`${prefix}/etc/aws-cni/ipamd.env`, "WARM_IP_TARGET=5\n");
    await Deno.mkdir(`${prefix}/etc/cni/net.d`, { recursive: true });
    const first = await run("install", ["--prefix", prefix, "--binary", binary]);
    equal(first.code, 0, first.err);
    match(first.out, /kept .*\/etc\/aws-cni\/ipamd\.env/);
    match(first.out, /10-aws\.conflist: ipamd writes it once it serves/);
    ok(!files(prefix).includes("/etc/cni/net.d/10-aws.conflist"));
    equal(await Deno.readTextFile(`${prefix}/etc/aws-cni/ipamd.env`), "WARM_IP_TARGET=5\n");
    const other = JSON.stringify({ cniVersion: "1.0.0", name: "other", plugins: [{ type: "bridge" }] });
    await Deno.writeTextFile(`${prefix}/etc/cni/net.d/10-aws.conflist`, other);
    const removed = await run("uninstall", ["--prefix", prefix]);
    equal(removed.code, 0, removed.err);
    match(removed.out, /kept .*ipamd\.env: it holds your settings/);
    match(removed.out, /left .*10-aws\.conflist: aws-cni did not write it/);
    deepStrictEqual(files(prefix), ["/b", "/etc/aws-cni/ipamd.env", "/etc/cni/net.d/10-aws.conflist"]);
    equal(renderEnvTemplate().includes("WARM_IP_TARGET=5"), false);
  });
});

Deno.test("install rejects a relative prefix, unknown flags and bad settings, and names a missing binary", async () => {
  equal((await run("install", ["--prefix", "relative"])).code, 2);
  equal((await run("install", ["--bogus"])).code, 2);
  equal((await run("uninstall", ["--write-conflist"])).code, 2);
  await withPrefix(async (prefix) => {
    const bad = await run("install", ["--prefix", prefix, "--binary", `${prefix}/b`, "--write-conflist"], {
      POD_MTU: "1",
    });
    equal(bad.code, 2);
    match(bad.err, /POD_MTU/);
    const missing = await run("install", ["--prefix", prefix, "--binary", `${prefix}/absent`]);
    equal(missing.code, 1);
    match(missing.err, /Cannot read the binary/);
    deepStrictEqual(files(prefix), []);
  });
});

const distKind = await Deno.readTextFile(DIST).then(
  (text) => text.startsWith("#!") && text.includes("aws-cni LAUNCHER") ? "launcher" : "compiled",
  () => "missing",
).catch(() => "compiled");

Deno.test({
  name: "install copies the launcher dist/aws-cni as it is, says why, and the copy runs",
  ignore: distKind !== "launcher",
  fn: () =>
    withPrefix(async (prefix) => {
      const result = await run("install", ["--prefix", prefix]);
      equal(result.code, 0, result.err);
      match(result.err, /is the launcher script `make build` writes/);
      match(result.err, /DENORT_BIN/);
      equal(await Deno.readTextFile(`${prefix}/opt/cni/bin/aws-cni`), await Deno.readTextFile(DIST));
      const version = await new Deno.Command(`${prefix}/opt/cni/bin/aws-cni`, { args: ["version"] }).output();
      equal(new TextDecoder().decode(version.stdout), `aws-cni ${VERSION}\n`);
    }),
});

const analyze = await new Deno.Command("systemd-analyze", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((out) => out.success, () => false);
if (!analyze) {
  // deno-lint-ignore no-console
  console.warn(
    "install_roundtrip_test: systemd-analyze is not installed (apt package systemd); unit check skipped",
  );
}

Deno.test({
  name: "the installed unit passes systemd-analyze verify without a warning",
  ignore: !analyze,
  fn: () =>
    withPrefix(async (prefix) => {
      const binary = `${prefix}/b`;
      await Deno.writeTextFile(binary, "#!/bin/sh\n", { mode: 0o755 });
      equal((await run("install", ["--prefix", prefix, "--binary", binary])).code, 0);
      // verify checks that ExecStart exists, so point it at the staged binary.
      const unit = (await Deno.readTextFile(`${prefix}/etc/systemd/system/aws-ipamd.service`))
        .replaceAll("/opt/cni/bin/aws-cni", `${prefix}/opt/cni/bin/aws-cni`);
      await Deno.writeTextFile(`${prefix}/aws-ipamd.service`, unit);
      const out = await new Deno.Command("systemd-analyze", {
        args: ["verify", `${prefix}/aws-ipamd.service`],
        env: { SYSTEMD_LOG_COLOR: "0" },
      }).output();
      const messages = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
      equal(out.code, 0, messages);
      equal(messages.split("\n").filter((line) => line.includes("aws-ipamd.service")).join("\n"), "");
    }),
});
