/**
 * The daemon as on a node: `dist/aws-cni --daemon` on a test node against the
 * simulated cloud of a t3.small (a process of its own, reached over HTTP with
 * the real SDK and IMDS client). Pods come and go through its RPC socket; the
 * pool is read from its introspection endpoint (`/v1/pool`), never from
 * internals, and the account from the cloud's control channel. Checks the seed
 * table's t3.small steady states, and that an ENI a killed daemon leaked is
 * cleaned up by the next one, over the same cloud.
 */
import assert from "node:assert/strict";
import { IpamdClient } from "../cni/rpc/client.ts";
import { addRequest } from "../testing/ipamd_requests.ts";
import { nodesReady, startNode, type TestNode } from "../testing/node.ts";

const ready = await nodesReady();

/** Addresses per ENI in device order, as the daemon reports them. */
async function ipsPerEni(node: TestNode): Promise<number[]> {
  return (await node.pool()).enis.map((eni) => eni.cidrs.length);
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

/** Waits until the pool shows `expected` and keeps it for 2 reconcile intervals; returns when it got there. */
async function steady(node: TestNode, expected: number[]): Promise<number> {
  const same = (seen: number[]) => JSON.stringify(seen) === JSON.stringify(expected);
  await waitFor(`IPs per ENI ${JSON.stringify(expected)}`, () => ipsPerEni(node), same, 30_000);
  const reachedMs = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  assert.deepEqual(await ipsPerEni(node), expected, "and it stays there");
  return reachedMs;
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
  Deno.test(`aws-cni --daemon on a t3.small with ${row.name} reaches the seed table's steady states`, {
    ignore: !ready,
  }, async () => {
    await using node = await startNode({ label: "seed", env: { ...row.env, DISABLE_METRICS: "true" } });
    const client = new IpamdClient(node.outside(node.paths.socket));
    try {
      let pods = 0;
      const timings: string[] = [];
      for (const [target, expected] of row.steps) {
        const started = performance.now();
        for (; pods < target; pods++) {
          const reply = await client.addNetwork(addRequest(`pod-${pods}`), { deadlineMs: 15_000 });
          assert.equal(reply.success, true);
        }
        timings.push(`${target} pods: ${Math.round(await steady(node, expected) - started)} ms`);
      }
      assert.equal((await node.pool()).pool.assigned, 9);
      // deno-lint-ignore no-console
      console.log(`    ${row.name}: steady ${timings.join(", ")}`);
    } finally {
      await client.close();
    }
    assert.equal((await node.daemon.stop()).code, 0);
  });
}

Deno.test("an ENI leaked by a daemon killed between create and attach is deleted by the next daemon", {
  ignore: !ready,
}, async () => {
  // One node for both daemons: the second starts over the first one's checkpoint and the same cloud.
  await using node = await startNode({
    label: "leak",
    env: { WARM_ENI_TARGET: "1" },
    cloud: { apiLatencyMs: { AttachNetworkInterface: 30_000 } },
  });
  const cloud = node.cloud!.control;
  const client = new IpamdClient(node.outside(node.paths.socket));
  try {
    await client.addNetwork(addRequest("pod-0"), { deadlineMs: 15_000 });
    // The pool is low now (2 free < 3): the daemon creates an ENI, whose attach takes 30 s to answer.
    const leaked = await waitFor(
      "an ENI created and not attached",
      () => cloud.state(),
      (s) => s.enis.some((eni) => eni.attachment === null),
      15_000,
    );
    const leakedId = leaked.enis.find((eni) => eni.attachment === null)!.eniId;
    assert.equal((await node.daemon.kill9())?.signal, "SIGKILL");
    await cloud.setApiLatency("AttachNetworkInterface", 0);

    const started = performance.now();
    await node.daemon.start({
      LEAKED_ENI_CLEANUP_START_DELAY: "0",
      LEAKED_ENI_CLEANUP_INTERVAL: "1",
      LEAKED_ENI_MIN_AGE: "1",
    });
    await waitFor(
      `the leaked ENI ${leakedId} to be deleted`,
      () => cloud.state(),
      (s) => !s.enis.some((eni) => eni.eniId === leakedId),
      15_000,
    );
    const cleanedMs = Math.round(performance.now() - started);
    // The cloud deletes it before the daemon hears the answer and logs it.
    const logged = new RegExp(`"msg":"deleted a leaked ENI","op":"leaked-enis","eniId":"${leakedId}"`);
    await waitFor(
      "the log line",
      async () => await node.readFile(node.paths.log) ?? "",
      (log) => logged.test(log),
      5_000,
    );
    // The new daemon still grows the pool as the one pod needs: primary plus one whole ENI.
    await steady(node, [3, 3]);
    // deno-lint-ignore no-console
    console.log(`    leaked ENI deleted ${cleanedMs} ms after the second daemon was started`);
  } finally {
    await client.close();
  }
  assert.equal((await node.daemon.stop()).code, 0);
});
