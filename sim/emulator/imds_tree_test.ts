import assert from "node:assert/strict";
import { regionOf } from "./imds_facts.ts";
import { lookupMetadata, type MetadataTree } from "./imds_tree.ts";

Deno.test("regionOf() strips the zone letter, local zones included", () => {
  assert.equal(regionOf("us-west-2a"), "us-west-2");
  assert.equal(regionOf("eu-central-1c"), "eu-central-1");
  assert.equal(regionOf("us-gov-west-1a"), "us-gov-west-1");
  assert.equal(regionOf("us-west-2-lax-1a"), "us-west-2");
});

Deno.test("lookupMetadata() answers values, listings with trailing slashes, and null", () => {
  const tree: MetadataTree = { a: { b: "1", c: { d: "2" } }, e: "3" };
  assert.equal(lookupMetadata(tree, "/a/b"), "1");
  assert.equal(lookupMetadata(tree, "/a/"), "b\nc/");
  assert.equal(lookupMetadata(tree, "/a"), "b\nc/");
  assert.equal(lookupMetadata(tree, "/"), "a/\ne");
  assert.equal(lookupMetadata(tree, "/a/x"), null);
  assert.equal(lookupMetadata(tree, "/e/x"), null);
  assert.equal(lookupMetadata(tree, "/toString"), null);
});
