import assert from "node:assert/strict";
import { TokenBucket } from "./token_bucket.ts";

Deno.test("TokenBucket.take() grants its capacity at once, then says how long to wait", () => {
  const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 2 });
  assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0)], [0, 0, 0]);
  assert.equal(bucket.take(0), 500);
  assert.equal(bucket.take(0), 500, "a refused take consumes nothing");
});

Deno.test("TokenBucket.take() refills fractionally with time, up to capacity", () => {
  const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 0.5 });
  bucket.take(0);
  bucket.take(0);
  assert.equal(bucket.take(1000), 1000, "half a token after 1 s; another second to go");
  assert.equal(bucket.take(2000), 0);
  assert.equal(bucket.available(60_000), 2, "never above capacity");
});

Deno.test("TokenBucket.take() ignores time going backwards", () => {
  const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
  assert.equal(bucket.take(5000), 0);
  assert.equal(bucket.take(1000), 1000);
  assert.equal(bucket.take(6000), 0);
});

Deno.test("TokenBucket rejects a capacity below one and a refill rate of zero", () => {
  assert.throws(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 }), RangeError);
  assert.throws(() => new TokenBucket({ capacity: 5, refillPerSecond: 0 }), RangeError);
});
