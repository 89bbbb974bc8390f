/**
 * The README's seed table: the 16 examples of the reference's documentation, as
 * `aws-cni plan` computes them (device order). `--write README.md` replaces the
 * `plan-table` block; tests/readme_plan_table_test.ts checks it has not drifted.
 *
 * ```
 * deno run -A tools/gen_plan_table.ts [--write README.md]
 * ```
 *
 * @module
 */
import { planCommand } from "../cli/plan.ts";
import { recordedIo } from "../testing/recorded_io.ts";
import { writeBlock } from "./readme_blocks.ts";

/** The seed's groups: instance type, settings as flags, pod counts. */
export const SEED_GROUPS: readonly {
  instance: string;
  wet: string;
  wip: string;
  min: string;
  pods: string;
}[] = [
  { instance: "t3.small", wet: "1", wip: "", min: "", pods: "0,5,9" },
  { instance: "t3.small", wet: "", wip: "1", min: "1", pods: "0,5,9" },
  { instance: "t3.small", wet: "", wip: "2", min: "5", pods: "0,5,9" },
  { instance: "p3dn.24xlarge", wet: "1", wip: "", min: "", pods: "0,3,95" },
  {
    instance: "p3dn.24xlarge",
    wet: "",
    wip: "5",
    min: "10",
    pods: "0,7,15,45",
  },
];

interface Row {
  pods: number;
  enis: number;
  secondaryIps: number;
  unusedIps: number;
  ipsPerEni: number[];
}

/** Runs `plan --json` for one group. */
async function planRows(group: typeof SEED_GROUPS[number]): Promise<Row[]> {
  const args = [
    "--instance-type",
    group.instance,
    "--pods",
    group.pods,
    "--json",
  ];
  if (group.wet) args.push("--warm-eni-target", group.wet);
  if (group.wip) {
    args.push("--warm-ip-target", group.wip, "--minimum-ip-target", group.min);
  }
  const io = recordedIo({ args });
  if (await planCommand(io) !== 0) {
    throw new Error(`plan failed: ${io.err.join("")}`);
  }
  return JSON.parse(io.out.join(""));
}

/** The Markdown table, in the seed's columns. */
export async function seedTable(): Promise<string> {
  const lines = [
    "| Instance type | WARM_ENI_TARGET | WARM_IP_TARGET | MINIMUM_IP_TARGET | Pods | Attached ENIs | " +
    "Attached Secondary IPs | Unused IPs | IPs per ENI |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const group of SEED_GROUPS) {
    for (const row of await planRows(group)) {
      const cells = [
        group.instance,
        group.wet || "-",
        group.wip || "-",
        group.min || "-",
      ];
      cells.push(
        String(row.pods),
        String(row.enis),
        String(row.secondaryIps),
        String(row.unusedIps),
      );
      cells.push(row.ipsPerEni.join(","));
      lines.push(`| ${cells.join(" | ")} |`);
    }
  }
  return lines.join("\n") + "\n";
}

if (import.meta.main) {
  const [flag, path] = Deno.args;
  if (flag === "--write" && path !== undefined) {
    await writeBlock(path, "plan-table", await seedTable());
  } else await Deno.stdout.write(new TextEncoder().encode(await seedTable()));
}
