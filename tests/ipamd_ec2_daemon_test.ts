/**
 * The compiled daemon (`dist/aws-cni --daemon --simulate t3.small`) as a process:
 * it serves the simulated EC2 and IMDS in-process and drives them with the real
 * SDK and IMDS client over HTTP. Pods come and go through its RPC socket; the
 * pool is read from its introspection endpoint (`/v1/pool`), never from
 * internals. Checks the seed table's t3.small steady states, and that an ENI a
 * killed daemon leaked is cleaned up by the next one. Each daemon runs in a test
 * node (`createNodeMounts`) with the default socket and checkpoint.
 */
import assert from "node:assert/strict";
import { IpamdClient } from "../cni/rpc/client.ts";
import { addRequest, NODE_FILES, spawnNodeDaemon } from "../testing/ipamd_requests.ts";
import { canCreateNodeMounts, createNodeMounts, type NodeMounts } from "../testing/netns.ts";

/** Root with mount namespaces: the daemon runs in a test node with its default paths. */
const NODES = await canCreateNodeMounts();

interface Run {
  readonly mounts: NodeMounts;
  readonly socket: string;
  readonly introspection: string;
  readonly child: Deno.ChildProcess;
  readonly client: IpamdClient;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function startDaemon(
  mounts: NodeMounts,
  env: Record<string, string>,
  extraArgs: string[] = [],
): Promise<Run> {
  const socket = mounts.outside(NODE_FILES.socket);
  const introspection = `127.0.0.1:${freePort()}`;
  const child = spawnNodeDaemon(mounts, [
    "--simulate",
    "t3.small",
    "--simulate-latency-ms",
    "50",
    ...extraArgs,
  ], {
    env: {
      AWS_VPC_K8S_CNI_LOGLEVEL: "INFO",
      AWS_VPC_K8S_CNI_LOG_FILE: NODE_FILES.log,
      INTROSPECTION_BIND_ADDRESS: introspection,
      DISABLE_METRICS: "true",
      POOL_RECONCILE_INTERVAL: "1",
      ...env,
    },
    stderr: "piped",
  });
  const run = { mounts, socket, introspection, child, client: new IpamdClient(socket) };
  try {
    await waitFor("the pool to be served", () => pool(run).then(() => true, () => false), (up) => up, 30_000);
  } catch (error) {
    await stopDaemon(run, "SIGKILL");
    throw error;
  }
  return run;
}

async function stopDaemon(run: Run, signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
  await run.client.close();
  try {
    run.child.kill(signal);
  } catch {
    // already gone
  }
  const [status] = await Promise.all([run.child.status, run.child.stderr.cancel()]);
  return status;
}

interface PoolDocument {
  enis: { eniId: string; deviceNumber: number; cidrs: string[] }[];
  pool: { assigned: number };
  next: { actions: unknown[] };
}

async function pool(run: Run): Promise<PoolDocument> {
  const response = await fetch(`http://${run.introspection}/v1/pool`);
  if (!response.ok) throw new Error(`GET /v1/pool: ${response.status} ${await response.text()}`);
  return await response.json() as PoolDocument;
}

async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < until) {
    last = await read();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Timed out waiting for ${what}; last saw ${JSON.stringify(last)}`);
}

/** Waits until the pool shows `expected` with nothing left for the next pass to do; returns when. */
async function steady(run: Run, expected: number[]): Promise<number> {
  const shape = (doc: PoolDocument) => JSON.stringify(doc.enis.map((eni) => eni.cidrs.length));
  const done = (doc: PoolDocument) =>
    shape(doc) === JSON.stringify(expected) && doc.next.actions.length === 0;
  await waitFor(`IPs per ENI ${JSON.stringify(expected)}, settled`, () => pool(run), done, 30_000);
  return performance.now();
}

const SEED_ROWS: {
  name: string;
  env: Record<string, string>;
  steps: [pods: number, ipsPerEni: number[]][];
}[] = [
  {
    name: "WARM_ENI_TARGET=1",
    env: { WARM_ENI_TARGET: "1" },
    steps: [[0, [3]], [5, [3, 3, 3]], [9, [3, 3, 3]]],
  },
  {
    name: "WARM_IP_TARGET=1 MINIMUM_IP_TARGET=1",
    env: { WARM_IP_TARGET: "1", MINIMUM_IP_TARGET: "1" },
    steps: [[0, [1]], [5, [3, 3]], [9, [3, 3, 3]]],
  },
  {
    name: "WARM_IP_TARGET=2 MINIMUM_IP_TARGET=5",
    env: { WARM_IP_TARGET: "2", MINIMUM_IP_TARGET: "5" },
    steps: [[0, [3, 2]], [5, [3, 3, 1]], [9, [3, 3, 3]]],
  },
];

for (const row of SEED_ROWS) {
  Deno.test(`aws-cni --daemon --simulate t3.small with ${row.name} reaches the seed table's steady states`, {
    ignore: !NODES,
  }, async () => {
    await using mounts = await createNodeMounts();
    const run = await startDaemon(mounts, row.env);
    try {
      let pods = 0;
      const timings: string[] = [];
      for (const [target, expected] of row.steps) {
        const started = performance.now();
        for (; pods < target; pods++) {
          const reply = await run.client.addNetwork(addRequest(`pod-${pods}`), { deadlineMs: 15_000 });
          assert.equal(reply.success, true);
        }
        timings.push(`${target} pods: ${Math.round(await steady(run, expected) - started)} ms`);
      }
      assert.equal((await pool(run)).pool.assigned, 9);
      // deno-lint-ignore no-console
      console.log(`    ${row.name}: steady ${timings.join(", ")}`);
      assert.equal((await stopDaemon(run)).code, 0);
    } finally {
      await stopDaemon(run, "SIGKILL");
    }
  });
}

interface SimState {
  networkInterfaces: { networkInterfaceId: string; attachment: unknown; tags: { key: string }[] }[];
}

async function readState(path: string): Promise<SimState> {
  return JSON.parse(await Deno.readTextFile(path)) as SimState;
}

Deno.test("an ENI leaked by a daemon killed between create and attach is deleted by the next daemon", {
  ignore: !NODES,
}, async () => {
  // One node for both daemons: the second starts over the first one's checkpoint and cloud.
  await using mounts = await createNodeMounts();
  const state = mounts.outside(NODE_FILES.simulateState);
  const stateArgs = ["--simulate-state", NODE_FILES.simulateState];
  const first = await startDaemon(mounts, { WARM_ENI_TARGET: "1" }, [
    ...stateArgs,
    "--simulate-api-latency-ms",
    "AttachNetworkInterface=30000",
  ]);
  let second: Run | null = null;
  try {
    await first.client.addNetwork(addRequest("pod-0"), { deadlineMs: 15_000 });
    // The pool is low now (2 free < 3): the daemon creates an ENI, whose attach hangs for 30 s.
    const leaked = await waitFor(
      "an ENI created and not attached",
      () => readState(state),
      (s) => s.networkInterfaces.some((eni) => eni.attachment === null),
      15_000,
    );
    const leakedId = leaked.networkInterfaces.find((eni) => eni.attachment === null)!.networkInterfaceId;
    assert.equal((await stopDaemon(first, "SIGKILL")).signal, "SIGKILL");

    const started = performance.now();
    second = await startDaemon(mounts, {
      WARM_ENI_TARGET: "1",
      LEAKED_ENI_CLEANUP_START_DELAY: "0",
      LEAKED_ENI_CLEANUP_INTERVAL: "1",
      LEAKED_ENI_MIN_AGE: "1",
    }, stateArgs);
    await waitFor(
      `the leaked ENI ${leakedId} to be deleted`,
      () => readState(state),
      (s) => !s.networkInterfaces.some((eni) => eni.networkInterfaceId === leakedId),
      15_000,
    );
    const cleanedMs = Math.round(performance.now() - started);
    // The simulated cloud saves the delete before the daemon hears the answer and logs it.
    const logged = new RegExp(`"msg":"deleted a leaked ENI","op":"leaked-enis","eniId":"${leakedId}"`);
    await waitFor(
      "the log line",
      () => Deno.readTextFile(mounts.outside(NODE_FILES.log)),
      (log) => logged.test(log),
      5_000,
    );
    // The new daemon still grows the pool as the one pod needs: primary plus one whole ENI.
    await steady(second, [3, 3]);
    // deno-lint-ignore no-console
    console.log(`    leaked ENI deleted ${cleanedMs} ms after the second daemon was started`);
    assert.equal((await stopDaemon(second)).code, 0);
  } finally {
    await stopDaemon(first, "SIGKILL");
    if (second !== null) await stopDaemon(second, "SIGKILL");
  }
});
