/**
 * What a person reads when a command is misused or asked for help: every role and
 * command answers `--help`, `aws-cni help` is the README's Commands block, and each
 * message names the cause and the next step. The binary's tests run `dist/aws-cni`.
 */
import assert from "node:assert/strict";
import {
  COMMAND_USAGE,
  DAEMON_SYNOPSIS,
  DAEMON_USAGE,
  helpFor,
  unknownCommandText,
  USAGE,
} from "../cli/usage.ts";
import { commandsBlock } from "../tools/gen_commands_block.ts";
import { blockIn } from "../tools/readme_blocks.ts";
import { runDaemon } from "../ipamd/mod.ts";
import { recordedIo } from "../testing/recorded_io.ts";
import { statusCommand } from "../cli/status.ts";
import { planCommand } from "../cli/plan.ts";

const BINARY = new URL("../dist/aws-cni", import.meta.url).pathname;
const built = await Deno.stat(BINARY).then(() => true, () => false);

async function binary(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const output = await new Deno.Command(BINARY, { args, stdin: "null", env: { NO_COLOR: "1" } }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, out: text(output.stdout), err: text(output.stderr) };
}

const normalize = (text: string) => text.split("\n").filter((line) => line.trim() !== "").join("\n");

Deno.test("the README's Commands block is `aws-cni help`", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const block = blockIn(readme, "commands");
  assert.notEqual(block, null, "README.md has the commands markers");
  assert.equal(
    normalize(block!),
    normalize(commandsBlock()),
    "run: deno run -A tools/gen_commands_block.ts --write README.md",
  );
});

Deno.test("`aws-cni help` names every command with its flags, and ipamd's synopsis is its --help's", () => {
  for (const [name, usage] of Object.entries(COMMAND_USAGE)) {
    const first = usage.split("\n")[0]!.replace(/^usage: /, "");
    assert.ok(USAGE.includes(first), `${name}: ${first}`);
  }
  for (
    const flag of [
      "--trace",
      "--plot",
      "--keep-plugin",
      "--no-restart",
      "--custom-networking",
      "--scale-down-window",
    ]
  ) {
    assert.ok(USAGE.includes(flag), flag);
  }
  assert.ok(DAEMON_USAGE.startsWith(`usage: ${DAEMON_SYNOPSIS}\n`));
  assert.ok(USAGE.includes(DAEMON_SYNOPSIS.split("\n")[0]!));
});

Deno.test("aws-cni --daemon --help is ipamd's usage, and a flag ipamd does not take points at it", async () => {
  assert.deepEqual(helpFor("--daemon"), { text: DAEMON_USAGE, code: 0 });
  const io = recordedIo({ args: ["--sokcet", "/run/x.sock"] });
  assert.equal(await runDaemon(io), 2);
  assert.equal(
    io.err.join(""),
    'aws-cni --daemon: unknown flag "--sokcet"; aws-cni --daemon --help lists the flags\n',
  );
  assert.equal(io.out.join(""), "");
});

Deno.test("an unknown command is named, with a close one when there is one", () => {
  assert.match(unknownCommandText("plna"), /^aws-cni: unknown command "plna"; did you mean "plan"\?\n\n/);
  assert.match(unknownCommandText("max-pod"), /did you mean "max-pods"\?/);
  assert.match(unknownCommandText("frobnicate"), /^aws-cni: unknown command "frobnicate"\n\naws-cni /);
  assert.match(unknownCommandText(""), /^aws-cni: no command given\n/);
});

Deno.test("status with no ipamd says nothing listens there and what to look at, not `fetch failed`", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  listener.close();
  const io = recordedIo({ args: ["--introspection", address] });
  assert.equal(await statusCommand(io), 1);
  const err = io.err.join("");
  assert.match(
    err,
    new RegExp(`nothing listens on ${address.replaceAll(".", "\\.")} \\(connection refused\\)`),
  );
  assert.match(err, /systemctl status aws-ipamd; journalctl -u aws-ipamd/);
  assert.doesNotMatch(err, /TypeError|fetch failed/);
});

Deno.test("plan --warm-ip-target -1 says the value is negative, not that the argument is ambiguous", async () => {
  const io = recordedIo({ args: ["--instance-type", "m5.large", "--pods", "1", "--warm-ip-target", "-1"] });
  assert.equal(await planCommand(io), 2);
  assert.match(
    io.err.join(""),
    /^aws-cni plan: Invalid settings: --warm-ip-target="-1": must not be negative\n$/,
  );
});

Deno.test("flags that parseArgs refuses read as one plain line", async () => {
  const io = recordedIo({ args: ["--instance-type", "m5.large", "--pods"] });
  assert.equal(await planCommand(io), 2);
  assert.match(io.err.join(""), /^aws-cni plan: flag "--pods" needs a value\n/);
  const unknown = recordedIo({ args: ["--bogus"] });
  assert.equal(await statusCommand(unknown), 2);
  assert.match(unknown.err.join(""), /^aws-cni status: unknown flag "--bogus"\n/);
});

Deno.test({
  name: "dist/aws-cni answers --help for every role and command, and names an unknown command",
  ignore: !built,
  fn: async (t) => {
    const cases: [string[], string][] = [
      [["--daemon", "--help"], DAEMON_USAGE],
      [["help", "--daemon"], DAEMON_USAGE],
      [["help"], USAGE],
      [["--help"], USAGE],
      [["version", "--help"], COMMAND_USAGE.version],
      [["uninstall", "--help"], COMMAND_USAGE.install],
      ...Object.entries(COMMAND_USAGE).filter(([name]) => name !== "version" && name !== "help")
        .flatMap((
          [name, usage],
        ): [string[], string][] => [[[name, "--help"], usage], [["help", name], usage]]),
    ];
    for (const [args, usage] of cases) {
      await t.step(args.join(" "), async () => {
        const result = await binary(...args);
        assert.deepEqual(result, { code: 0, out: usage, err: "" });
      });
    }
    await t.step("unknown command", async () => {
      const result = await binary("plna");
      assert.equal(result.code, 2);
      assert.match(result.err, /^aws-cni: unknown command "plna"; did you mean "plan"\?/);
    });
  },
});
