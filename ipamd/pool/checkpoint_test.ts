import assert from "node:assert/strict";
import {
  type CheckpointData,
  CheckpointError,
  checkpointFromDatastore,
  CheckpointWriteError,
  FileCheckpointStore,
  formatCheckpoint,
  parseCheckpoint,
  restoreFromCheckpoint,
} from "./checkpoint.ts";
import { Datastore } from "./datastore.ts";
import { MemoryCheckpointStore } from "../../testing/fake_checkpoint_store.ts";

/** A temporary directory removed when the test ends. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "aws-cni-checkpoint-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}) };
}

async function listDir(path: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(path))).map((e) => e.name).sort();
}

const NOW_MS = 1_763_900_000_123;

const DATA: CheckpointData = {
  allocations: [
    {
      key: { networkName: "aws-cni", containerId: "abc", ifName: "eth0" },
      meta: { podNamespace: "default", podName: "web-0" },
      ip: "10.0.1.23",
      assignedAtMs: NOW_MS,
    },
  ],
  cooldowns: [{ ip: "10.0.1.9", sinceMs: NOW_MS - 5_000 }],
};

/** Written by the reference (Go `encoding/json`): nanosecond timestamps beyond 2^53, no cooldowns. */
const REFERENCE_TEXT =
  `{"version":"vpc-cni-ipam/1","allocations":[{"networkName":"aws-cni","containerID":"4b6c1f0e9d2a","ifName":"eth0","ipv4":"10.0.1.23","allocationTimestamp":1763900000123456789,"metadata":{"k8sPodNamespace":"default","k8sPodName":"web-0","interfacesCount":1}},{"networkName":"aws-cni","containerID":"77aa","ifName":"eth0","ipv4":"10.0.1.40","allocationTimestamp":1763900001000000000,"metadata":{}}]}
`;

function datastore(): Datastore {
  const ds = new Datastore({ cooldownMs: 30_000 });
  ds.addEni({
    eniId: "eni-a",
    deviceNumber: 0,
    primary: true,
    createdAtMs: 0,
    mac: "02:00:00:00:00:01",
    primaryIp: "10.0.1.5",
    subnetCidr: "10.0.0.0/16",
  });
  ds.addCidrs("eni-a", ["10.0.1.16/28", "10.0.1.40/32"]);
  return ds;
}

Deno.test("formatCheckpoint() writes the reference format with integer nanosecond timestamps", () => {
  assert.equal(
    formatCheckpoint(DATA),
    `{"version":"vpc-cni-ipam/1","allocations":[{"networkName":"aws-cni","containerID":"abc","ifName":"eth0",` +
      `"ipv4":"10.0.1.23","allocationTimestamp":1763900000123000000,"metadata":{"k8sPodNamespace":"default",` +
      `"k8sPodName":"web-0","interfacesCount":1}}],"cooldowns":[{"ipv4":"10.0.1.9","releasedAt":1763899995123000000}]}\n`,
  );
  assert.deepEqual(parseCheckpoint(formatCheckpoint(DATA), "x"), DATA);
});

Deno.test("parseCheckpoint() reads a checkpoint in the exact reference format", () => {
  assert.deepEqual(parseCheckpoint(REFERENCE_TEXT, "/var/run/aws-node/ipam.json"), {
    allocations: [
      {
        key: { networkName: "aws-cni", containerId: "4b6c1f0e9d2a", ifName: "eth0" },
        meta: { podNamespace: "default", podName: "web-0" },
        ip: "10.0.1.23",
        assignedAtMs: 1_763_900_000_123,
      },
      {
        key: { networkName: "aws-cni", containerId: "77aa", ifName: "eth0" },
        meta: { podNamespace: "", podName: "" },
        ip: "10.0.1.40",
        assignedAtMs: 1_763_900_001_000,
      },
    ],
    cooldowns: [],
  });
  assert.deepEqual(parseCheckpoint(`{"version":"vpc-cni-ipam/1","allocations":null}`, "x"), {
    allocations: [],
    cooldowns: [],
  });
  const nulls = `{"version":"vpc-cni-ipam/1","allocations":[{"networkName":"aws-cni","containerID":"c",` +
    `"ifName":"eth0","ipv4":"10.0.1.2","allocationTimestamp":null,"metadata":{"k8sPodName":null}}]}`;
  assert.deepEqual(parseCheckpoint(nulls, "x").allocations[0], {
    key: { networkName: "aws-cni", containerId: "c", ifName: "eth0" },
    meta: { podNamespace: "", podName: "" },
    ip: "10.0.1.2",
    assignedAtMs: 0,
  });
});

Deno.test("parseCheckpoint() reads back every millisecond timestamp it wrote exactly", () => {
  const times = Array.from({ length: 1_000 }, (_, i) => NOW_MS + i);
  const data = { allocations: [], cooldowns: times.map((sinceMs) => ({ ip: "10.0.1.9", sinceMs })) };
  const text = formatCheckpoint(data);
  assert.match(text, /"releasedAt":1763900000123000000\}/);
  assert.deepEqual(parseCheckpoint(text, "x").cooldowns.map((c) => c.sinceMs), times);
});

Deno.test("FileCheckpointStore.load() returns null when the file is missing", async () => {
  await using dir = await tempDir();
  assert.equal(await new FileCheckpointStore(`${dir.path}/ipam.json`).load(), null);
  assert.deepEqual(await listDir(dir.path), []);
});

Deno.test("FileCheckpointStore round-trips data and loads a reference file unchanged", async () => {
  await using dir = await tempDir();
  const store = new FileCheckpointStore(`${dir.path}/ipam.json`);
  await store.save(DATA);
  assert.deepEqual(await store.load(), DATA);
  await Deno.writeTextFile(store.path, REFERENCE_TEXT);
  assert.deepEqual((await store.load())?.allocations.map((a) => a.ip), ["10.0.1.23", "10.0.1.40"]);
  assert.equal(await Deno.readTextFile(store.path), REFERENCE_TEXT);
});

Deno.test("FileCheckpointStore.load() throws CheckpointError and leaves a bad file byte-identical", async (t) => {
  const valid = formatCheckpoint(DATA);
  const cases: [string, string | Uint8Array, RegExp][] = [
    ["corrupt", `{"version":"vpc-cni-ipam/1",,}`, /not valid JSON/],
    ["truncated", valid.slice(0, valid.length - 20), /not valid JSON/],
    ["empty", "", /it is empty/],
    ["not UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /not UTF-8/],
    ["wrong version", valid.replace("vpc-cni-ipam/1", "vpc-cni-ipam/2"), /"version" is "vpc-cni-ipam\/2"/],
    ["missing version", `{"allocations":[]}`, /"version" is missing/],
    ["not an object", `[1,2]`, /the top level is an array/],
    [
      "allocations not an array",
      `{"version":"vpc-cni-ipam/1","allocations":{}}`,
      /"allocations" is an object/,
    ],
    [
      "containerID a number",
      valid.replace(`"containerID":"abc"`, `"containerID":7`),
      /containerID is number 7/,
    ],
    [
      "timestamp a string",
      valid.replace(/"allocationTimestamp":\d+/, `"allocationTimestamp":"1"`),
      /allocationTimestamp/,
    ],
    [
      "metadata a string",
      valid.replace(/"metadata":\{[^}]*\}/, `"metadata":"x"`),
      /allocations\[0\]\.metadata is/,
    ],
    ["pod name a bool", valid.replace(`"k8sPodName":"web-0"`, `"k8sPodName":true`), /k8sPodName is boolean/],
    [
      "cooldown without time",
      valid.replace(/"releasedAt":\d+/, `"releasedAt":[]`),
      /cooldowns\[0\]\.releasedAt/,
    ],
  ];
  for (const [name, content, problem] of cases) {
    await t.step(name, async () => {
      await using dir = await tempDir();
      const path = `${dir.path}/ipam.json`;
      const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
      await Deno.writeFile(path, bytes);
      const before = await Deno.stat(path);
      const error = await new FileCheckpointStore(path).load().then(() => null, (e: unknown) => e);
      assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${error}`);
      assert.equal(error.name, "CheckpointError");
      assert.equal(error.path, path);
      assert.match(error.message, problem);
      assert.ok(error.message.startsWith(`Cannot load checkpoint "${path}": `), error.message);
      assert.match(error.message, /the file was kept/);
      assert.match(
        error.message,
        /drain the node's pods, move the file aside \(mv "[^"]+" "[^"]+\.bad"\) and restart/,
      );
      assert.deepEqual(await Deno.readFile(path), bytes);
      assert.equal((await Deno.stat(path)).mtime?.getTime(), before.mtime?.getTime());
      assert.deepEqual(await listDir(dir.path), ["ipam.json"]);
    });
  }
});

Deno.test("FileCheckpointStore.save() replaces the target by rename and leaves no temp file", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/ipam.json`;
  await Deno.writeTextFile(path, "old contents");
  const oldInode = (await Deno.stat(path)).ino;
  await new FileCheckpointStore(path).save(DATA);
  assert.equal(await Deno.readTextFile(path), formatCheckpoint(DATA));
  assert.notEqual((await Deno.stat(path)).ino, oldInode, "the target was rewritten in place");
  assert.deepEqual(await listDir(dir.path), ["ipam.json"]);
});

Deno.test("FileCheckpointStore.save() writes concurrent saves in call order", async () => {
  await using dir = await tempDir();
  const store = new FileCheckpointStore(`${dir.path}/ipam.json`);
  const versions = Array.from(
    { length: 8 },
    (_, i) => ({ ...DATA, cooldowns: [{ ip: "10.0.1.9", sinceMs: i }] }),
  );
  await Promise.all(versions.map((data) => store.save(data)));
  assert.deepEqual((await store.load())?.cooldowns, [{ ip: "10.0.1.9", sinceMs: 7 }]);
  assert.deepEqual(await listDir(dir.path), ["ipam.json"]);
});

Deno.test("FileCheckpointStore.save() rejects with a CheckpointWriteError naming the file when the directory is gone", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.remove(dir);
  const path = `${dir}/ipam.json`;
  const error = await new FileCheckpointStore(path).save(DATA).catch((e) => e);
  assert.ok(error instanceof CheckpointWriteError, `expected a CheckpointWriteError, got ${error}`);
  assert.ok(error.cause instanceof Deno.errors.NotFound);
  assert.match(error.message, /^Cannot write checkpoint "[^"]+\/ipam\.json": No such file/);
  assert.equal(error.path, path);
});

Deno.test("FileCheckpointStore.save() rejects, keeps the target and cleans up when the rename fails", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/ipam.json`;
  await Deno.mkdir(path);
  await Deno.writeTextFile(`${path}/keep`, "x");
  const store = new FileCheckpointStore(path);
  await assert.rejects(store.save(DATA));
  assert.deepEqual(await listDir(dir.path), ["ipam.json"]);
  assert.deepEqual(await listDir(path), ["keep"]);
  await Deno.remove(path, { recursive: true });
  await store.save(DATA);
  assert.deepEqual(await store.load(), DATA, "a failed save does not block later ones");
});

Deno.test("MemoryCheckpointStore.failNextSave() makes one save reject and keeps the old data", async () => {
  const store = new MemoryCheckpointStore();
  assert.equal(await store.load(), null);
  await store.save(DATA);
  store.failNextSave(new Error("disk full"));
  await assert.rejects(store.save({ allocations: [], cooldowns: [] }), /disk full/);
  assert.deepEqual(await store.load(), DATA);
  assert.equal(store.saves, 1);
  await store.save({ allocations: [], cooldowns: [] });
  assert.deepEqual(await store.load(), { allocations: [], cooldowns: [] });
  await assert.rejects(new MemoryCheckpointStore("{").load(), CheckpointError);
});

Deno.test("checkpointFromDatastore() and restoreFromCheckpoint() carry allocations and cooldowns over a restart", async () => {
  await using dir = await tempDir();
  const before = datastore();
  const key = (containerId: string) => ({ networkName: "aws-cni", containerId, ifName: "eth0" });
  const meta = { podNamespace: "default", podName: "web-0" };
  before.assign(key("a"), meta, NOW_MS); // 10.0.1.16
  before.assign(key("b"), meta, NOW_MS + 1); // 10.0.1.17
  before.assign(key("c"), meta, NOW_MS + 2); // 10.0.1.18
  before.release(key("b"), NOW_MS + 10);
  const store = new FileCheckpointStore(`${dir.path}/ipam.json`);
  await store.save(checkpointFromDatastore(before, NOW_MS + 20));

  const loaded = await store.load();
  assert.ok(loaded);
  const after = datastore();
  const result = restoreFromCheckpoint(after, loaded, NOW_MS + 30);
  assert.deepEqual(result.dropped, []);
  assert.deepEqual(after.allocations(), before.allocations());
  assert.deepEqual(after.coolingEntries(NOW_MS + 30), [{ ip: "10.0.1.17", sinceMs: NOW_MS + 10 }]);
  assert.equal(after.assign(key("d"), meta, NOW_MS + 40)?.ip, "10.0.1.19");
  assert.equal(after.assign(key("e"), meta, NOW_MS + 30_010)?.ip, "10.0.1.17");
});

Deno.test("restoreFromCheckpoint() drops allocations whose address is no longer on the node, with a reason", () => {
  const ds = datastore();
  const result = restoreFromCheckpoint(
    ds,
    parseCheckpoint(REFERENCE_TEXT.replace("10.0.1.23", "10.0.9.23"), "x"),
    0,
  );
  assert.deepEqual(result.kept.map((a) => a.ip), ["10.0.1.40"]);
  assert.equal(result.dropped.length, 1);
  assert.equal(result.dropped[0]?.allocation.key.containerId, "4b6c1f0e9d2a");
  assert.match(result.dropped[0]?.reason ?? "", /10\.0\.9\.23 lies in no CIDR of a known ENI/);
});
