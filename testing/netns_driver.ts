/**
 * Test driver: runs `HostNetwork` in the process's own network namespace, as the
 * daemon does. Tests start it under
 * `ip netns exec <node>`; it reads `{ options, steps }` as JSON on stdin and
 * writes `{ results, logs }` as JSON on stdout. A failed step ends the run.
 *
 * @module
 */
import { createLogger } from "../shared/log.ts";
import { HostNetwork, type HostNetworkOptions } from "../ipamd/node/host/host_net.ts";
import { CommandIptables } from "../ipamd/node/host/iptables_cmd.ts";
import type { EniSetup, EniTeardown, HostSetup } from "../ipamd/node/host/types.ts";

/** One thing to do. */
export type DriverStep =
  | { readonly op: "setupHost"; readonly host: HostSetup }
  | { readonly op: "setupEni"; readonly eni: EniSetup }
  | { readonly op: "teardownEni"; readonly eni: EniTeardown }
  | { readonly op: "syncEnis"; readonly enis: readonly EniSetup[] };

/** Knobs for the run. */
export interface DriverOptions {
  readonly linkAttempts?: number;
  readonly linkRetryMs?: number;
  readonly eniMtu?: number;
  readonly iptablesSave?: string;
  readonly iptablesRestore?: string;
}

/** What a run reports. */
export interface DriverOutput {
  readonly results: ({ ok: true; value: unknown } | { ok: false; error: string })[];
  /** Parsed log lines, in order. */
  readonly logs: Record<string, unknown>[];
}

/** Runs `steps` in order, stopping at the first failure. */
export async function runSteps(options: DriverOptions, steps: readonly DriverStep[]): Promise<DriverOutput> {
  const logs: Record<string, unknown>[] = [];
  const log = createLogger((line) => logs.push(JSON.parse(line)), { level: "debug" });
  const iptables = new CommandIptables({
    ...(options.iptablesSave === undefined ? {} : { savePath: options.iptablesSave }),
    ...(options.iptablesRestore === undefined ? {} : { restorePath: options.iptablesRestore }),
  });
  const hostOptions: HostNetworkOptions = {
    log,
    iptables,
    ...(options.linkAttempts === undefined ? {} : { linkAttempts: options.linkAttempts }),
    ...(options.linkRetryMs === undefined ? {} : { linkRetryMs: options.linkRetryMs }),
    ...(options.eniMtu === undefined ? {} : { eniMtu: options.eniMtu }),
  };
  const host = new HostNetwork(hostOptions);
  const results: DriverOutput["results"] = [];
  for (const step of steps) {
    try {
      results.push({ ok: true, value: await runStep(host, step) });
    } catch (error) {
      results.push({
        ok: false,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
      break;
    }
  }
  return { results, logs };
}

async function runStep(host: HostNetwork, step: DriverStep): Promise<unknown> {
  switch (step.op) {
    case "setupHost":
      return await host.setupHost(step.host);
    case "setupEni":
      return await host.setupEni(step.eni);
    case "teardownEni":
      return await host.teardownEni(step.eni);
    case "syncEnis":
      return (await host.syncEnis(step.enis)).map((f) => ({
        deviceNumber: f.deviceNumber,
        error: f.error.message,
      }));
  }
}

/**
 * Test side: runs this driver under `ip netns exec <netnsName>` with the Deno
 * running the tests, and returns its output; throws when the driver crashed.
 */
export async function driveInNetns(
  netnsName: string,
  steps: readonly DriverStep[],
  options: DriverOptions = {},
): Promise<DriverOutput> {
  const child = new Deno.Command("ip", {
    args: [
      ...["netns", "exec", netnsName, Deno.execPath(), "run", "-A", "--no-lock", "--no-config", "--quiet"],
      new URL(import.meta.url).pathname,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({ options, steps })));
  await writer.close();
  const out = await child.output();
  const decoder = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `Cannot run the host driver in "${netnsName}": exit ${out.code}: ${decoder.decode(out.stderr)}`,
    );
  }
  return JSON.parse(decoder.decode(out.stdout)) as DriverOutput;
}

/** Like `driveInNetns`, but throws when a step failed; returns the step values. */
export async function mustDrive(
  netnsName: string,
  steps: readonly DriverStep[],
  options: DriverOptions = {},
): Promise<{ values: unknown[]; logs: Record<string, unknown>[] }> {
  const output = await driveInNetns(netnsName, steps, options);
  const values: unknown[] = [];
  for (const [index, result] of output.results.entries()) {
    if (!result.ok) throw new Error(`Step ${index} (${steps[index]?.op}) failed: ${result.error}`);
    values.push(result.value);
  }
  return { values, logs: output.logs };
}

if (import.meta.main) {
  const input = JSON.parse(await new Response(Deno.stdin.readable).text()) as {
    options: DriverOptions;
    steps: DriverStep[];
  };
  const output = await runSteps(input.options, input.steps);
  await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(output) + "\n"));
}
