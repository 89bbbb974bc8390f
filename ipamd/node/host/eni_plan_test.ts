import assert from "node:assert/strict";
import {
  type NetState,
  planEni,
  planEniTeardown,
  planHostRules,
  staleEniDevices,
  subnetGateway,
} from "./eni_plan.ts";
import type { LinkState, RuleState } from "./ip_state.ts";
import { eniRouteTable } from "./types.ts";

const LINK: LinkState = { name: "eth1", mac: "02:00:00:00:00:11", mtu: 1500, up: false, alias: "" };
const ENI = { primaryIp: "10.0.1.5", subnetCidr: "10.0.1.0/24", deviceNumber: 1, mtu: 9001 };
const DEFAULT_RULES: RuleState[] = [
  { priority: 0, from: "all", to: "all", table: "local" },
  { priority: 32766, from: "all", to: "all", table: "main" },
  { priority: 32767, from: "all", to: "all", table: "default" },
];
const EMPTY: NetState = { addrs: [], routes: [], rules: DEFAULT_RULES };

/** The state `planEni(EMPTY, LINK, ENI)` produces. */
const CONFIGURED: NetState = {
  addrs: [{ dev: "eth1", local: "10.0.1.5", prefixLength: 24, scope: "global", secondary: false }],
  routes: [
    { dst: "default", table: "2", dev: "eth1", gateway: "10.0.1.1" },
    { dst: "10.0.1.1", table: "2", dev: "eth1", scope: "link" },
  ],
  rules: [...DEFAULT_RULES, { priority: 32765, from: "10.0.1.5/32", to: "all", table: "2" }],
};
const UP: LinkState = { ...LINK, mtu: 9001, up: true };

Deno.test("subnetGateway() is the network address plus one", () => {
  assert.equal(subnetGateway("10.0.1.0/24"), "10.0.1.1");
  assert.equal(subnetGateway("172.31.32.0/20"), "172.31.32.1");
  assert.throws(() => subnetGateway("10.0.1.5/24"), SyntaxError);
  assert.throws(() => subnetGateway("10.0.1.4/31"), RangeError);
});

Deno.test("eniRouteTable() is device + 1 and refuses the primary", () => {
  assert.equal(eniRouteTable(1), 2);
  assert.equal(eniRouteTable(7), 8);
  assert.throws(() => eniRouteTable(0), RangeError);
  assert.throws(() => eniRouteTable(251), RangeError);
});

Deno.test("planEni() configures a fresh link: MTU, up, address, table routes, rule", () => {
  const plan = planEni(EMPTY, LINK, ENI);
  assert.deepEqual(plan.remove, []);
  assert.deepEqual(plan.add, [
    ["link", "set", "dev", "eth1", "mtu", "9001", "up"],
    ["addr", "add", "10.0.1.5/24", "dev", "eth1", "noprefixroute"],
    ["route", "replace", "10.0.1.1/32", "dev", "eth1", "scope", "link", "table", "2"],
    ["route", "replace", "default", "via", "10.0.1.1", "dev", "eth1", "table", "2"],
    ["rule", "add", "from", "10.0.1.5", "lookup", "2", "prio", "32765"],
  ]);
});

Deno.test("planEni() is empty when the link is already configured", () => {
  assert.deepEqual(planEni(CONFIGURED, UP, ENI), { remove: [], add: [] });
});

Deno.test("planEni() removes other addresses (secondaries first) and the kernel subnet route", () => {
  const state: NetState = {
    ...CONFIGURED,
    addrs: [
      { dev: "eth1", local: "10.0.1.9", prefixLength: 24, scope: "global", secondary: false },
      { dev: "eth1", local: "10.0.1.5", prefixLength: 24, scope: "global", secondary: true },
      { dev: "eth1", local: "10.0.1.77", prefixLength: 24, scope: "global", secondary: true },
      { dev: "eth1", local: "169.254.0.9", prefixLength: 16, scope: "link", secondary: false },
      { dev: "eth0", local: "10.0.0.5", prefixLength: 24, scope: "global", secondary: false },
    ],
    routes: [...CONFIGURED.routes, { dst: "10.0.1.0/24", table: "main", dev: "eth1", scope: "link" }],
  };
  const plan = planEni(state, UP, ENI);
  // 10.0.1.5 is a secondary of 10.0.1.9, so the kernel would drop it with it: it is added again.
  assert.deepEqual(plan.remove, [
    ["addr", "del", "10.0.1.77/24", "dev", "eth1"],
    ["addr", "del", "10.0.1.5/24", "dev", "eth1"],
    ["addr", "del", "10.0.1.9/24", "dev", "eth1"],
    ["route", "del", "10.0.1.0/24", "dev", "eth1", "table", "main"],
  ]);
  assert.deepEqual(plan.add, [["addr", "add", "10.0.1.5/24", "dev", "eth1", "noprefixroute"]]);
  const primaryKept = planEni(
    { ...state, addrs: [state.addrs[0]!, { ...state.addrs[1]!, local: "10.0.1.5" }] },
    UP,
    {
      ...ENI,
      primaryIp: "10.0.1.9",
    },
  );
  assert.ok(!primaryKept.add.some((c) => c[0] === "addr"), "the kept primary address is not added again");
  assert.deepEqual(primaryKept.remove[0], ["addr", "del", "10.0.1.5/24", "dev", "eth1"]);
});

Deno.test("planEni() replaces a wrong gateway and deletes foreign routes in the ENI's table", () => {
  const state: NetState = {
    ...CONFIGURED,
    routes: [
      { dst: "default", table: "2", dev: "eth1", gateway: "10.0.9.1" },
      { dst: "10.0.9.1", table: "2", dev: "eth1", scope: "link" },
      { dst: "10.0.1.1", table: "2", dev: "eth1", scope: "link" },
      { dst: "default", table: "3", dev: "eth2", gateway: "10.0.2.1" },
    ],
  };
  const plan = planEni(state, UP, ENI);
  assert.deepEqual(plan.remove, [
    ["route", "del", "default", "dev", "eth1", "table", "2"],
    ["route", "del", "10.0.9.1", "dev", "eth1", "table", "2"],
  ]);
  assert.deepEqual(plan.add, [[
    "route",
    "replace",
    "default",
    "via",
    "10.0.1.1",
    "dev",
    "eth1",
    "table",
    "2",
  ]]);
});

Deno.test("planEni() moves the table's rule to the new primary IP and drops the IP's old table", () => {
  const state: NetState = {
    ...CONFIGURED,
    rules: [
      ...DEFAULT_RULES,
      { priority: 32765, from: "10.0.1.99/32", to: "all", table: "2" },
      { priority: 32765, from: "10.0.1.5/32", to: "all", table: "4" },
      { priority: 32765, from: "10.0.2.5/32", to: "all", table: "3" },
      { priority: 1536, from: "10.0.1.20/32", to: "all", table: "2" },
    ],
  };
  const plan = planEni(state, UP, ENI);
  assert.deepEqual(plan.remove, [
    ["rule", "del", "prio", "32765", "from", "10.0.1.99/32", "lookup", "2"],
    ["rule", "del", "prio", "32765", "from", "10.0.1.5/32", "lookup", "4"],
  ]);
  assert.deepEqual(plan.add, [["rule", "add", "from", "10.0.1.5", "lookup", "2", "prio", "32765"]]);
});

Deno.test("planEniTeardown() deletes the ENI's rule and flushes its table, and is empty afterwards", () => {
  const state: NetState = {
    ...CONFIGURED,
    rules: [...CONFIGURED.rules, { priority: 32765, from: "10.0.2.5/32", to: "all", table: "3" }],
  };
  assert.deepEqual(planEniTeardown(state, { deviceNumber: 1, primaryIp: "10.0.1.5" }), {
    remove: [["rule", "del", "prio", "32765", "from", "10.0.1.5/32", "lookup", "2"], [
      "route",
      "flush",
      "table",
      "2",
    ]],
    add: [],
  });
  assert.deepEqual(planEniTeardown(EMPTY, { deviceNumber: 1, primaryIp: "10.0.1.5" }), {
    remove: [],
    add: [],
  });
});

Deno.test("staleEniDevices() lists ENI tables that are not kept", () => {
  const state: NetState = {
    ...CONFIGURED,
    rules: [
      ...CONFIGURED.rules,
      { priority: 32765, from: "10.0.2.5/32", to: "all", table: "3" },
      { priority: 32765, from: "10.0.9.5/32", to: "all", table: "main" },
    ],
  };
  assert.deepEqual(staleEniDevices(state, [1]), [2]);
  assert.deepEqual(staleEniDevices(state, [1, 2]), []);
  assert.deepEqual(staleEniDevices(state, []), [1, 2]);
});

Deno.test("planHostRules() adds the fwmark and service rules once, then is empty", () => {
  const target = { fwmarkRule: true, connmark: 0x80, externalServiceCidrs: ["203.0.113.0/24"] };
  const plan = planHostRules(DEFAULT_RULES, target);
  assert.deepEqual(plan, {
    remove: [],
    add: [
      ["rule", "add", "fwmark", "0x80/0x80", "lookup", "main", "prio", "1024"],
      ["rule", "add", "to", "203.0.113.0/24", "lookup", "main", "prio", "1535"],
    ],
  });
  const applied: RuleState[] = [
    ...DEFAULT_RULES,
    { priority: 1024, from: "all", to: "all", table: "main", fwmark: 0x80, fwmask: 0x80 },
    { priority: 1535, from: "all", to: "203.0.113.0/24", table: "main" },
  ];
  assert.deepEqual(planHostRules(applied, target), { remove: [], add: [] });
});

Deno.test("planHostRules() drops the fwmark rule when off, a stale mark, and stale service rules", () => {
  const rules: RuleState[] = [
    ...DEFAULT_RULES,
    { priority: 1024, from: "all", to: "all", table: "main", fwmark: 0x40, fwmask: 0x40 },
    { priority: 1535, from: "all", to: "198.51.100.0/24", table: "main" },
  ];
  assert.deepEqual(planHostRules(rules, { fwmarkRule: false, connmark: 0x80, externalServiceCidrs: [] }), {
    remove: [
      ["rule", "del", "prio", "1024", "fwmark", "0x40/0x40", "lookup", "main"],
      ["rule", "del", "prio", "1535", "to", "198.51.100.0/24", "lookup", "main"],
    ],
    add: [],
  });
  const changed = planHostRules(rules, { fwmarkRule: true, connmark: 0x80, externalServiceCidrs: [] });
  assert.deepEqual(changed.add, [["rule", "add", "fwmark", "0x80/0x80", "lookup", "main", "prio", "1024"]]);
});
