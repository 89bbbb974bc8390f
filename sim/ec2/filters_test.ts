import assert from "node:assert/strict";
import { decodeNextToken, encodeNextToken, wildcardMatch } from "./filters.ts";
import { assertEc2Error } from "../../testing/ec2_sim_fixture.ts";

Deno.test("wildcardMatch() supports *, ? and escapes, and matches literally otherwise", () => {
  assert.ok(wildcardMatch("aws-K8S-*", "aws-K8S-i-0123"));
  assert.ok(!wildcardMatch("aws-K8S-*", "other"));
  assert.ok(wildcardMatch("eni-?", "eni-1"));
  assert.ok(!wildcardMatch("eni-?", "eni-12"));
  assert.ok(wildcardMatch("a\\*b", "a*b"));
  assert.ok(!wildcardMatch("a\\*b", "axb"));
  assert.ok(wildcardMatch("10.0.1.5", "10.0.1.5"));
  assert.ok(!wildcardMatch("10.0.1.5", "10x0x1x5"));
});

Deno.test("decodeNextToken() reads what encodeNextToken() wrote and refuses anything else", () => {
  assert.equal(decodeNextToken(encodeNextToken(17)), 17);
  assertEc2Error(() => decodeNextToken("garbage!"), "InvalidPaginationToken", 400);
  assertEc2Error(() => decodeNextToken(btoa("other:1")), "InvalidPaginationToken");
});
