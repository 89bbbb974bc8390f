import assert from "node:assert/strict";
import { EntryExistsError, LinkNotFoundError, NetnsNotFoundError } from "../shared/mod.ts";
import { CommandIpSession, deadChild, type IpChild, SessionIpRunner } from "./ip_session.ts";

/** A child whose stderr the test writes, recording what the session sends it. */
function scriptedChild(): IpChild & { sent: () => string; say: (text: string) => void; exit: () => void } {
  let sent = "";
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let exited!: (status: Deno.CommandStatus) => void;
  return {
    stdin: new WritableStream({ write: (chunk) => void (sent += new TextDecoder().decode(chunk)) }),
    stderr: new ReadableStream({ start: (c) => void (controller = c) }),
    status: new Promise((resolve) => exited = resolve),
    unref: () => {},
    sent: () => sent,
    say: (text) => controller.enqueue(new TextEncoder().encode(text)),
    exit: () => {
      controller.close();
      exited({ success: false, code: 1, signal: null });
    },
  };
}

Deno.test("CommandIpSession ends a step at its marker's failure and attributes earlier failures to it", async () => {
  const child = scriptedChild();
  const session = new CommandIpSession(child);
  const first = session.step([["link", "del", "a"], ["link", "add", "b"]]);
  await new Promise((resolve) => setTimeout(resolve, 0)); // the write reaches the stream
  assert.equal(
    child.sent(),
    "link del a\nlink add b\nlink show dev aws-cni-step-marker\n",
    "the marker follows the step",
  );
  child.say('Cannot find device "a"\nCommand failed -:1\nDevice "aws-cni-step-mar');
  let settled = false;
  first.then(() => settled = true);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(settled, false, "the step waits for its marker");
  child.say('ker" does not exist.\nCommand failed -:3\n');
  assert.deepEqual((await first).map((f) => [f.index, f.error.name, f.error.command]), [
    [0, "LinkNotFoundError", "link del a"],
  ]);
  const last = session.end([["rule", "add", "x"]]);
  child.say("RTNETLINK answers: File exists\nCommand failed -:4\n");
  child.exit();
  assert.deepEqual((await last).map((f) => [f.index, f.error.name]), [[0, "EntryExistsError"]]);
  assert.equal(await session.end(), await last, "end() is idempotent");
});

Deno.test("CommandIpSession fails the step ip never finished, and every later one, with what ip said last", async () => {
  const child = scriptedChild();
  const session = new CommandIpSession(child);
  const step = session.step([["neigh", "replace", "x"]]);
  child.say("Error: something ip exits on.\n");
  child.exit();
  const [failure] = await step;
  assert.equal(failure?.index, -1);
  assert.match(failure!.error.message, /something ip exits on/);
  assert.deepEqual((await session.end([["link", "set", "eth0", "up"]])).map((f) => f.index), [-1]);
});

Deno.test("CommandIpSession over a child that never started fails every step with the reason", async () => {
  const session = new CommandIpSession(deadChild('Cannot open network namespace "x": No such file'));
  const [failure] = await session.step([["link", "set", "lo", "up"]]);
  assert.ok(failure?.error instanceof NetnsNotFoundError);
});

Deno.test("SessionIpRunner.open() starts ip with PATH alone, not this process's loader variables", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-ipsession-" });
  const saved = Deno.env.get("LD_LIBRARY_PATH");
  Deno.env.set("LD_LIBRARY_PATH", "/opt/containerd/lib:");
  try {
    // Stands in for ip: records its environment, then is ip.
    const ipPath = `${dir}/ip`;
    await Deno.writeTextFile(ipPath, `#!/bin/sh\nenv > "${dir}/env"\nexec ip "$@"\n`, { mode: 0o755 });
    const session = new SessionIpRunner({ ipPath }).open();
    assert.deepEqual(await session.step([["link", "show", "dev", "lo"]]), [], "the session's ip ran");
    assert.deepEqual(await session.end(), []);
    const names = (await Deno.readTextFile(`${dir}/env`)).trim().split("\n").map((line) =>
      line.split("=")[0]
    );
    // The shell adds PWD (and some shells SHLVL and _) itself.
    assert.deepEqual(names.filter((n) => !["PWD", "SHLVL", "_"].includes(n!)), ["PATH"]);
  } finally {
    if (saved === undefined) Deno.env.delete("LD_LIBRARY_PATH");
    else Deno.env.set("LD_LIBRARY_PATH", saved);
    await Deno.remove(dir, { recursive: true });
  }
});

const root = Deno.uid() === 0 && (await new Deno.Command("ip", { args: ["netns", "list"] }).output()).success;

Deno.test({
  name: "SessionIpRunner.open() runs steps in a real namespace, then detaches the last one",
  ignore: !root,
  async fn() {
    const name = `awscni-ipsession-${Deno.pid}`;
    await new Deno.Command("ip", { args: ["netns", "add", name] }).output();
    try {
      const runner = new SessionIpRunner();
      const ns = { netns: `/run/netns/${name}` };
      const session = runner.open(ns);
      assert.deepEqual(await session.step([["link", "add", "va", "type", "veth", "peer", "name", "vb"]]), []);
      const [links] = await runner.query([["link", "show", "dev", "va"]], ns);
      assert.equal((links as unknown[]).length, 1, "the step ran before step() resolved");
      const failures = await session.step([["link", "del", "nope"], ["link", "add", "va", "type", "dummy"]]);
      assert.deepEqual(failures.map((f) => [f.index, f.error.constructor]), [
        [0, LinkNotFoundError],
        [1, EntryExistsError],
      ]);
      assert.deepEqual(await session.step([["link", "set", "va", "name", "vgone"]]), []);
      session.detach([["link", "del", "vgone"]]);
      for (let i = 0; i < 200; i++) {
        const [left] = await runner.query([["link", "show"]], ns);
        if ((left as { ifname: string }[]).every((l) => l.ifname === "lo")) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.fail("the detached step never deleted the pair");
    } finally {
      await new Deno.Command("ip", { args: ["netns", "del", name] }).output();
    }
  },
});

Deno.test({
  name: "SessionIpRunner.open() in a missing namespace fails each step as NetnsNotFoundError",
  ignore: !root,
  async fn() {
    const session = new SessionIpRunner().open({ netns: "/run/netns/awscni-missing-ns" });
    const [failure] = await session.step([["link", "set", "lo", "up"]]);
    assert.ok(failure?.error instanceof NetnsNotFoundError, String(failure?.error));
    assert.deepEqual((await session.end()).map((f) => f.index), []);
  },
});
