/**
 * `aws-cni plan` reproduces every row of the warm-pool table in the reference's
 * documentation (docs/eni-and-ip-target.md), in device order.
 */
import { deepStrictEqual, equal, match } from "node:assert/strict";
import { planCommand } from "../cli/plan.ts";
import { recordedIo } from "../testing/recorded_io.ts";

interface SeedRow {
  pods: number;
  enis: number;
  secondaryIps: number;
  unusedIps: number;
  ipsPerEni: number[];
}

/** The seed table: instance, settings as flags, and its rows (pods, ENIs, IPs, unused, IPs per ENI). */
const SEED: { name: string; args: string[]; rows: [number, number, number, number, number[]][] }[] = [
  {
    name: "t3.small, WARM_ENI_TARGET 1",
    args: ["--instance-type", "t3.small", "--warm-eni-target", "1"],
    rows: [[0, 1, 3, 3, [3]], [5, 3, 9, 4, [3, 3, 3]], [9, 3, 9, 0, [3, 3, 3]]],
  },
  {
    name: "t3.small, WARM_IP_TARGET 1, MINIMUM_IP_TARGET 1",
    args: ["--instance-type", "t3.small", "--warm-ip-target", "1", "--minimum-ip-target", "1"],
    rows: [[0, 1, 1, 1, [1]], [5, 2, 6, 1, [3, 3]], [9, 3, 9, 0, [3, 3, 3]]],
  },
  {
    name: "t3.small, WARM_IP_TARGET 2, MINIMUM_IP_TARGET 5",
    args: ["--instance-type", "t3.small", "--warm-ip-target", "2", "--minimum-ip-target", "5"],
    // The documentation prints the first row's split as 2,3; in device order it is 3,2 (see README).
    rows: [[0, 2, 5, 5, [3, 2]], [5, 3, 7, 2, [3, 3, 1]], [9, 3, 9, 0, [3, 3, 3]]],
  },
  {
    name: "p3dn.24xlarge, WARM_ENI_TARGET 1",
    args: ["--instance-type", "p3dn.24xlarge", "--warm-eni-target", "1"],
    rows: [[0, 1, 49, 49, [49]], [3, 2, 98, 95, [49, 49]], [95, 3, 147, 52, [49, 49, 49]]],
  },
  {
    name: "p3dn.24xlarge, WARM_IP_TARGET 5, MINIMUM_IP_TARGET 10",
    args: ["--instance-type", "p3dn.24xlarge", "--warm-ip-target", "5", "--minimum-ip-target", "10"],
    rows: [[0, 1, 10, 10, [10]], [7, 1, 12, 5, [12]], [15, 1, 20, 5, [20]], [45, 2, 50, 5, [49, 1]]],
  },
];

async function planJson(args: string[], env: Record<string, string> = {}): Promise<SeedRow[]> {
  const io = recordedIo({ args: [...args, "--json"], env });
  const code = await planCommand(io);
  equal(code, 0, io.err.join(""));
  return JSON.parse(io.out.join(""));
}

for (const { name, args, rows } of SEED) {
  Deno.test(`plan reproduces the seed table for ${name}`, async () => {
    const pods = rows.map(([p]) => p).join(",");
    const got = await planJson([...args, "--pods", pods]);
    deepStrictEqual(
      got,
      rows.map(([pods, enis, secondaryIps, unusedIps, ipsPerEni]) => ({
        pods,
        enis,
        secondaryIps,
        unusedIps,
        failedPods: 0,
        ipsPerEni,
      })),
    );
  });
}

Deno.test("plan counts the 16 rows of the seed table", () => {
  equal(SEED.reduce((sum, group) => sum + group.rows.length, 0), 16);
});

Deno.test("plan reads settings from the daemon's env var names, and flags win", async () => {
  const env = { WARM_IP_TARGET: "2", MINIMUM_IP_TARGET: "5" };
  const fromEnv = await planJson(["--instance-type", "t3.small", "--pods", "0"], env);
  deepStrictEqual(fromEnv[0]?.ipsPerEni, [3, 2]);
  const flagWins = await planJson(
    ["--instance-type", "t3.small", "--pods", "0", "--minimum-ip-target", "1"],
    env,
  );
  deepStrictEqual(flagWins[0]?.ipsPerEni, [2]);
});

Deno.test("plan scales back down to the fresh node's pool", async () => {
  const rows = await planJson(["--instance-type", "t3.small", "--pods", "0,9,0"]);
  deepStrictEqual(rows.map((r) => r.ipsPerEni), [[3], [3, 3, 3], [3]]);
  const warmIp = await planJson([
    "--instance-type",
    "t3.small",
    "--warm-ip-target",
    "2",
    "--minimum-ip-target",
    "5",
    "--pods",
    "0,9,0",
  ]);
  deepStrictEqual(warmIp.map((r) => r.ipsPerEni), [[3, 2], [3, 3, 3], [3, 2]]);
});

Deno.test("plan reports pods that got no address when the instance is full", async () => {
  const rows = await planJson(["--instance-type", "t3.small", "--pods", "12"]);
  deepStrictEqual(rows[0], {
    pods: 12,
    enis: 3,
    secondaryIps: 9,
    unusedIps: 0,
    failedPods: 3,
    ipsPerEni: [3, 3, 3],
  });
});

Deno.test("plan with prefix delegation lists prefixes per ENI", async () => {
  const rows = await planJson(["--instance-type", "m5.large", "--prefix-delegation", "--pods", "0,17"]);
  deepStrictEqual(rows, [
    {
      pods: 0,
      enis: 1,
      secondaryIps: 16,
      unusedIps: 16,
      failedPods: 0,
      ipsPerEni: [16],
      prefixesPerEni: [1],
    },
    {
      pods: 17,
      enis: 1,
      secondaryIps: 48,
      unusedIps: 31,
      failedPods: 0,
      ipsPerEni: [48],
      prefixesPerEni: [3],
    },
  ]);
});

Deno.test("plan rejects an unknown instance type with close names, and bad settings all at once", async () => {
  const unknown = recordedIo({ args: ["--instance-type", "t3.smal", "--pods", "0"] });
  equal(await planCommand(unknown), 2);
  match(unknown.err.join(""), /did you mean "t3\.small"/);
  const bad = recordedIo({ args: ["--instance-type", "t3.small", "--pods", "0", "--warm-ip-target", "x"] });
  equal(await planCommand(bad), 2);
  match(bad.err.join(""), /--warm-ip-target/);
  const noPods = recordedIo({ args: ["--instance-type", "t3.small"] });
  equal(await planCommand(noPods), 2);
});

Deno.test("dist/aws-cni plan prints the seed table's 3,2 row in device order", async () => {
  const out = await new Deno.Command("dist/aws-cni", {
    args: [
      "plan",
      "--instance-type",
      "t3.small",
      "--warm-ip-target",
      "2",
      "--minimum-ip-target",
      "5",
      "--pods",
      "0",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  match(
    new TextDecoder().decode(out.stdout),
    /\| t3\.small +\| - +\| 2 +\| 5 +\| 0 +\| 2 +\| 5 +\| 5 +\| 3,2 +\| 0 +\|/,
  );
});
