import assert from "node:assert/strict";
import { Ec2SimError } from "../ec2/error.ts";
import { page } from "./ec2_paging.ts";
import { QueryParams } from "./query_params.ts";
import { escapeXml, itemSet, leaf, node } from "./xml.ts";

function code(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof Ec2SimError);
    return error.code;
  }
  assert.fail("expected an Ec2SimError");
}

Deno.test("QueryParams reads flattened lists in index order", () => {
  const params = new QueryParams("Id.10=c&Id.2=b&Id.1=a&Other=1");
  assert.deepEqual(params.list("Id"), ["a", "b", "c"]);
  assert.equal(params.list("Missing"), undefined);
  assert.equal(code(() => params.rejectUnused()), "UnknownParameter");
  params.accept("Other");
  params.rejectUnused();
});

Deno.test("QueryParams reads filters and tags", () => {
  const params = new QueryParams(
    "Filter.1.Name=tag-key&Filter.1.Value.1=a&Filter.1.Value.2=b&Filter.2.Name=status&Filter.2.Value.1=x" +
      "&Tag.1.Key=k&Tag.1.Value=v&Tag.2.Key=empty",
  );
  assert.deepEqual(params.filters(), { "tag-key": ["a", "b"], status: ["x"] });
  assert.deepEqual(params.tags("Tag"), [{ key: "k", value: "v" }, { key: "empty", value: "" }]);
  params.rejectUnused();
});

Deno.test("QueryParams rejects malformed numbers and booleans with EC2's codes", () => {
  const params = new QueryParams("N=1.5&B=yes&Big=99999999999999999999&Ok=-3&T=TRUE");
  assert.equal(code(() => params.integer("N")), "InvalidParameterValue");
  assert.equal(code(() => params.integer("Big")), "InvalidParameterValue");
  assert.equal(code(() => params.boolean("B")), "InvalidParameterValue");
  assert.equal(code(() => params.required("Absent")), "MissingParameter");
  assert.equal(params.integer("Ok"), -3);
  assert.equal(params.boolean("T"), true);
});

Deno.test("QueryParams takes the first of repeated names, body after query", () => {
  const params = new QueryParams("Action=A", "Action=B&Version=1");
  assert.equal(params.string("Action"), "A");
  assert.equal(params.string("Version"), "1");
});

Deno.test("page() slices with a token per action and checks MaxResults", () => {
  const items = [1, 2, 3, 4, 5, 6, 7];
  assert.deepEqual(page(items, { action: "A", min: 5, max: 10 }), { items });
  const first = page(items, { action: "A", maxResults: 5, min: 5, max: 10 });
  assert.deepEqual(first.items, [1, 2, 3, 4, 5]);
  const second = page(items, { action: "A", maxResults: 5, nextToken: first.nextToken!, min: 5, max: 10 });
  assert.deepEqual(second, { items: [6, 7] });
  assert.equal(
    code(() => page(items, { action: "B", nextToken: first.nextToken!, min: 5, max: 10 })),
    "InvalidPaginationToken",
  );
  assert.equal(
    code(() => page(items, { action: "A", maxResults: 4, min: 5, max: 10 })),
    "InvalidParameterValue",
  );
});

Deno.test("the XML writer escapes text and writes EC2 item lists", () => {
  assert.equal(escapeXml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
  assert.equal(leaf("a", undefined), "");
  assert.equal(leaf("a", false), "<a>false</a>");
  assert.equal(node("n", leaf("a", 1), leaf("b", "x")), "<n><a>1</a><b>x</b></n>");
  assert.equal(
    itemSet("s", [1, 2].map((n) => leaf("v", n))),
    "<s><item><v>1</v></item><item><v>2</v></item></s>",
  );
  assert.equal(itemSet("s", []), "<s></s>");
});
