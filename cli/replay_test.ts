import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { recordedIo } from "../testing/recorded_io.ts";
import { replayCommand } from "./replay.ts";

Deno.test("replay --json reports a burst per node and in total", async () => {
  const io = recordedIo({
    args: ["--instance-type", "m5.xlarge", "--scenario", "burst", "--pods", "10", "--json"],
  });
  equal(await replayCommand(io), 0, io.err.join(""));
  const report = JSON.parse(io.out.join(""));
  equal(report.policy, "aws-cni");
  equal(report.total.pods, 10);
  equal(report.nodes.length, 1);
  equal(report.total.failedAdds, 0);
  ok(report.total.ec2Total > 0);
  deepStrictEqual(Object.keys(report.total.waitMs), ["p50", "p99", "max"]);
});

Deno.test("replay reads a trace, writes the plot and shows a progress bar when asked", async () => {
  const files: Record<string, string> = {
    "t.jsonl": '{"t":0,"node":"a","op":"add","pod":"p"}\n{"t":40,"node":"a","op":"del","pod":"p"}\n',
  };
  const io = {
    ...recordedIo({
      args: [
        "--instance-type",
        "t3.small",
        "--trace",
        "t.jsonl",
        "--policy",
        "reference",
        "--plot",
        "o.svg",
        "--progress",
      ],
    }),
    readTextFile: (path: string) => Promise.resolve(files[path]!),
    openOutput: (path: string) =>
      Promise.resolve((text: string) => {
        files[path] = text;
        return Promise.resolve();
      }),
  };
  equal(await replayCommand(io), 0, io.err.join(""));
  match(io.out.join(""), /policy reference/);
  match(io.out.join(""), /assumptions:/);
  match(files["o.svg"]!, /^<svg [^>]*>/);
  match(files["o.svg"]!, /<polyline/);
  match(io.err.join(""), /100%/);
});

Deno.test("replay rejects bad usage with exit code 2", async () => {
  for (
    const args of [
      ["--scenario", "burst"],
      ["--instance-type", "m5.xlarge"],
      ["--instance-type", "m5.xlarge", "--scenario", "burst", "--trace", "x"],
      ["--instance-type", "m5.xlarge", "--scenario", "storm"],
      ["--instance-type", "m5.xlarge", "--scenario", "burst", "--policy", "other"],
      ["--instance-type", "m5.xlarge", "--scenario", "burst", "--attach-latency", "slow"],
      ["--instance-type", "m9.huge", "--scenario", "burst"],
      ["--bogus"],
    ]
  ) {
    const io = recordedIo({ args });
    equal(await replayCommand(io), 2, args.join(" "));
    match(io.err.join(""), /aws-cni replay: /);
  }
});

Deno.test("replay --trace - reads stdin, and --plot - puts the SVG alone on stdout and the report on stderr", async () => {
  const io = recordedIo({
    args: ["--instance-type", "t3.small", "--trace", "-", "--plot", "-"],
    stdin: '{"t":0,"node":"a","op":"add","pod":"p"}\n{"t":40,"node":"a","op":"del","pod":"p"}\n',
  });
  equal(await replayCommand(io), 0, io.err.join(""));
  match(io.out.join(""), /^<svg [^>]*>[\s\S]*<\/svg>\n?$/);
  match(io.err.join(""), /policy aws-cni/);
  match(io.err.join(""), /^replay stdin \(trace stdin\)/);
});

Deno.test("replay refuses a --plot path it cannot write before it simulates anything", async () => {
  let opened = 0;
  const io = {
    ...recordedIo({
      args: [
        "--instance-type",
        "m5.xlarge",
        "--scenario",
        "burst",
        "--pods",
        "10",
        "--plot",
        "/nowhere/x.svg",
      ],
    }),
    openOutput: () => {
      opened++;
      return Promise.reject(new Deno.errors.NotFound("No such file or directory (os error 2)"));
    },
  };
  equal(await replayCommand(io), 2);
  equal(opened, 1);
  deepStrictEqual(io.out, [], "no report: the simulation did not run");
  equal(
    io.err.join(""),
    'aws-cni replay: Cannot write --plot "/nowhere/x.svg": No such file or directory (os error 2)\n',
  );
});
