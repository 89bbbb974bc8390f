import assert from "node:assert/strict";
import {
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
