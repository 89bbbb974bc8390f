/**
 * Checkpoint faults: ipamd refuses to start over a checkpoint that is truncated,
 * garbage, of another version or not UTF-8, and over one on a read-only or full
 * disk, with one clear line on stderr and the file left byte for byte; and a
 * checkpoint write that fails while it runs (disk full, then read-only) fails
 * the ADD with "try again later" and nothing half-applied, fails the DEL so the
 * runtime retries it, and once the disk is back every retry lands.
 */
import assert from "node:assert/strict";
import { formatCheckpoint } from "../../ipamd/pool/checkpoint.ts";
import { auditNode, hostPlumbing, podAddresses } from "./_audit.ts";
import { nodesReady, RUNTIME_DIR, startNode, type TestNode } from "../../testing/node.ts";
import { recordResult } from "./_results.ts";
import { Runtime } from "./_runtime.ts";
import { createSmallDisk } from "./_small_disk.ts";

const ready = await nodesReady();

const VALID = formatCheckpoint({
  allocations: [{
    key: { networkName: "aws-cni", containerId: "kept-1", ifName: "eth0" },
    meta: { podNamespace: "default", podName: "kept-1" },
    ip: "10.0.0.9",
    assignedAtMs: 1_700_000_000_000,
  }],
  cooldowns: [],
});

const CORRUPT: readonly { label: string; bytes: Uint8Array; says: RegExp }[] = [
  { label: "truncated", bytes: new TextEncoder().encode(VALID.slice(0, 70)), says: /not valid JSON/ },
  {
    label: "garbage",
    bytes: Uint8Array.from({ length: 300 }, (_, i) => (i * 131 + 7) % 251),
    says: /not UTF-8|not valid JSON/,
  },
  {
    label: "wrong version",
    bytes: new TextEncoder().encode(VALID.replace("vpc-cni-ipam/1", "vpc-cni-ipam/9")),
    says: /"version" is "vpc-cni-ipam\/9"/,
  },
  {
    label: "wrong shape",
    bytes: new TextEncoder().encode('{"version":"vpc-cni-ipam/1","allocations":"all"}'),
    says: /expected an array/,
  },
  { label: "empty", bytes: new Uint8Array(), says: /it is empty/ },
];

/** Starts the daemon, which must exit 1 at once with one clear stderr line naming `path`. */
async function expectRefusal(node: TestNode, path: string): Promise<string> {
  node.daemon.spawn();
  const exit = await node.daemon.exit();
  assert.equal(exit.code, 1, `ipamd must refuse to start: ${exit.stderr}`);
  const lines = exit.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line on stderr: ${exit.stderr}`);
  assert.doesNotMatch(exit.stderr, /\n\s+at |Uncaught|Stack backtrace/);
  assert.ok(lines[0]!.includes(path), `the message names the file: ${exit.stderr}`);
  return lines[0]!;
}

Deno.test({
  name: "ipamd refuses a truncated, garbage, wrong-version or empty checkpoint and keeps the file",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using node = await startNode({
      label: "ckpt",
      cloud: { instanceType: "c5.4xlarge" },
      start: false,
    });
    const checkpoint = node.outside(node.paths.checkpoint);
    for (const bad of CORRUPT) {
      await Deno.writeFile(checkpoint, bad.bytes);
      const line = await expectRefusal(node, node.paths.checkpoint);
      assert.match(line, bad.says, bad.label);
      assert.match(line, /kept/, bad.label);
      assert.deepEqual(await Deno.readFile(checkpoint), bad.bytes, `${bad.label}: file unchanged`);
      assert.deepEqual([...Deno.readDirSync(node.outside(RUNTIME_DIR))].map((e) => e.name), ["ipam.json"]);
    }
    await recordResult({
      area: "Corrupt checkpoint at startup",
      operations: CORRUPT.length,
      faults: CORRUPT.length,
      notes: CORRUPT.map((c) => c.label).join(", ") + ": refused, file kept",
    });
  },
});

Deno.test({
  name: "ipamd on a read-only or full disk refuses to start with a clear message and keeps the checkpoint",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using node = await startNode({
      label: "ckro",
      cloud: { instanceType: "c5.4xlarge" },
      start: false,
    });
    // A small disk over the node's /run/aws-node, where the socket and checkpoint live.
    await using disk = await createSmallDisk(node.mounts.ns, RUNTIME_DIR);
    await disk.exec("sh", ["-c", `printf '%s' "$1" > "$2"`, "sh", VALID, node.paths.checkpoint]);
    await disk.readOnly(true);
    const readOnly = await expectRefusal(node, node.paths.checkpoint);
    assert.match(readOnly, /[Rr]ead-only/);
    assert.equal(await disk.read(node.paths.checkpoint), VALID);
    await disk.readOnly(false);
    await disk.fill();
    const full = await expectRefusal(node, node.paths.checkpoint);
    assert.match(full, /[Nn]o space/);
    assert.equal(await disk.read(node.paths.checkpoint), VALID);
    await recordResult({
      area: "Checkpoint on a read-only / full disk at startup",
      operations: 2,
      faults: 2,
      notes: "refused with one line, file kept",
    });
  },
});

Deno.test({
  name:
    "a checkpoint write that fails (disk full, read-only) fails ADD with code 11 and nothing half-applied",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using node = await startNode({
      label: "ckfull",
      cloud: { instanceType: "c5.4xlarge" },
      env: { IP_COOLDOWN_PERIOD: "1" },
      start: false,
    });
    await using disk = await createSmallDisk(node.mounts.ns, RUNTIME_DIR);
    const checkpoint = () => disk.read(node.paths.checkpoint);
    await node.daemon.start();
    const runtime = await Runtime.create(node, 6, "ck");
    const [a, b, c] = runtime.slots as [
      typeof runtime.slots[0],
      typeof runtime.slots[0],
      typeof runtime.slots[0],
    ];
    assert.ok((await runtime.add(a)).ok);
    let faults = 0;
    let operations = 1;
    const problems: string[] = [];
    for (const fault of ["full", "read-only"] as const) {
      if (fault === "full") await disk.fill();
      else await disk.readOnly(true);
      faults++;
      const before = await checkpoint();
      const plumbing = JSON.stringify(await hostPlumbing(node.netns).then((h) => [...h.routes, ...h.veths]));
      const add = await runtime.add(b);
      operations++;
      assert.equal(add.ok, false, `${fault}: ADD must fail`);
      assert.equal(add.code, 11, `${fault}: try again later: ${add.result.stdout}`);
      assert.match(add.result.stdout, /checkpoint/i);
      assert.equal(await checkpoint(), before, `${fault}: checkpoint unchanged`);
      assert.equal(
        JSON.stringify(await hostPlumbing(node.netns).then((h) => [...h.routes, ...h.veths])),
        plumbing,
        `${fault}: no route or veth added`,
      );
      assert.deepEqual(await podAddresses(b.netns), [], `${fault}: the pod has no address`);
      const { pool } = await node.pool();
      assert.equal(pool.assigned, runtime.live().length, `${fault}: ipamd holds nothing for the failed ADD`);
      // DEL of the running pod cannot be made durable: it fails (or is queued), and the runtime retries.
      const del = await runtime.del(a);
      operations++;
      if (del.ok) problems.push(`${fault}: DEL acknowledged while the checkpoint cannot be written`);
      if (fault === "full") await disk.unfill();
      else await disk.readOnly(false);
      operations += await runtime.retryUncertain();
      assert.ok((await runtime.add(a)).ok, `${fault}: ADD works again once the disk is back`);
      operations++;
    }
    assert.ok((await runtime.add(c)).ok);
    operations++;
    const findings = await auditNode(node, runtime.live(), runtime.slots.map((s) => s.netns));
    await recordResult({
      area: "Checkpoint write fails mid-run (full, read-only)",
      operations,
      faults,
      duplicates: findings.duplicates.length,
      leaks: findings.leaks.length,
      lost: findings.lost.length,
      notes: "ADD → code 11, nothing applied; DEL retried until the disk is back",
    });
    assert.deepEqual([...findings.duplicates, ...findings.lost, ...findings.leaks, ...problems], []);
    assert.deepEqual(runtime.malformed, []);
  },
});

Deno.test({
  name: "a second ipamd on a live socket refuses at once and touches neither the checkpoint nor the queue",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using node = await startNode({ label: "twice" });
    const runtime = await Runtime.create(node, 1, "tw");
    assert.ok((await runtime.add(runtime.slots[0]!)).ok);
    const checkpoint = node.outside(node.paths.checkpoint);
    const before = await Deno.stat(checkpoint);
    const text = await Deno.readTextFile(checkpoint);
    const queue = await node.readFile(node.paths.queue);
    // The same node's files (socket, checkpoint, queue); its own network namespace, cloud and log.
    await using second = await startNode({
      label: "twice2",
      filesOf: node,
      log: "/var/log/aws-routed-eni/second.log",
      start: false,
    });
    const line = await expectRefusal(second, node.paths.socket);
    assert.match(line, /another server is answering there/);
    const after = await Deno.stat(checkpoint);
    assert.equal(await Deno.readTextFile(checkpoint), text);
    assert.equal(await node.readFile(node.paths.queue), queue, "the release queue was not touched");
    assert.equal(after.mtime?.getTime(), before.mtime?.getTime(), "the checkpoint was not rewritten");
    assert.ok((await runtime.del(runtime.slots[0]!)).ok, "the first ipamd still serves");
    await recordResult({
      area: "Second ipamd on a live socket",
      operations: 3,
      faults: 1,
      notes: "refused before touching the checkpoint or the release queue",
    });
  },
});
