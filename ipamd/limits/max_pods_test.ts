import assert from "node:assert/strict";
import { computeMaxPods, vcpusOf } from "./max_pods.ts";
import { lookupInstanceType } from "./limits.ts";

/**
 * EKS's published max pods: templates/shared/runtime/eni-max-pods.txt in
 * awslabs/amazon-eks-ami (secondary IPs), and what its max-pods-calculator.sh
 * recommends with `--cni-prefix-delegation-enabled` (ENIs × (IPs − 1) × 16 + 2,
 * at most 110 on 30 vCPUs or fewer and 250 above). Xen types take no prefixes
 * (the calculator falls back to secondary IPs; computeMaxPods() refuses, as ipamd does).
 */
const EKS: readonly [string, number, number][] = [
  // instance type, eni-max-pods.txt, calculator with prefix delegation
  ["a1.medium", 8, 98],
  ["a1.metal", 234, 110],
  ["c5.large", 29, 110],
  ["c5.xlarge", 58, 110],
  ["c5.4xlarge", 234, 110],
  ["c5.9xlarge", 234, 250],
  ["c5.18xlarge", 737, 250],
  ["c5.metal", 737, 250],
  ["c6g.medium", 8, 98],
  ["c6g.metal", 737, 250],
  ["c6in.32xlarge", 394, 250],
  ["c7i.metal-24xl", 737, 250],
  ["d3.xlarge", 10, 110],
  ["d3en.12xlarge", 89, 250],
  ["g4dn.16xlarge", 58, 250],
  ["g5.48xlarge", 345, 250],
  ["hpc7a.12xlarge", 100, 110],
  ["hpc7g.8xlarge", 198, 250],
  ["i4i.large", 29, 110],
  ["i3en.3xlarge", 58, 110],
  ["i4i.24xlarge", 437, 250],
  ["inf1.6xlarge", 234, 110],
  ["m5.large", 29, 110],
  ["m5.2xlarge", 58, 110],
  ["m5.8xlarge", 234, 250],
  ["m5.24xlarge", 737, 250],
  ["m5zn.metal", 737, 250],
  ["m6g.medium", 8, 98],
  ["m6i.32xlarge", 737, 250],
  ["m7g.xlarge", 58, 110],
  ["g5.xlarge", 58, 110],
  ["p3dn.24xlarge", 737, 250],
  ["p5.48xlarge", 100, 250],
  ["r5.large", 29, 110],
  ["r6g.16xlarge", 737, 250],
  ["r7iz.metal-16xl", 737, 250],
];

Deno.test("computeMaxPods() agrees with EKS's published figures", async (t) => {
  for (const [name, secondary, prefixes] of EKS) {
    await t.step(name, () => {
      const info = lookupInstanceType(name);
      assert.equal(computeMaxPods(info, { prefixDelegation: false }).maxPods, secondary, "secondary IPs");
      assert.equal(computeMaxPods(info, { prefixDelegation: true }).maxPods, prefixes, "prefix delegation");
    });
  }
});

Deno.test("computeMaxPods() on Xen types without prefixes, as eni-max-pods.txt says", async (t) => {
  for (
    const [name, secondary] of [["c4.large", 29], ["m4.large", 20], ["m4.10xlarge", 234], ["t2.medium", 17]]
  ) {
    await t.step(String(name), () => {
      const info = lookupInstanceType(String(name));
      assert.equal(computeMaxPods(info, { prefixDelegation: false }).maxPods, secondary);
      assert.throws(() => computeMaxPods(info, { prefixDelegation: true }), {
        name: "RangeError",
        message:
          `Cannot use prefix delegation on instance type "${name}": it is neither Nitro nor bare metal`,
      });
    });
  }
});

Deno.test("computeMaxPods() with custom networking leaves the primary ENI out", async (t) => {
  const cases: [string, { prefixDelegation: boolean; maxEni?: number }, number][] = [
    // (ENIs − 1) × (IPs per ENI − 1) + 2
    ["m5.large", { prefixDelegation: false }, 2 * 9 + 2],
    ["m5.xlarge", { prefixDelegation: false }, 3 * 14 + 2],
    ["c5.18xlarge", { prefixDelegation: false }, 14 * 49 + 2],
    ["c5.18xlarge", { prefixDelegation: false, maxEni: 4 }, 3 * 49 + 2],
    ["t3.small", { prefixDelegation: true }, 2 * 3 * 16 + 2],
  ];
  for (const [name, options, expected] of cases) {
    await t.step(`${name} ${JSON.stringify(options)}`, () => {
      const figure = computeMaxPods(lookupInstanceType(name), { ...options, customNetworking: true });
      assert.equal(figure.maxPods, expected);
    });
  }
  await t.step("a type with one ENI has none for pods", () => {
    assert.throws(
      () =>
        computeMaxPods(lookupInstanceType("m5.large"), {
          prefixDelegation: false,
          customNetworking: true,
          maxEni: 1,
        }),
      { name: "RangeError", message: /custom networking: 1 ENI leaves none besides the primary/ },
    );
  });
});

Deno.test("computeMaxPods() counts MAX_ENI, at most the instance's ENIs", async (t) => {
  const info = lookupInstanceType("m5.large");
  for (const [maxEni, expected] of [[0, 29], [1, 11], [2, 20], [3, 29], [8, 29]] as const) {
    await t.step(`MAX_ENI=${maxEni}`, () => {
      assert.equal(computeMaxPods(info, { prefixDelegation: false, maxEni }).maxPods, expected);
    });
  }
});

Deno.test("computeMaxPods() gives the terms of the number", () => {
  const figure = computeMaxPods(lookupInstanceType("m5.large"), { prefixDelegation: true });
  assert.deepEqual(figure, {
    maxPods: 110,
    addresses: 432,
    enisForPods: 3,
    addressesPerEni: 144,
    prefixDelegation: true,
    ceiling: 110,
    vcpus: 2,
  });
});

Deno.test("vcpusOf() reads the size name, a family's largest size for metal, and DescribeInstanceTypes", async (t) => {
  const cases: [string, number | null][] = [
    ["m5.large", 2],
    ["m5.xlarge", 4],
    ["m5.24xlarge", 96],
    ["c7i.metal-24xl", 96],
    ["c5.metal", 96],
    ["a1.metal", 16],
    ["hpc7a.12xlarge", 24],
    ["t3.small", null],
    ["mac1.metal", null],
  ];
  for (const [name, expected] of cases) {
    await t.step(name, () => assert.equal(vcpusOf({ name }), expected));
  }
  await t.step("a figure from EC2 wins", () => assert.equal(vcpusOf({ name: "m5.large", vcpus: 8 }), 8));
});
