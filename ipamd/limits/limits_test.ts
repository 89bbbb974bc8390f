import assert from "node:assert/strict";
import { computeMaxPods, instanceLimits } from "./max_pods.ts";
import {
  infoFromDescribe,
  type InstanceTypeInfo,
  instanceTypeNames,
  lookupInstanceType,
  supportsPrefixDelegation,
  UnknownInstanceTypeError,
} from "./limits.ts";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return assert.fail("Expected an error");
}

Deno.test("instanceTypeNames() lists all 1,391 types once, sorted", () => {
  const names = instanceTypeNames();
  assert.equal(names.length, 1391);
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual(names, [...names].sort());
});

Deno.test("lookupInstanceType() reads every row, with the default card's ENIs as maxEnis", () => {
  for (const name of instanceTypeNames()) {
    const info = lookupInstanceType(name);
    assert.equal(info.name, name);
    assert.ok(info.ipv4PerEni >= 2, `${name} has ${info.ipv4PerEni} IPv4 per ENI`);
    assert.deepEqual(info.networkCards.map((card) => card.index), info.networkCards.map((_, i) => i));
    assert.equal(info.networkCards[info.defaultNetworkCard]?.maxEnis, info.maxEnis, name);
  }
});

Deno.test("lookupInstanceType() returns the limits of known types", async (t) => {
  const cases: [string, Omit<InstanceTypeInfo, "name" | "networkCards" | "defaultNetworkCard">, number][] = [
    ["t3.small", { maxEnis: 3, ipv4PerEni: 4, hypervisor: "nitro", bareMetal: false }, 1],
    ["t3.medium", { maxEnis: 3, ipv4PerEni: 6, hypervisor: "nitro", bareMetal: false }, 1],
    ["p3dn.24xlarge", { maxEnis: 15, ipv4PerEni: 50, hypervisor: "nitro", bareMetal: false }, 1],
    ["m5.large", { maxEnis: 3, ipv4PerEni: 10, hypervisor: "nitro", bareMetal: false }, 1],
    ["c4.large", { maxEnis: 3, ipv4PerEni: 10, hypervisor: "xen", bareMetal: false }, 1],
    ["a1.metal", { maxEnis: 8, ipv4PerEni: 30, hypervisor: "unknown", bareMetal: true }, 1],
    ["c7g.metal", { maxEnis: 15, ipv4PerEni: 50, hypervisor: "nitro", bareMetal: true }, 1],
    ["p4d.24xlarge", { maxEnis: 15, ipv4PerEni: 50, hypervisor: "nitro", bareMetal: false }, 4],
    ["p5.48xlarge", { maxEnis: 2, ipv4PerEni: 50, hypervisor: "nitro", bareMetal: false }, 32],
  ];
  for (const [name, expected, cards] of cases) {
    await t.step(name, () => {
      const info = lookupInstanceType(name);
      assert.deepEqual(
        {
          maxEnis: info.maxEnis,
          ipv4PerEni: info.ipv4PerEni,
          hypervisor: info.hypervisor,
          bareMetal: info.bareMetal,
        },
        expected,
      );
      assert.equal(info.defaultNetworkCard, 0);
      assert.equal(info.networkCards.length, cards);
      assert.ok(info.networkCards.every((card) => card.maxEnis === expected.maxEnis));
      assert.ok(Object.isFrozen(info));
    });
  }
});

Deno.test("lookupInstanceType() names an unknown type, and the prototype's names are none", async (t) => {
  for (const name of ["m5.larg", "toString", "__proto__"]) {
    await t.step(name, () => {
      const error = thrown(() => lookupInstanceType(name));
      assert.ok(error instanceof UnknownInstanceTypeError);
      assert.equal(error.message, `Unknown instance type "${name}"`);
    });
  }
});

Deno.test("supportsPrefixDelegation() accepts Nitro and bare metal only", async (t) => {
  const cases: [string, boolean][] = [
    ["t3.small", true],
    ["a1.metal", true],
    ["c7g.metal", true],
    ["c4.large", false],
    ["cr1.8xlarge", false],
  ];
  for (const [name, expected] of cases) {
    await t.step(name, () => assert.equal(supportsPrefixDelegation(lookupInstanceType(name)), expected));
  }
});

Deno.test("instanceLimits() defaults max pods and takes an override", async (t) => {
  const info = lookupInstanceType("t3.medium");
  const cases: [string, { prefixDelegation: boolean; maxPods?: number | undefined }, number][] = [
    ["default, secondary IPs", { prefixDelegation: false }, 17],
    ["default, prefix delegation (EKS caps it at 110)", { prefixDelegation: true }, 110],
    ["undefined override", { prefixDelegation: false, maxPods: undefined }, 17],
    ["lower override", { prefixDelegation: true, maxPods: 110 }, 110],
    ["higher override", { prefixDelegation: false, maxPods: 40 }, 40],
  ];
  for (const [label, options, maxPods] of cases) {
    await t.step(label, () => {
      assert.deepEqual(instanceLimits(info, options), { maxEnis: 3, ipv4PerEni: 6, maxPods });
    });
  }
});

Deno.test("instanceLimits() rejects a max pods that is not a positive integer", async (t) => {
  const info = lookupInstanceType("t3.small");
  for (const maxPods of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    await t.step(String(maxPods), () => {
      assert.throws(() => instanceLimits(info, { prefixDelegation: false, maxPods }), {
        name: "RangeError",
        message: `Invalid max pods ${maxPods} for instance type "t3.small": must be a positive integer`,
      });
    });
  }
});

Deno.test("infoFromDescribe() builds limits for a type missing from the table", async (t) => {
  await t.step("multi-card Nitro type counts the default card only", () => {
    const info = infoFromDescribe("zz9.48xlarge", {
      maximumNetworkInterfaces: 64,
      ipv4AddressesPerInterface: 50,
      hypervisor: "nitro",
      bareMetal: false,
      defaultNetworkCardIndex: 0,
      networkCards: [
        { networkCardIndex: 1, maximumNetworkInterfaces: 2 },
        { networkCardIndex: 0, maximumNetworkInterfaces: 2 },
      ],
    });
    assert.deepEqual(info, {
      name: "zz9.48xlarge",
      maxEnis: 2,
      ipv4PerEni: 50,
      hypervisor: "nitro",
      bareMetal: false,
      defaultNetworkCard: 0,
      networkCards: [{ index: 0, maxEnis: 2 }, { index: 1, maxEnis: 2 }],
    });
    assert.equal(computeMaxPods(info, { prefixDelegation: false }).maxPods, 100);
  });
  await t.step("bare metal without hypervisor or cards", () => {
    const info = infoFromDescribe("zz9.metal", {
      maximumNetworkInterfaces: 15,
      ipv4AddressesPerInterface: 50,
      bareMetal: true,
      defaultVcpus: 96,
    });
    assert.equal(info.hypervisor, "unknown");
    assert.deepEqual(info.networkCards, [{ index: 0, maxEnis: 15 }]);
    assert.equal(info.vcpus, 96);
    assert.equal(computeMaxPods(info, { prefixDelegation: true }).maxPods, 250);
  });
});

Deno.test("infoFromDescribe() rejects impossible facts", async (t) => {
  const cases: [string, Parameters<typeof infoFromDescribe>, string, string][] = [
    [
      "empty name",
      ["", { maximumNetworkInterfaces: 3, ipv4AddressesPerInterface: 4 }],
      "TypeError",
      "without a name",
    ],
    [
      "zero ENIs",
      ["x.large", { maximumNetworkInterfaces: 0, ipv4AddressesPerInterface: 4 }],
      "RangeError",
      "0",
    ],
    [
      "fractional IPs",
      ["x.large", { maximumNetworkInterfaces: 3, ipv4AddressesPerInterface: 1.5 }],
      "RangeError",
      "1.5",
    ],
    [
      "missing default card",
      ["x.large", {
        maximumNetworkInterfaces: 3,
        ipv4AddressesPerInterface: 4,
        defaultNetworkCardIndex: 1,
        networkCards: [{ networkCardIndex: 0, maximumNetworkInterfaces: 3 }],
      }],
      "RangeError",
      "no such card",
    ],
    [
      "repeated card",
      ["x.large", {
        maximumNetworkInterfaces: 6,
        ipv4AddressesPerInterface: 4,
        networkCards: [
          { networkCardIndex: 0, maximumNetworkInterfaces: 3 },
          { networkCardIndex: 0, maximumNetworkInterfaces: 3 },
        ],
      }],
      "RangeError",
      "listed twice",
    ],
  ];
  for (const [label, args, name, fragment] of cases) {
    await t.step(label, () => {
      const error = thrown(() => infoFromDescribe(...args));
      assert.ok(error instanceof Error);
      assert.equal(error.name, name);
      assert.ok(error.message.includes(fragment), error.message);
    });
  }
});
