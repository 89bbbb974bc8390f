import assert from "node:assert/strict";
import { recordedIo } from "../testing/recorded_io.ts";
import { computeMaxPods, lookupInstanceType } from "../ipamd/limits/mod.ts";
import { explainMaxPods, maxPodsCommand } from "./max_pods.ts";
import { planCommand } from "./plan.ts";

async function maxPods(args: string[], env: Record<string, string> = {}) {
  const io = recordedIo({ args, env });
  const code = await maxPodsCommand(io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}

Deno.test("max-pods prints kubelet's --max-pods alone, for a script", async () => {
  assert.deepEqual(await maxPods(["--instance-type", "m5.large"]), { code: 0, out: "29\n", err: "" });
  assert.equal((await maxPods(["--instance-type", "m5.large", "--prefix-delegation"])).out, "110\n");
  assert.equal((await maxPods(["--instance-type", "m5.24xlarge", "--prefix-delegation"])).out, "250\n");
  assert.equal((await maxPods(["--instance-type", "m5.large", "--custom-networking"])).out, "20\n");
  assert.equal((await maxPods(["--instance-type", "m5.large", "--max-eni", "2"])).out, "20\n");
});

Deno.test("max-pods reads the daemon's settings from the environment; flags win", async () => {
  const env = { ENABLE_PREFIX_DELEGATION: "true", AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true", MAX_ENI: "2" };
  // (2 − 1) ENIs × 9 × 16 + 2 = 146, capped at 110.
  assert.equal((await maxPods(["--instance-type", "m5.large"], env)).out, "110\n");
  assert.equal(
    (await maxPods(["--instance-type", "m5.large", "--max-eni", "3"], { MAX_ENI: "1" })).out,
    "29\n",
  );
});

Deno.test("max-pods --explain and --json say how the number was reached", async () => {
  const explained = await maxPods(["--instance-type", "c5.xlarge", "--explain"]);
  assert.equal(
    explained.out,
    "58\nc5.xlarge: 4 ENIs × 14 addresses = 56 pod addresses, + 2 host-network pods = 58\n",
  );
  const json = JSON.parse(
    (await maxPods(["--instance-type", "c5.xlarge", "--prefix-delegation", "--json"])).out,
  );
  assert.equal(json.instanceType, "c5.xlarge");
  assert.equal(json.maxPods, 110);
  assert.equal(json.ceiling, 110);
  assert.equal(json.addresses, 896);
  assert.match(json.explanation, /EKS caps it at 110 with prefix delegation \(4 vCPUs\)$/);
});

Deno.test("explainMaxPods() names the ENIs, the addresses per ENI, the host-network pods and the ceiling", async (t) => {
  const explain = (name: string, options: { prefixDelegation: boolean; customNetworking: boolean }) => {
    const info = lookupInstanceType(name);
    return explainMaxPods(info, computeMaxPods(info, options), options);
  };
  await t.step("prefix delegation, capped by vCPUs", () => {
    assert.equal(
      explain("m5.large", { prefixDelegation: true, customNetworking: false }),
      "3 ENIs × (10 − 1) × 16 addresses = 432 pod addresses, + 2 host-network pods = 434; " +
        "EKS caps it at 110 with prefix delegation (2 vCPUs)",
    );
  });
  await t.step("custom networking", () => {
    assert.equal(
      explain("m5.large", { prefixDelegation: false, customNetworking: true }),
      "2 ENIs (custom networking: secondary ENIs only) × 9 addresses = 18 pod addresses, + 2 host-network pods = 20",
    );
  });
  await t.step("a size below large, whose vCPUs the name does not tell", () => {
    assert.match(
      explain("t3.small", { prefixDelegation: true, customNetworking: false }),
      /EKS caps it at 110 with prefix delegation \(at most 30 vCPUs\)$/,
    );
  });
});

Deno.test("max-pods names what is wrong with its input", async (t) => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [[], {}, /^aws-cni max-pods: Missing --instance-type\n$/],
    [["--instance-type", "m5.larg"], {}, /Unknown instance type "m5.larg": did you mean "m5.large"/],
    [
      ["--instance-type", "c4.large", "--prefix-delegation"],
      {},
      /c4.large": it is neither Nitro nor bare metal/,
    ],
    [["--instance-type", "m5.large", "--max-eni", "0"], {}, /Invalid --max-eni "0": expected a whole number/],
    [
      ["--instance-type", "m5.large"],
      { ENABLE_PREFIX_DELEGATION: "yes" },
      /Invalid ENABLE_PREFIX_DELEGATION="yes"/,
    ],
    [["--instance-type", "m5.large", "--custom-networking", "--max-eni", "1"], {}, /1 ENI leaves none/],
  ];
  for (const [args, env, message] of cases) {
    await t.step(args.join(" ") || "no flags", async () => {
      const result = await maxPods(args, env);
      assert.equal(result.code, 2);
      assert.equal(result.out, "");
      assert.match(result.err, message);
    });
  }
});

Deno.test("plan --pods beyond what the node can address says so", async () => {
  const io = recordedIo({ args: ["--instance-type", "m5.large", "--pods", "0,29"] });
  assert.equal(await planCommand(io), 0);
  const [about, warning] = io.out.join("").split("\n");
  assert.equal(
    about,
    "m5.large: up to 3 ENIs with 9 secondary IPs each: 27 pod addresses; max pods 29 (27 + 2 host-network pods)",
  );
  assert.match(warning!, /^Warning: m5.large can address 27 pods; 29 pods leave 2 without an address/);
});

Deno.test("plan with prefix delegation reports EKS's max pods, not the addresses", async () => {
  const io = recordedIo({ args: ["--instance-type", "m5.large", "--pods", "10", "--prefix-delegation"] });
  assert.equal(await planCommand(io), 0);
  assert.match(io.out.join(""), /432 pod addresses; max pods 110 \(EKS's ceiling with prefix delegation/);
  assert.doesNotMatch(io.out.join(""), /Warning/);
});

Deno.test("plan --max-pods above what the ENIs reach says so", async () => {
  const io = recordedIo({
    args: ["--instance-type", "m5.large", "--pods", "10", "--max-pods", "50", "--json"],
  });
  assert.equal(await planCommand(io), 0);
  assert.match(
    io.err.join(""),
    /max pods 50 is more than m5.large can reach: its ENIs hold 27 pod addresses/,
  );
});
