import assert from "node:assert/strict";
import { instanceTypeNames, UnknownInstanceTypeError } from "../ipamd/limits/mod.ts";
import { lookupTypedInstanceType, suggestInstanceTypes } from "./instance_types.ts";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.fail("expected a throw");
}

Deno.test("lookupTypedInstanceType() suggests close names for an unknown type", async (t) => {
  const cases: [string, string[], string][] = [
    ["t3.smal", ["t3.small"], 'Unknown instance type "t3.smal": did you mean "t3.small"?'],
    ["m5.larg", ["m5.large"], 'Unknown instance type "m5.larg": did you mean "m5.large"?'],
    ["T3.SMALL", ["t3.small"], 'Unknown instance type "T3.SMALL": did you mean "t3.small"?'],
    [
      "m7.large",
      ["m7a.large", "m7g.large", "m7i.large"],
      'Unknown instance type "m7.large": did you mean "m7a.large", "m7g.large" or "m7i.large"?',
    ],
    [
      "t3.huge",
      ["t3.large", "t3.nano", "t3.xlarge"],
      'Unknown instance type "t3.huge": did you mean "t3.large", "t3.nano" or "t3.xlarge"?',
    ],
    ["banana", [], 'Unknown instance type "banana"'],
    ["toString", [], 'Unknown instance type "toString"'],
    ["__proto__", [], 'Unknown instance type "__proto__"'],
  ];
  for (const [name, suggestions, message] of cases) {
    await t.step(name, () => {
      const error = thrown(() => lookupTypedInstanceType(name));
      assert.ok(error instanceof UnknownInstanceTypeError);
      assert.equal(error.name, "UnknownInstanceTypeError");
      assert.equal(error.instanceType, name);
      assert.deepEqual(suggestInstanceTypes(name, instanceTypeNames()), suggestions);
      assert.equal(error.message, message);
    });
  }
});
