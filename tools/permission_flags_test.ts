import assert from "node:assert/strict";
import { permissionFlags } from "./permission_flags.ts";

const DENO = Deno.execPath();
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("every form of a permission set becomes its flags", () => {
  const set = {
    read: { allow: ["/a", "rel"], deny: ["/a/secret"], ignore: ["/etc/shadow"] },
    write: ["/w"],
    env: true,
    net: { allow: ["127.0.0.1:80"], deny: true },
    run: ["ip", "./bin/tool"],
    ffi: false,
    sys: [],
  };
  assert.deepEqual(permissionFlags(set, "/conf"), [
    "--allow-read=/a,/conf/rel",
    "--deny-read=/a/secret",
    "--ignore-read=/etc/shadow",
    "--allow-write=/w",
    "--allow-env",
    "--allow-net=127.0.0.1:80",
    "--deny-net",
    "--allow-run=ip,./bin/tool",
  ]);
  assert.deepEqual(permissionFlags({ all: true, read: ["/a"] }, "/conf"), ["--allow-all"]);
  assert.deepEqual(permissionFlags({}, "/conf"), []);
});

Deno.test("--also-read adds to what the set reads, unless it reads everything", () => {
  assert.deepEqual(permissionFlags({ read: ["/a"] }, "/", ["/bundle"]), ["--allow-read=/a,/bundle"]);
  assert.deepEqual(permissionFlags({ read: { allow: true } }, "/", ["/bundle"]), ["--allow-read"]);
  assert.deepEqual(permissionFlags({ net: true }, "/", ["/bundle"]), ["--allow-read=/bundle", "--allow-net"]);
});

Deno.test("a set that flags cannot say is refused with the reason", () => {
  assert.throws(() => permissionFlags({ hrtime: true }, "/"), /Unknown permission "hrtime"/);
  assert.throws(
    () => permissionFlags({ net: { ignore: ["x"] } }, "/"),
    /Unknown field "ignore" of permission "net"/,
  );
  assert.throws(() => permissionFlags({ read: "/a" }, "/"), /must be true, false, a list or an object/);
  assert.throws(() => permissionFlags({ read: ["/a,b"] }, "/"), /has a comma/);
  assert.throws(() => permissionFlags([], "/"), /must be an object/);
});

/** Permission states a script sees, one line per descriptor. */
const PROBE = `
const descriptors = ${
  JSON.stringify([
    { name: "read", path: "/run/aws-node/ipam.json" },
    { name: "read", path: "/etc/passwd" },
    { name: "read", path: "/tmp/probe/a/secret" },
    { name: "read", path: "/tmp/probe/a/open" },
    { name: "write", path: "/etc/cni/net.d/10-aws.conflist" },
    { name: "write", path: "/tmp/x" },
    { name: "net", host: "169.254.169.254:80" },
    { name: "net", host: "ec2.us-west-2.amazonaws.com:443" },
    { name: "net", host: "example.com:443" },
    { name: "env", variable: "HOME" },
    { name: "run", command: "ip" },
    { name: "run", command: "sh" },
    { name: "sys", kind: "osRelease" },
    { name: "sys", kind: "hostname" },
    { name: "ffi" },
  ])
};
const states = [];
for (const d of descriptors) states.push(JSON.stringify(d) + " " + (await Deno.permissions.query(d)).state);
await Deno.stdout.write(new TextEncoder().encode(states.join("\\n")));
`;

async function probe(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(DENO, { args: ["run", "--quiet", "--no-prompt", ...args], cwd })
    .output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("the flags grant what Deno grants for -P with the config, for deno.json's set and a synthetic one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const project = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).permissions["aws-cni"];
    const synthetic = {
      read: { allow: ["/tmp/probe/a"], deny: ["/tmp/probe/a/secret"] },
      net: { allow: true, deny: ["example.com"] },
      sys: true,
    };
    await Deno.writeTextFile(`${dir}/probe.js`, PROBE);
    for (const [name, set] of Object.entries({ project, synthetic })) {
      await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ permissions: { [name]: set } }));
      const viaConfig = await probe([`-P=${name}`, "probe.js"], dir);
      const flags = permissionFlags(set, dir);
      const viaFlags = await probe(["--no-config", ...flags, "probe.js"], dir);
      assert.equal(viaFlags, viaConfig, name);
      assert.match(viaConfig, /granted/, name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
