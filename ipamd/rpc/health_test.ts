import assert from "node:assert/strict";
import { HealthStatus, ServingStatus } from "./health.ts";

Deno.test("HealthStatus starts with the given statuses and knows no others", () => {
  const health = new HealthStatus({ "": ServingStatus.SERVING });
  assert.equal(health.get(""), ServingStatus.SERVING);
  assert.equal(health.get("rpc.CNIBackend"), undefined);
});

Deno.test("HealthStatus.set() tells watchers about changes only, until they unwatch", () => {
  const health = new HealthStatus();
  const seen: [string, number][] = [];
  const unwatch = health.watch((service, status) => void seen.push([service, status]));
  health.set("", ServingStatus.SERVING);
  health.set("", ServingStatus.SERVING);
  health.set("a", ServingStatus.NOT_SERVING);
  unwatch();
  health.set("", ServingStatus.NOT_SERVING);
  assert.deepEqual(seen, [["", ServingStatus.SERVING], ["a", ServingStatus.NOT_SERVING]]);
  assert.equal(health.get(""), ServingStatus.NOT_SERVING);
});

Deno.test("HealthStatus.setAll() changes every registered service", () => {
  const health = new HealthStatus({ "": ServingStatus.SERVING, "x": ServingStatus.SERVING });
  health.setAll(ServingStatus.NOT_SERVING);
  assert.equal(health.get(""), ServingStatus.NOT_SERVING);
  assert.equal(health.get("x"), ServingStatus.NOT_SERVING);
  assert.equal(health.get("y"), undefined);
});
