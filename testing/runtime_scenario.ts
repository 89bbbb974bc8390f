/**
 * What every runtime test checks, whatever the runtime: a driver starts and
 * removes pod sandboxes the runtime's own way (CRI for containerd, the CLI for
 * podman), and the scenario checks, against ipamd and the node's namespace,
 * that the plugin did its part.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { RuntimeNode } from "./runtime_node.ts";

/** A running pod sandbox as its runtime reports it. */
export interface RuntimePod {
  /** The sandbox (CNI_CONTAINERID) ID. */
  readonly id: string;
  readonly ip: string;
  /** Its network namespace path, as the runtime (and so the plugin) sees it. */
  readonly netns: string;
}

/** Drives one runtime. */
export interface RuntimeDriver {
  /** Starts one pod sandbox on the aws-cni network. */
  start(): Promise<RuntimePod>;
  /** The address the runtime reports for a running sandbox now. */
  ip(id: string): Promise<string>;
  /** Stops and removes the sandbox (the CNI DEL happens here). */
  remove(id: string): Promise<void>;
}

async function startChecked(node: RuntimeNode, driver: RuntimeDriver, count: number): Promise<RuntimePod[]> {
  const pods = await Promise.all(Array.from({ length: count }, () => driver.start()));
  const pool = await node.pool();
  const held = await node.allocations();
  for (const pod of pods) {
    assert.ok(pool.addresses.has(pod.ip), `${pod.ip} is an address of ipamd's pool`);
    assert.equal(held.get(pod.id), pod.ip, `ipamd holds ${pod.ip} for sandbox ${pod.id}`);
  }
  return pods;
}

async function removeChecked(node: RuntimeNode, driver: RuntimeDriver, pods: readonly RuntimePod[]) {
  const before = (await node.pool()).assigned;
  await Promise.all(pods.map((pod) => driver.remove(pod.id)));
  const held = await node.allocations();
  for (const pod of pods) assert.ok(!held.has(pod.id), `ipamd released ${pod.ip} of ${pod.id}`);
  assert.equal((await node.pool()).assigned, before - pods.length, "the addresses are back in the pool");
  assert.deepEqual(
    await node.podLeftovers(pods.map((p) => p.ip)),
    [],
    "nothing left in the node's namespace",
  );
}

/**
 * Runs the checks as steps of one test; `node` has ipamd running and the
 * runtime started. Returns whether every step passed.
 */
export async function runtimeScenario(
  t: Deno.TestContext,
  node: RuntimeNode,
  driver: RuntimeDriver,
): Promise<boolean> {
  const passed: boolean[] = [];
  let pair: RuntimePod[] = [];
  passed.push(
    await t.step("each pod gets an address from ipamd's pool, and the node reaches it", async () => {
      pair = await startChecked(node, driver, 2);
      assert.notEqual(pair[0]!.ip, pair[1]!.ip);
      for (const pod of pair) await node.ping(pod.ip);
    }),
  );
  passed.push(
    await t.step("two pods reach each other through the node", async () => {
      const [a, b] = pair as [RuntimePod, RuntimePod];
      await node.ping(b.ip, a.netns);
      await node.ping(a.ip, b.netns);
    }),
  );
  passed.push(
    await t.step("stop and remove give the addresses back and leave no link, route or rule", async () => {
      await removeChecked(node, driver, pair);
    }),
  );
  let ten: RuntimePod[] = [];
  passed.push(
    await t.step("10 sandboxes started at once get 10 distinct addresses", async () => {
      ten = await startChecked(node, driver, 10);
      assert.equal(new Set(ten.map((p) => p.ip)).size, 10, ten.map((p) => p.ip).join(" "));
    }),
  );
  passed.push(
    await t.step("ipamd killed and restarted while pods run keeps every address", async () => {
      const before = await node.allocations();
      await node.killIpamd();
      await node.startIpamd();
      const after = await node.allocations();
      for (const pod of ten) {
        assert.equal(after.get(pod.id), pod.ip, `ipamd still holds ${pod.ip} for ${pod.id}`);
        assert.equal(await driver.ip(pod.id), pod.ip, `the runtime still reports ${pod.ip}`);
      }
      assert.equal(after.size, before.size);
      assert.equal((await node.pool()).assigned, ten.length);
      const more = await startChecked(node, driver, 3);
      const taken = new Set(ten.map((p) => p.ip));
      for (const pod of more) {
        assert.ok(!taken.has(pod.ip), `a new pod gets ${pod.ip}, which no running pod has`);
      }
      assert.equal(new Set(more.map((p) => p.ip)).size, 3);
      await node.ping(more[0]!.ip);
      await removeChecked(node, driver, [...ten, ...more]);
    }),
  );
  return passed.every(Boolean);
}
