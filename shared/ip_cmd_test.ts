import assert from "node:assert/strict";
import { AlreadyExistsError, NotFoundError } from "./errors.ts";
import {
  batchText,
  CommandIpRunner,
  EntryExistsError,
  EntryNotFoundError,
  IpCommandError,
  ipErrorFromStderr,
  LinkNotFoundError,
  NetnsNotFoundError,
  NotNetnsError,
  parseBatchStderr,
} from "./ip_cmd.ts";

Deno.test("batchText() joins commands and refuses words ip -batch would split or interpret", () => {
  assert.equal(batchText([["link", "set", "eth0", "up"], ["rule", "show"]]), "link set eth0 up\nrule show\n");
  for (const word of ["", "a b", 'a"', "a'", "a\\b", "#x", "a\nb"]) {
    assert.throws(() => batchText([["link", "del", word]]), TypeError, JSON.stringify(word));
  }
});

Deno.test("ipErrorFromStderr() maps known texts to typed errors", () => {
  const info = { command: "x", index: 0 };
  assert.ok(ipErrorFromStderr('Cannot find device "eth9"', info) instanceof LinkNotFoundError);
  assert.ok(ipErrorFromStderr('Device "eth9" does not exist.', info) instanceof LinkNotFoundError);
  assert.ok(ipErrorFromStderr("RTNETLINK answers: File exists", info) instanceof EntryExistsError);
  assert.ok(ipErrorFromStderr("RTNETLINK answers: File exists", info) instanceof AlreadyExistsError);
  assert.ok(ipErrorFromStderr("RTNETLINK answers: No such process", info) instanceof EntryNotFoundError);
  assert.ok(ipErrorFromStderr("Error: ipv4: Address not found.", info) instanceof NotFoundError);
  assert.ok(
    ipErrorFromStderr("nsenter: cannot open /x: No such file or directory", info) instanceof
      NetnsNotFoundError,
  );
  const wrongKind = ipErrorFromStderr(
    "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument",
    info,
  );
  assert.ok(wrongKind instanceof NotNetnsError && wrongKind instanceof NetnsNotFoundError);
  assert.ok(
    !(ipErrorFromStderr('Error: argument "/x" is wrong: Invalid "netns" value', info) instanceof
      NotNetnsError),
  );
  const other = ipErrorFromStderr("Error: Nexthop has invalid gateway.", info);
  assert.ok(other instanceof IpCommandError);
  assert.equal(other.message, 'Cannot run ip "x": Error: Nexthop has invalid gateway.');
});

Deno.test("parseBatchStderr() attributes each error to its line, and text without a marker to index -1", () => {
  const commands = [["link", "del", "a"], ["link", "add", "b"], ["rule", "add"], ["neigh", "add"]];
  const stderr =
    'Cannot find device "a"\nCommand failed -:1\nRTNETLINK answers: File exists\nCommand failed -:3\n' +
    "RTNETLINK answers: Invalid argument\n";
  const failures = parseBatchStderr(stderr, commands, true);
  assert.deepEqual(failures.map((f) => [f.index, f.error.name, f.error.command]), [
    [0, "LinkNotFoundError", "link del a"],
    [2, "EntryExistsError", "rule add"],
    [-1, "IpCommandError", ""],
  ]);
  assert.deepEqual(parseBatchStderr("", commands, false), []);
});

Deno.test("CommandIpRunner.argv() uses ip -n for /run/netns names and nsenter for other paths", () => {
  const runner = new CommandIpRunner();
  assert.deepEqual(runner.argv({}), ["ip"]);
  assert.deepEqual(runner.argv({ netns: "/var/run/netns/cni-1" }), ["ip", "-n", "cni-1"]);
  assert.deepEqual(runner.argv({ netns: "/proc/123/ns/net" }), ["nsenter", "--net=/proc/123/ns/net", "ip"]);
  assert.throws(() => runner.argv({ netns: "relative" }), TypeError);
});

const root = Deno.uid() === 0 && (await new Deno.Command("ip", { args: ["netns", "list"] }).output()).success;

Deno.test({
  name: "CommandIpRunner applies, queries and reports per-line failures in a real namespace",
  ignore: !root,
  async fn() {
    const name = `awscni-ipcmd-${Deno.pid}`;
    await new Deno.Command("ip", { args: ["netns", "add", name] }).output();
    try {
      const runner = new CommandIpRunner();
      const ns = { netns: `/run/netns/${name}` };
      await runner.apply([["link", "add", "br9", "type", "bridge"], ["link", "set", "br9", "up"]], ns);
      const failures = await runner.applyAll([["link", "del", "nope"], [
        "link",
        "add",
        "br9",
        "type",
        "bridge",
      ]], ns);
      assert.deepEqual(failures.map((f) => [f.index, f.error.name]), [[0, "LinkNotFoundError"], [
        1,
        "EntryExistsError",
      ]]);
      await assert.rejects(
        runner.apply([["rule", "del", "to", "10.9.9.9/32", "prio", "7"]], ns),
        EntryNotFoundError,
      );
      const [links, rules] = await runner.query([["link", "show", "dev", "br9"], ["rule", "show"]], ns);
      assert.equal((links as { ifname: string }[])[0]?.ifname, "br9");
      assert.ok(Array.isArray(rules));
      const dir = await Deno.makeTempDir();
      try {
        await Deno.symlink(`/run/netns/${name}`, `${dir}/ns`); // not under /run/netns: entered with nsenter
        const [viaNsenter] = await runner.query([["link", "show", "dev", "br9"]], { netns: `${dir}/ns` });
        assert.equal((viaNsenter as { ifname: string }[])[0]?.ifname, "br9");
        await assert.rejects(
          runner.query([["link", "show"]], { netns: `${dir}/missing` }),
          NetnsNotFoundError,
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
      await assert.rejects(
        runner.query([["link", "show"]], { netns: "/run/netns-missing/x" }),
        NetnsNotFoundError,
      );
    } finally {
      await new Deno.Command("ip", { args: ["netns", "del", name] }).output();
    }
  },
});
