/**
 * `aws-cni install` and `aws-cni uninstall` in a temp prefix: the files they
 * write and remove, what they keep, the launcher case, and the unit checked by
 * `systemd-analyze verify` when it is installed.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { installCommand, type Systemctl } from "../cli/install.ts";
import { IPAMD_ENV_TABLE } from "../ipamd/config/config.ts";
import { renderEnvTemplate } from "../cli/systemd_unit.ts";
import { recordedIo } from "../testing/recorded_io.ts";
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

async function run(verb: string, args: string[], env: Record<string, string> = {}, systemctl?: Systemctl) {
  const io = recordedIo({ args, env });
  const code = await installCommand(io, verb, systemctl === undefined ? {} : { systemctl });
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

Deno.test("install over an install replaces the binary in one rename, restarts ipamd and keeps the checkpoint; a rollback swaps back", async () => {
  await withPrefix(async (prefix) => {
    const [v1, v2] = [`${prefix}/v1`, `${prefix}/v2`];
    await Deno.writeTextFile(v1, "\x7fELF version 1");
    await Deno.writeTextFile(v2, "\x7fELF version 2");
    const calls: string[][] = [];
    const systemctl = (args: readonly string[]) => (calls.push([...args]), Promise.resolve(""));
    const installed = await run("install", ["--prefix", prefix, "--binary", v1, "--restart"], {}, systemctl);
    equal(installed.code, 0, installed.err);
    deepStrictEqual(calls, [], "a first install has nothing to restart");
    // ipamd's state lives beside, in /run/aws-node; an upgrade never touches it.
    const checkpoint = `${prefix}/run/aws-node/ipam.json`;
    await Deno.mkdir(`${prefix}/run/aws-node`, { recursive: true });
    const state = JSON.stringify({ version: "vpc-cni-ipam/1", allocations: [{ ipv4: "10.0.0.5" }] });
    await Deno.writeTextFile(checkpoint, state);
    await Deno.writeTextFile(`${prefix}/etc/aws-cni/ipamd.env`, "WARM_IP_TARGET=5\n");
    const before = await Deno.stat(`${prefix}/opt/cni/bin/aws-cni`);

    const upgraded = await run("install", ["--prefix", prefix, "--binary", v2, "--restart"], {}, systemctl);
    equal(upgraded.code, 0, upgraded.err);
    equal(await Deno.readTextFile(`${prefix}/opt/cni/bin/aws-cni`), "\x7fELF version 2");
    equal(await Deno.readTextFile(`${prefix}/opt/cni/bin/aws-cni.previous`), "\x7fELF version 1");
    const after = await Deno.stat(`${prefix}/opt/cni/bin/aws-cni`);
    ok(after.ino !== before.ino, "a new inode: a running ipamd keeps its open file until it restarts");
    deepStrictEqual(calls, [["daemon-reload"], ["try-restart", "aws-ipamd.service"]]);
    match(
      upgraded.out,
      /replaced .*\/opt\/cni\/bin\/aws-cni .*roll back with: \/opt\/cni\/bin\/aws-cni\.previous install/,
    );
    match(upgraded.out, /restarted aws-ipamd\.service if it was running: .*pods keep their addresses/);
    equal(await Deno.readTextFile(checkpoint), state);
    equal(await Deno.readTextFile(`${prefix}/etc/aws-cni/ipamd.env`), "WARM_IP_TARGET=5\n");

    calls.length = 0;
    const rolledBack = await run(
      "install",
      [
        "--prefix",
        prefix,
        "--binary",
        `${prefix}/opt/cni/bin/aws-cni.previous`,
        "--restart",
      ],
      {},
      systemctl,
    );
    equal(rolledBack.code, 0, rolledBack.err);
    equal(await Deno.readTextFile(`${prefix}/opt/cni/bin/aws-cni`), "\x7fELF version 1");
    equal(await Deno.readTextFile(`${prefix}/opt/cni/bin/aws-cni.previous`), "\x7fELF version 2");
    deepStrictEqual(calls, [["daemon-reload"], ["try-restart", "aws-ipamd.service"]]);
    equal(await Deno.readTextFile(checkpoint), state);
  });
});

Deno.test("install --no-restart and a failing systemctl leave ipamd on the old binary and say how to restart", async () => {
  await withPrefix(async (prefix) => {
    for (const [name, text] of [["v1", "one"], ["v2", "two"], ["v3", "three"]] as const) {
      await Deno.writeTextFile(`${prefix}/${name}`, text);
    }
    const calls: string[][] = [];
    const failing = (args: readonly string[]) => (calls.push([...args]), Promise.resolve("Unit not loaded"));
    equal((await run("install", ["--prefix", prefix, "--binary", `${prefix}/v1`])).code, 0);
    const held = await run(
      "install",
      ["--prefix", prefix, "--binary", `${prefix}/v2`, "--no-restart"],
      {},
      failing,
    );
    equal(held.code, 0, held.err);
    deepStrictEqual(calls, []);
    match(held.out, /next: systemctl daemon-reload && systemctl try-restart aws-ipamd\.service/);
    const failed = await run(
      "install",
      ["--prefix", prefix, "--binary", `${prefix}/v3`, "--restart"],
      {},
      failing,
    );
    equal(failed.code, 0, failed.err);
    match(failed.err, /cannot restart aws-ipamd\.service onto the new binary: Unit not loaded/);
  });
});

Deno.test("uninstall --keep-plugin hands the node back to aws-node: binary, conflist and checkpoint stay", async () => {
  await withPrefix(async (prefix) => {
    await Deno.writeTextFile(`${prefix}/b`, "bin");
    equal(
      (await run("install", ["--prefix", prefix, "--binary", `${prefix}/b`, "--write-conflist"])).code,
      0,
    );
    await Deno.mkdir(`${prefix}/run/aws-node`, { recursive: true });
    await Deno.writeTextFile(
      `${prefix}/run/aws-node/ipam.json`,
      '{"version":"vpc-cni-ipam/1","allocations":[]}',
    );
    const handed = await run("uninstall", ["--prefix", prefix, "--keep-plugin"]);
    equal(handed.code, 0, handed.err);
    match(handed.out, /left .*aws-cni and .*10-aws\.conflist for aws-node to replace/);
    deepStrictEqual(files(prefix), [
      "/b",
      "/etc/cni/net.d/10-aws.conflist",
      "/opt/cni/bin/aws-cni",
      "/run/aws-node/ipam.json",
    ]);
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

Deno.test({
  name: "a copy of the launcher installs itself, not the checkout's dist/aws-cni (a rollback runs .previous)",
  ignore: distKind !== "launcher",
  fn: () =>
    withPrefix(async (prefix) => {
      const copy = `${prefix}/aws-cni.previous`;
      await Deno.writeTextFile(copy, `${await Deno.readTextFile(DIST)}# this copy\n`, { mode: 0o755 });
      const out = await new Deno.Command(copy, { args: ["install", "--prefix", `${prefix}/root`] }).output();
      equal(out.code, 0, new TextDecoder().decode(out.stderr));
      equal(await Deno.readTextFile(`${prefix}/root/opt/cni/bin/aws-cni`), await Deno.readTextFile(copy));
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
