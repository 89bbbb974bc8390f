import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { parseLatencyModel } from "./account.ts";
import { parseTrace, scenario } from "./scenarios.ts";

Deno.test("scenario() builds burst, launch and churn from the seed", () => {
  const burst = scenario("burst", { seed: 1 });
  equal(burst.events.length, 30);
  ok(burst.events.every((event) => event.t === 0 && event.op === "add"));
  const launch = scenario("launch", { seed: 1, nodes: 3, pods: 4 });
  deepStrictEqual(launch.nodes, ["node-1", "node-2", "node-3"]);
  equal(launch.events.length, 12);
  ok(launch.events.every((event, i, all) => i === 0 || all[i - 1]!.t <= event.t));
  const churn = scenario("churn", { seed: 5, durationS: 600 });
  deepStrictEqual(scenario("churn", { seed: 5, durationS: 600 }), churn);
  const adds = churn.events.filter((event) => event.op === "add").length;
  const dels = churn.events.filter((event) => event.op === "del").length;
  ok(adds > 40 && dels > 20 && dels < adds, `${adds} adds, ${dels} dels`);
});

Deno.test("parseTrace() reads JSON lines and names the bad line", () => {
  const workload = parseTrace(
    '{"t":1,"node":2,"op":"add","pod":"x"}\n\n{"t":0,"node":"n","op":"add","pod":1}\n',
  );
  deepStrictEqual(workload.nodes, ["2", "n"]);
  deepStrictEqual(workload.events.map((event) => event.t), [0, 1]);
  throws(() => parseTrace('{"t":1,"node":"n","op":"add","pod":"x"}\n{"t":-1}'), /line 2: "t"/);
  throws(() => parseTrace('{"t":1,"node":"n","op":"move","pod":"x"}'), /"op" must be/);
  throws(() => parseTrace("{nope"), SyntaxError);
  throws(() => parseTrace("\n"), /no events/);
});

Deno.test("parseLatencyModel() reads the three model forms", () => {
  deepStrictEqual(parseLatencyModel("fixed:2000"), { kind: "fixed", ms: 2000 });
  deepStrictEqual(parseLatencyModel("uniform:1000:3000"), { kind: "uniform", minMs: 1000, maxMs: 3000 });
  deepStrictEqual(parseLatencyModel("lognormal:2000:0.6:10000"), {
    kind: "lognormal",
    medianMs: 2000,
    sigma: 0.6,
    maxMs: 10000,
  });
  throws(() => parseLatencyModel("uniform:3:1"), RangeError);
  throws(() => parseLatencyModel("gamma:1"), RangeError);
});
