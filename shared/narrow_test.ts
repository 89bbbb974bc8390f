/**
 * Each role narrows the baked permission set to its share, on the pinned Deno:
 * a process run with `-P=aws-cni` (the set `deno compile` bakes in) narrows and
 * reports what it may still do. If a Deno upgrade changes what revoking a path
 * of a listed grant does, these fail.
 */
import assert from "node:assert/strict";
import {
  bakedEntries,
  dropped,
  type NarrowedKind,
  type NarrowRole,
  ROLE_SHARES,
  roleMayUse,
} from "./narrow.ts";
import { canCreateNodeMounts, createNodeMounts, createTempDir, type NodeMounts } from "../testing/netns.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PROBE = new URL("../testing/narrow_probe.ts", import.meta.url).pathname;

interface Probe {
  readonly states: readonly string[];
  readonly writes: Readonly<Record<string, string>>;
}

/** Runs the probe as `role` under the baked set (inside `mounts` when given). */
async function probe(
  role: NarrowRole | "none",
  descriptors: readonly Deno.PermissionDescriptor[],
  paths: readonly string[] = [],
  mounts?: NodeMounts,
): Promise<Probe> {
  const deno = [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    "--config",
    `${ROOT}deno.json`,
    "-P=aws-cni",
  ];
  const args = [...deno, PROBE, role, JSON.stringify(descriptors), JSON.stringify(paths)];
  const [program, ...rest] = mounts === undefined ? args : ["nsenter", `--mount=${mounts.ns}`, ...args];
  const out = await new Deno.Command(program!, { args: rest, stdout: "piped", stderr: "piped" }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function descriptor(kind: NarrowedKind, value: string): Deno.PermissionDescriptor {
  if (kind === "net") return { name: "net", host: value };
  if (kind === "run") return { name: "run", command: value };
  return { name: kind, path: value };
}

/** Something each baked entry grants, to ask about. */
function sample(kind: NarrowedKind, entry: string): string {
  if (kind === "net") {
    return entry.replace(/^\*\./, "ec2.us-east-1.").replace(/^0\.0\.0\.0\/0:/, "10.1.2.3:").replace(
      /^127\.0\.0\.1$/,
      "127.0.0.1:9",
    );
  }
  if (kind === "run") return entry;
  return entry === "/" ? "/srv/some/user/file" : `${entry}/file`;
}

const KINDS = ["read", "write", "net", "run"] as const;

Deno.test("every role's share is part of the baked set", () => {
  for (const [role, share] of Object.entries(ROLE_SHARES)) {
    for (const kind of KINDS) {
      const kept = share[kind];
      const baked = bakedEntries(kind);
      if (kept === "all" || baked === true) continue;
      for (const entry of kept) assert.ok(baked.includes(entry), `${role} keeps ${kind} ${entry}, not baked`);
    }
  }
});

Deno.test("once narrowed, a role holds exactly its share of the baked set", async () => {
  for (const role of Object.keys(ROLE_SHARES) as NarrowRole[]) {
    const asked = KINDS.flatMap((kind) => {
      const baked = bakedEntries(kind);
      return baked === true ? [] : baked.map((entry) => ({ kind, entry }));
    });
    const { states } = await probe(
      role,
      asked.map(({ kind, entry }) => descriptor(kind, sample(kind, entry))),
    );
    const wrong = asked.flatMap(({ kind, entry }, i) => {
      const expected = dropped(role, kind).includes(entry) ? "prompt" : "granted";
      return states[i] === expected ? [] : [`${kind} ${entry}: ${states[i]}, expected ${expected}`];
    });
    assert.deepEqual(wrong, [], role);
  }
});

Deno.test("the baked set lets offline commands write anywhere; the plugin and ipamd narrow to the node's dirs", async () => {
  await using tmp = await createTempDir("aws-cni-narrow-");
  const file = `${tmp.path}/x`;
  const free = await probe("none", [{ name: "write", path: file }], [file]);
  assert.deepEqual(free, { states: ["granted"], writes: { [file]: "written" } });
  for (const role of ["replay", "install"] as const) {
    assert.deepEqual((await probe(role, [], [file])).writes, { [file]: "written" }, role);
  }
  for (const role of ["plugin", "daemon", "status", "plan"] as const) {
    assert.deepEqual((await probe(role, [], [file])).writes, { [file]: "NotCapable" }, role);
  }
  const node = [
    { name: "write", path: "/run/aws-node/ipamd.sock" },
    { name: "write", path: "/var/run/aws-node/ipam.json" },
    { name: "write", path: "/var/log/aws-routed-eni/plugin.log" },
    { name: "write", path: "/etc/cni/net.d/10-aws.conflist" },
    { name: "read", path: "/opt/cni/bin/portmap" },
    { name: "read", path: "/etc/shadow" },
    { name: "net", host: "unix:/var/run/aws-node/ipamd.sock" },
    { name: "net", host: "169.254.169.254:80" },
    { name: "net", host: "10.1.2.3:61678" },
    { name: "run", command: "ip" },
    { name: "run", command: "iptables-restore" },
  ] as const;
  const g = "granted", p = "prompt";
  assert.deepEqual((await probe("plugin", node)).states, [g, g, g, p, p, p, g, p, p, g, p]);
  assert.deepEqual((await probe("daemon", node)).states, [g, g, g, g, g, p, g, g, g, g, g]);
});

Deno.test({
  name: "a narrowed daemon writes its node directories for real (in a private mount namespace)",
  ignore: !await canCreateNodeMounts(),
  async fn() {
    await using mounts = await createNodeMounts();
    const paths = [
      "/run/aws-node/probe",
      "/var/log/aws-routed-eni/probe",
      "/etc/cni/net.d/probe",
      "/tmp/probe",
    ];
    const { writes } = await probe("daemon", [], paths, mounts);
    assert.deepEqual(writes, {
      "/run/aws-node/probe": "written",
      "/var/log/aws-routed-eni/probe": "written",
      "/etc/cni/net.d/probe": "written",
      "/tmp/probe": "NotCapable",
    });
  },
});

Deno.test("roleMayUse() answers for a role's share, as Deno would, whatever the path's dots", () => {
  assert.ok(roleMayUse("plugin", "write", "/var/log/aws-routed-eni/plugin.log"));
  assert.ok(roleMayUse("plugin", "write", "/run/aws-node"));
  assert.ok(!roleMayUse("plugin", "write", "/run/aws-node-other/x"));
  assert.ok(!roleMayUse("plugin", "write", "/var/log/aws-routed-eni/../messages"));
  assert.ok(!roleMayUse("plugin", "write", "/etc/cni/net.d/x"));
  assert.ok(roleMayUse("daemon", "write", "/etc/cni/net.d/./x"));
  assert.ok(roleMayUse("install", "write", "/anywhere"));
  assert.ok(!roleMayUse("plan", "read", "/etc/passwd"));
});
