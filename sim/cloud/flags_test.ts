import assert from "node:assert/strict";
import { parseCloudArgs } from "./flags.ts";

Deno.test("parseCloudArgs() reads every flag and defaults the rest", () => {
  const defaults = parseCloudArgs(["--instance-type", "t3.small"]);
  assert.deepEqual(defaults, {
    instanceType: "t3.small",
    vpcCidr: "10.0.0.0/16",
    subnetCidrs: ["10.0.0.0/20"],
    attachLatencyMs: null,
    detachLatencyMs: null,
    apiLatencyMs: new Map(),
    imdsLagMs: 0,
    seed: 1,
    listen: null,
    controlPath: null,
    vpcNetns: null,
    links: true,
    withheld: [],
  });
  const all = parseCloudArgs([
    ...["--instance-type", "m5.large", "--vpc-cidr", "10.1.0.0/16"],
    ...["--subnet-cidr", "10.1.0.0/24", "--subnet-cidr", "10.1.1.0/24"],
    ...["--attach-latency-ms", "50", "--detach-latency-ms", "20", "--imds-lag-ms", "3000", "--seed", "7"],
    ...["--api-latency-ms", "AttachNetworkInterface=3000, CreateTags=5", "--listen", "127.0.0.1:8000"],
    ...["--control", "/tmp/x/control.sock", "--vpc-netns", "/run/netns/vpc", "--no-links"],
    ...["--withhold", "CreateNetworkInterface, AssignPrivateIpAddresses"],
  ]);
  assert.deepEqual(all.withheld, ["CreateNetworkInterface", "AssignPrivateIpAddresses"]);
  assert.deepEqual(all.subnetCidrs, ["10.1.0.0/24", "10.1.1.0/24"]);
  assert.deepEqual([...all.apiLatencyMs], [["AttachNetworkInterface", 3000], ["CreateTags", 5]]);
  assert.equal(all.attachLatencyMs, 50);
  assert.equal(all.detachLatencyMs, 20);
  assert.equal(all.imdsLagMs, 3000);
  assert.equal(all.seed, 7);
  assert.equal(all.listen, "127.0.0.1:8000");
  assert.equal(all.controlPath, "/tmp/x/control.sock");
  assert.equal(all.vpcNetns, "/run/netns/vpc");
  assert.equal(all.links, false);
});

Deno.test("parseCloudArgs() names the flag at fault", () => {
  const cases: [string[], RegExp][] = [
    [[], /Missing --instance-type/],
    [
      ["--instance-type", "t3.small", "--subnet-cidr", "10.9.0.0/24"],
      /--subnet-cidr "10\.9\.0\.0\/24": outside/,
    ],
    [["--instance-type", "t3.small", "--vpc-cidr", "ten"], /--vpc-cidr "ten"/],
    [["--instance-type", "t3.small", "--attach-latency-ms", "1.5"], /--attach-latency-ms "1\.5"/],
    [["--instance-type", "t3.small", "--api-latency-ms", "Nope=1"], /--api-latency-ms "Nope=1"/],
    [["--instance-type", "t3.small", "--control", "rel.sock"], /--control "rel\.sock"/],
    [["--instance-type", "t3.small", "--listen", "127.0.0.1"], /Cannot listen on "127\.0\.0\.1"/],
    [["--instance-type", "t3.small", "--no-such-flag"], /no-such-flag/],
    [
      ["--instance-type", "t3.small", "--withhold", "RunInstances"],
      /--withhold "RunInstances": expected an EC2 action/,
    ],
  ];
  for (const [args, message] of cases) assert.throws(() => parseCloudArgs(args), message, args.join(" "));
});
