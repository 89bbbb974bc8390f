import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { sdkFixture } from "../../testing/ec2_sdk_fixture.ts";
import { CloudError } from "./errors.ts";
import { HttpImdsClient } from "./imds.ts";

/** A fetch that records each request's method and path before passing it on. */
function recordingFetch(seen: string[], inner: typeof fetch = fetch): typeof fetch {
  return (input, init) => {
    seen.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
    return inner(input, init);
  };
}

Deno.test("HttpImdsClient gets a token once, sends it, and answers null for a 404", async () => {
  await using fx = await sdkFixture();
  const seen: string[] = [];
  const client = new HttpImdsClient({
    endpoint: `${fx.emulator.imdsEndpoint}/`,
    clock: fx.clock,
    fetch: recordingFetch(seen),
  });
  assert.equal(await client.metadata("instance-id"), fx.instanceId);
  assert.equal(await client.metadata("/mac"), fx.primaryMac);
  assert.equal(await client.metadata("no-such-key"), null);
  assert.deepEqual(seen, [
    "PUT /latest/api/token",
    "GET /latest/meta-data/instance-id",
    "GET /latest/meta-data/mac",
    "GET /latest/meta-data/no-such-key",
  ]);
});

Deno.test("HttpImdsClient renews its token before it expires, and at once after a 401", async () => {
  await using fx = await sdkFixture();
  const seen: string[] = [];
  const client = new HttpImdsClient({
    endpoint: fx.emulator.imdsEndpoint,
    tokenTtlSeconds: 100,
    clock: fx.clock,
    fetch: recordingFetch(seen),
  });
  await client.metadata("instance-id");
  fx.clock.advance(80_000);
  await client.metadata("instance-id");
  assert.equal(seen.filter((line) => line.startsWith("PUT")).length, 1, "still valid at 80 %");
  fx.clock.advance(11_000);
  await client.metadata("instance-id");
  assert.equal(seen.filter((line) => line.startsWith("PUT")).length, 2, "renewed after 90 %");
  const stale = new HttpImdsClient({
    endpoint: fx.emulator.imdsEndpoint,
    tokenTtlSeconds: 100,
    clock: new ManualClock(),
  });
  await stale.metadata("instance-id");
  fx.clock.advance(200_000); // IMDS's clock: the token expired there
  assert.equal(await stale.metadata("instance-id"), fx.instanceId, "a 401 fetches a new token");
});

Deno.test("HttpImdsClient needs IMDSv2 unless IMDSv1 is allowed", async () => {
  await using fx = await sdkFixture({ emulator: { allowImdsV1: true } });
  const refuseTokens: typeof fetch = (input, init) =>
    init?.method === "PUT" ? Promise.resolve(new Response("", { status: 403 })) : fetch(input, init);
  const strict = new HttpImdsClient({ endpoint: fx.emulator.imdsEndpoint, fetch: refuseTokens });
  const error = await strict.metadata("instance-id").catch((e: unknown) => e);
  assert.ok(error instanceof CloudError && error.kind === "unauthorized", String(error));
  const lenient = new HttpImdsClient({
    endpoint: fx.emulator.imdsEndpoint,
    fetch: refuseTokens,
    allowV1: true,
  });
  assert.equal(await lenient.metadata("instance-id"), fx.instanceId);
});

Deno.test("HttpImdsClient retries 5xx and broken connections with back-off, then gives up", async () => {
  await using fx = await sdkFixture();
  let failures = 2;
  const slept: number[] = [];
  const sleep = (ms: number) => (slept.push(ms), Promise.resolve());
  const flaky: typeof fetch = (input, init) => {
    if (init?.method === "GET" && failures-- > 0) {
      return failures === 0
        ? Promise.reject(new TypeError("connection reset"))
        : Promise.resolve(new Response("", { status: 500 }));
    }
    return fetch(input, init);
  };
  const client = new HttpImdsClient({ endpoint: fx.emulator.imdsEndpoint, fetch: flaky, sleep });
  assert.equal(await client.metadata("instance-id"), fx.instanceId);
  assert.equal(slept.length, 2);
  const down = new HttpImdsClient({ endpoint: "http://127.0.0.1:9", retries: 2, sleep });
  const error = await down.metadata("instance-id").catch((e: unknown) => e);
  assert.ok(error instanceof CloudError && error.kind === "unavailable" && error.code === "ImdsUnavailable");
  // Off EC2 nothing answers at 169.254.169.254: the message says that this may not be an EC2 instance.
  assert.match(
    error.message,
    /^IMDS PUT \/latest\/api\/token failed: nothing answered at http:\/\/127\.0\.0\.1:9\./,
  );
  assert.match(error.message, /is this one\? Off EC2, point AWS_EC2_METADATA_SERVICE_ENDPOINT at an IMDS/);
});

Deno.test("HttpImdsClient gives up on a request after its timeout", async () => {
  const hanging: typeof fetch = (_input, init) =>
    new Promise((_, reject) =>
      init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted")))
    );
  const client = new HttpImdsClient({ fetch: hanging, timeoutMs: 50, retries: 0 });
  const error = await client.metadata("instance-id").catch((e: unknown) => e);
  assert.ok(error instanceof CloudError && error.kind === "unavailable");
  assert.match(error.message, /timed out after 50 ms/);
  assert.throws(() => new HttpImdsClient({ tokenTtlSeconds: 21_601 }), RangeError);
});
