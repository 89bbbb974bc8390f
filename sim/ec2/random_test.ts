import assert from "node:assert/strict";
import { Ec2IdFactory, sampleLatencyMs, SeededRandom } from "./random.ts";

Deno.test("Ec2IdFactory issues EC2-format ids, the same for the same seed", () => {
  const ids = new Ec2IdFactory(7);
  const again = new Ec2IdFactory(7);
  const other = new Ec2IdFactory(8);
  const eni = ids.resourceId("eni");
  assert.match(eni, /^eni-0[0-9a-f]{16}$/);
  assert.match(ids.resourceId("eni-attach"), /^eni-attach-0[0-9a-f]{16}$/);
  assert.match(ids.macAddress(), /^02(:[0-9a-f]{2}){5}$/);
  assert.match(ids.requestId(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(ids.accountId(), /^[0-9]{12}$/);
  assert.equal(again.resourceId("eni"), eni);
  assert.notEqual(other.resourceId("eni"), eni);
  assert.notEqual(ids.resourceId("eni"), eni, "the counter moves on");
});

Deno.test("Ec2IdFactory counts each kind apart, so other ids do not shift ENI ids", () => {
  const plain = new Ec2IdFactory(1);
  const busy = new Ec2IdFactory(1);
  busy.requestId();
  busy.resourceId("i");
  assert.equal(busy.resourceId("eni"), plain.resourceId("eni"));
});

Deno.test("sampleLatencyMs() stays within each model's bounds and repeats for a seed", () => {
  const random = new SeededRandom(3, "latency");
  for (let i = 0; i < 200; i++) {
    const uniform = sampleLatencyMs({ kind: "uniform", minMs: 2000, maxMs: 3000 }, random);
    assert.ok(uniform >= 2000 && uniform <= 3000, `${uniform}`);
    const lognormal = sampleLatencyMs(
      { kind: "lognormal", medianMs: 2500, sigma: 0.77, maxMs: 120_000 },
      random,
    );
    assert.ok(lognormal >= 0 && lognormal <= 120_000, `${lognormal}`);
  }
  assert.equal(sampleLatencyMs({ kind: "fixed", ms: 1234 }, random), 1234);
  const a = new SeededRandom(9, "x");
  const b = new SeededRandom(9, "x");
  assert.deepEqual([a.next(), a.next()], [b.next(), b.next()]);
  assert.notEqual(new SeededRandom(9, "y").next(), new SeededRandom(9, "x").next());
});

Deno.test("sampleLatencyMs() draws a lognormal with about the configured median", () => {
  const random = new SeededRandom(11, "latency");
  const draws = Array.from(
    { length: 2001 },
    () => sampleLatencyMs({ kind: "lognormal", medianMs: 2500, sigma: 0.77, maxMs: 120_000 }, random),
  ).sort((x, y) => x - y);
  const median = draws[1000]!;
  assert.ok(median > 2200 && median < 2800, `median ${median}`);
});
