/**
 * The test node harness itself (testing/node.ts, root only): a node comes up
 * with the cloud and the daemon running as on a node, the daemon can be
 * killed and started again over the same cloud, and disposing removes every
 * namespace and process, also when the daemon cannot start.
 */
import assert from "node:assert/strict";
import { nodesReady, startNode } from "../testing/node.ts";
import { run } from "../testing/netns.ts";

const ready = await nodesReady();

async function netnsNames(): Promise<string[]> {
  return (await run("ip", ["netns", "list"])).stdout.split("\n").map((line) => line.split(" ")[0]!);
}

async function alive(pid: number): Promise<boolean> {
  return await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
}

Deno.test({
  name: "startNode() runs the cloud and the daemon in the node; the daemon restarts over the same cloud",
  ignore: !ready,
  async fn() {
    let names: string[] = [];
    let pids: number[] = [];
    {
      await using node = await startNode({ label: "harness", env: { WARM_ENI_TARGET: "1" } });
      const cloud = node.cloud!;
      names = [node.netns.name];
      pids = [cloud.ready.pid, cloud.ready.vpcHolderPid!, node.daemon.pid!];
      const state = await cloud.control.state();
      const report = await node.pool();
      assert.equal(report.enis[0]?.eniId, cloud.ready.primaryEniId, "ipamd found the cloud's instance");
      assert.equal(state.calls.DescribeSubnets !== undefined, true, "ipamd called the cloud's EC2");
      const requests = await cloud.control.imdsRequests();
      assert.ok(requests.some((r) => r.path === "/latest/api/token"), "ipamd read the cloud's IMDS");
      const killed = await node.daemon.kill9();
      assert.equal(killed?.signal, "SIGKILL");
      await node.daemon.start();
      assert.equal(node.daemon.starts, 2);
      assert.equal((await cloud.control.state()).instanceId, state.instanceId, "the same cloud");
      assert.match(await node.metrics(), /^awscni_eni_max 3$/m);
      const status = await node.status(["--json"]);
      assert.equal(status.code, 0, status.stderr);
      assert.equal(JSON.parse(status.stdout).enis[0].eniId, cloud.ready.primaryEniId);
      pids.push(node.daemon.pid!);
    }
    const left = await netnsNames();
    assert.deepEqual(names.filter((name) => left.includes(name)), [], "namespaces removed");
    for (const pid of pids) assert.equal(await alive(pid), false, `process ${pid} ended`);
  },
});

Deno.test({
  name: "startNode() removes what it made when the daemon cannot start",
  ignore: !ready,
  async fn() {
    const before = await netnsNames();
    await assert.rejects(
      startNode({ label: "harnessbad", env: { WARM_IP_TARGET: "lots" } }),
      /ipamd exited \(code 1, signal null\) before serving[\s\S]*WARM_IP_TARGET/,
    );
    const after = await netnsNames();
    assert.deepEqual(after.filter((name) => !before.includes(name) && name.includes("harnessbad")), []);
  },
});
