import assert from "node:assert/strict";
import {
  drainReleaseQueue,
  FileReleaseQueue,
  type PendingRelease,
  readReleaseQueue,
  releaseQueuePath,
} from "./release_queue.ts";

function release(containerId: string): PendingRelease {
  return {
    v: 1,
    queuedAt: "2026-01-01T00:00:00.000Z",
    ipv4Addrs: ["10.0.0.1"],
    request: {
      podName: "p",
      podNamespace: "ns",
      podInfraContainerId: containerId,
      reason: "PodDeleted",
      ifName: "eth0",
      networkName: "aws-cni",
      containerId,
      clientVersion: "0.1.0",
      podUid: "",
    },
  };
}

Deno.test("releaseQueuePath() puts the queue beside the socket", () => {
  assert.equal(releaseQueuePath("/var/run/aws-node/ipamd.sock"), "/var/run/aws-node/pending-releases.jsonl");
});

Deno.test("FileReleaseQueue.append() keeps one JSON line per release under 100 concurrent appends", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/pending-releases.jsonl`;
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => new FileReleaseQueue(path).append(release(`c${i}`))),
    );
    const lines = await readReleaseQueue(path);
    assert.equal(lines.length, 100);
    assert.equal(new Set(lines.map((l) => l.request.containerId)).size, 100);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    await Deno.writeTextFile(path, '{"v":1,"torn', { append: true });
    assert.equal((await readReleaseQueue(path)).length, 100, "a torn last line is skipped");
    assert.deepEqual(await readReleaseQueue(`${dir}/missing`), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("drainReleaseQueue() applies every line once and keeps lines appended while it drains", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/pending-releases.jsonl`;
    assert.deepEqual(await drainReleaseQueue(path, () => Promise.reject(new Error("not called"))), []);
    for (let i = 0; i < 10; i++) await new FileReleaseQueue(path).append(release(`old${i}`));
    let late: Promise<void>[] = [];
    const applied = await drainReleaseQueue(path, async (releases) => {
      assert.equal(releases.length, 10);
      // Plugins append while ipamd applies: they wait for the lock and land after the truncation.
      late = Array.from({ length: 5 }, (_, i) => new FileReleaseQueue(path).append(release(`new${i}`)));
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    await Promise.all(late);
    assert.deepEqual(
      applied.map((r) => r.request.containerId),
      Array.from({ length: 10 }, (_, i) => `old${i}`),
    );
    const left = (await readReleaseQueue(path)).map((r) => r.request.containerId).sort();
    assert.deepEqual(left, ["new0", "new1", "new2", "new3", "new4"]);
    await assert.rejects(drainReleaseQueue(path, () => Promise.reject(new Error("checkpoint write failed"))));
    assert.equal((await readReleaseQueue(path)).length, 5, "a failed apply keeps every line");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
