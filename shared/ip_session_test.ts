import assert from "node:assert/strict";
import { CommandIpRunner, EntryExistsError, LinkNotFoundError, NetnsNotFoundError } from "./ip_cmd.ts";
import { CommandIpSession, deadChild, type IpChild } from "./ip_session.ts";

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

const root = Deno.uid() === 0 && (await new Deno.Command("ip", { args: ["netns", "list"] }).output()).success;

Deno.test({
  name: "CommandIpRunner.open() runs steps in a real namespace, then detaches the last one",
  ignore: !root,
  async fn() {
    const name = `awscni-ipsession-${Deno.pid}`;
    await new Deno.Command("ip", { args: ["netns", "add", name] }).output();
    try {
      const runner = new CommandIpRunner();
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
  name: "CommandIpRunner.open() in a missing namespace fails each step as NetnsNotFoundError",
  ignore: !root,
  async fn() {
    const session = new CommandIpRunner().open({ netns: "/run/netns/awscni-missing-ns" });
    const [failure] = await session.step([["link", "set", "lo", "up"]]);
    assert.ok(failure?.error instanceof NetnsNotFoundError, String(failure?.error));
    assert.deepEqual((await session.end()).map((f) => f.index), []);
  },
});
