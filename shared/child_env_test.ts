import assert from "node:assert/strict";
import { CHILD_PATH_DIRS, childEnv, childPath, mayRun } from "./child_env.ts";

const FIXED = CHILD_PATH_DIRS.join(":");

Deno.test("childPath() puts the directories where the program is permitted first", () => {
  assert.equal(childPath("ip", () => true), FIXED, "unrestricted: the usual order");
  assert.equal(childPath("ip", () => false), FIXED, "nothing permitted: the usual order");
  assert.equal(
    childPath("ip", (path) => path === "/usr/bin/ip"),
    "/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/bin",
  );
  assert.equal(
    childPath("ip", (path) => path === "/bin/ip" || path === "/usr/sbin/ip"),
    "/usr/sbin:/bin:/usr/local/sbin:/usr/local/bin:/usr/bin:/sbin",
  );
  assert.equal(childPath("/opt/ip", () => false), FIXED, "an absolute program is not looked up");
});

Deno.test("mayRun() takes the permission by name or at any of the children's PATH directories", () => {
  assert.equal(mayRun("ip", (path) => path === "ip"), true);
  assert.equal(mayRun("ip", (path) => path === "/usr/sbin/ip"), true);
  assert.equal(mayRun("ip", (path) => path === "/opt/bin/ip"), false);
  assert.equal(mayRun("/opt/bin/ip", (path) => path === "/opt/bin/ip"), true);
  assert.equal(mayRun("/opt/bin/ip", (path) => path === "/usr/sbin/ip"), false);
});

Deno.test("childEnv() is PATH plus the named variables, never a loader variable", () => {
  const permitted = () => true;
  assert.deepEqual(childEnv("ip", { permitted }), { PATH: FIXED });
  assert.deepEqual(
    childEnv("systemd-notify", {
      env: { NOTIFY_SOCKET: "/run/systemd/notify", UNSET: undefined },
      permitted,
    }),
    { PATH: FIXED, NOTIFY_SOCKET: "/run/systemd/notify" },
  );
  for (const name of ["LD_LIBRARY_PATH", "LD_PRELOAD", "DYLD_INSERT_LIBRARIES", "PATH"]) {
    assert.throws(() => childEnv("ip", { env: { [name]: "/x" }, permitted }), TypeError, name);
  }
});

/** A directory other than /usr/sbin where `ip` is installed, as a runtime's PATH may name only it. */
async function ipOutsideSbin(): Promise<string | undefined> {
  for (const dir of ["/usr/bin", "/bin"]) {
    if (await Deno.stat(`${dir}/ip`).then(() => true, () => false)) return dir;
  }
  return undefined;
}

Deno.test("childCommand() runs ip under --allow-run=ip with loader variables and another PATH in the parent", async () => {
  const dir = await ipOutsideSbin();
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    const module = new URL("./child_env.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { childCommand } from ${JSON.stringify(module)};\n` +
        `const out = await childCommand("ip", { args: ["-V"], stdout: "piped", stderr: "piped" }).output();\n` +
        `const text = new TextDecoder().decode(out.stdout);\n` +
        `if (!out.success || !text.includes("ip")) throw new Error("ip -V failed: " + text);\n`,
    );
    // A runtime's environment: containerd's opt plugin, a preload, and (when ip lives elsewhere too) no /usr/sbin.
    const parentPaths = dir === undefined ? [FIXED] : [FIXED, `${dir}:/usr/local/bin`];
    for (const PATH of parentPaths) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", "--no-config", "--no-prompt", "--allow-run=ip", script],
        clearEnv: true,
        env: {
          PATH,
          HOME: Deno.env.get("HOME") ?? "/root",
          DENO_NO_UPDATE_CHECK: "1",
          LD_LIBRARY_PATH: "/opt/containerd/lib:",
          LD_PRELOAD: "/nonexistent/libpreload.so",
          DYLD_LIBRARY_PATH: "/nowhere",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, `PATH=${PATH}: ${new TextDecoder().decode(out.stderr)}`);
    }
  } finally {
    await Deno.remove(script);
  }
});
