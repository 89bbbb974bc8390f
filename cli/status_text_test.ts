import { equal, match, throws } from "node:assert/strict";
import { CloudFailures, type PoolReport } from "../ipamd/ops/mod.ts";
import { addressSummary, describeAction, renderStatus } from "./status_text.ts";

Deno.test("addressSummary() folds consecutive IPs into runs and shortens long lists", () => {
  equal(addressSummary([]), "-");
  equal(addressSummary(["10.0.0.5/32", "10.0.0.6/32", "10.0.0.7/32", "10.0.0.9/32"]), "10.0.0.5-7, 10.0.0.9");
  equal(addressSummary(["10.0.0.255/32", "10.0.1.0/32"]), "10.0.0.255-10.0.1.0");
  equal(addressSummary(["10.0.0.16/28", "10.0.0.32/28"]), "10.0.0.16/28, 10.0.0.32/28");
  const many = Array.from({ length: 20 }, (_, i) => `10.0.${i}.1/32`);
  const text = addressSummary(many, 44);
  match(text, /^10\.0\.0\.1, 10\.0\.1\.1, .*, … \(\+\d+\)$/);
  equal(text.length <= 44, true);
});

Deno.test("describeAction() says each planned action in words", () => {
  equal(describeAction({ kind: "assign", eniId: "eni-1", count: 1 }, false), "assign 1 IP to eni-1");
  equal(describeAction({ kind: "create-eni", count: 2 }, true), "create an ENI with 2 prefixes");
  equal(
    describeAction({ kind: "release", eniId: "eni-2", cidrs: ["a", "b"] }, false),
    "release 2 IPs from eni-2",
  );
  equal(describeAction({ kind: "free-eni", eniId: "eni-3" }, false), "free eni-3");
});

Deno.test("CloudFailures keeps the newest failures of each pass, newest first", () => {
  const ring = new CloudFailures(2);
  ring.record({ failed: [{ action: { kind: "create-eni", count: 1 }, error: "CloudError: a" }] }, 1);
  ring.record({
    failed: [
      { action: { kind: "assign", eniId: "eni-1", count: 1 }, error: "CloudError: b" },
      { action: { kind: "free-eni", eniId: "eni-2" }, error: "CloudError: c" },
    ],
  }, 2);
  equal(ring.total, 3);
  equal(
    JSON.stringify(ring.list().map((f) => [f.action, f.eniId, f.error])),
    '[["free-eni","eni-2","CloudError: c"],["assign","eni-1","CloudError: b"]]',
  );
  throws(() => new CloudFailures(0), RangeError);
});

const REPORT: PoolReport = {
  version: "9.9.9",
  atMs: Date.parse("2026-01-01T10:00:00Z"),
  limits: { maxEnis: 3, ipv4PerEni: 4, maxPods: 11, maxEnisUsable: 3 },
  settings: {
    warmEniTarget: 1,
    warmIpTarget: 0,
    minimumIpTarget: 0,
    maxEni: 0,
    prefixDelegation: false,
    warmPrefixTarget: 1,
    ipCooldownMs: 30_000,
    scaleDownWindowMs: 300_000,
    minEniAgeMs: 60_000,
    decreaseIntervalMs: 30_000,
  },
  pool: { total: 3, assigned: 3, cooling: 0, free: 0, enis: 1, prefixes: 0, waitingAdds: 1 },
  targets: [
    {
      setting: "WARM_ENI_TARGET",
      target: 1,
      actual: 0,
      measure: "ENIs with no address in use",
      active: true,
    },
    { setting: "WARM_IP_TARGET", target: null, actual: 0, measure: "free IPs", active: false },
  ],
  enis: [{
    eniId: "eni-1",
    deviceNumber: 0,
    primary: true,
    subnetId: "subnet-1",
    subnetCidr: "10.0.0.0/20",
    cidrs: ["10.0.0.5/32", "10.0.0.6/32", "10.0.0.7/32"],
    total: 3,
    assigned: 3,
    cooling: 0,
    free: 0,
  }],
  next: { actions: [{ kind: "create-eni", count: 3 }], shortIps: 4, nextWakeMs: null },
  growthBlock: {
    reason: "throttled",
    detail: "Request limit exceeded.",
    untilMs: Date.parse("2026-01-01T10:00:08Z"),
  },
  cloudErrors: {
    recent: [{
      atMs: Date.parse("2026-01-01T09:59:58Z"),
      action: "create-eni",
      eniId: null,
      error: "CloudError: Request limit exceeded.",
    }],
    total: 4,
  },
  iam: [
    { action: "AssignPrivateIpAddresses", state: "unchecked", detail: "" },
    { action: "CreateNetworkInterface", state: "missing", detail: "DryRun: UnauthorizedOperation" },
    { action: "DescribeSubnets", state: "granted", detail: "DryRun: DryRunOperation" },
    { action: "UnassignPrivateIpAddresses", state: "unchecked", detail: "" },
  ],
};

Deno.test("renderStatus() shows ENIs, targets, the next action, the growth block and EC2 errors", () => {
  const text = renderStatus(REPORT, { source: "127.0.0.1:61679" });
  match(
    text,
    /^ipamd 9\.9\.9 \(127\.0\.0\.1:61679\): 1 ENI of 3, 3 addresses \(3 assigned, 0 cooling, 0 free\), 1 ADD waiting\n/,
  );
  match(text, /^DEVICE\s+ENI\s+SUBNET\s+IPS\s+ASSIGNED\s+COOLING\s+FREE$/m);
  match(text, /^0\*\s+eni-1\s+subnet-1 10\.0\.0\.0\/20\s+10\.0\.0\.5-7\s+3\s+0\s+0$/m);
  match(text, /^WARM_ENI_TARGET\s+1\s+0\s+ENIs with no address in use$/m);
  match(text, /^WARM_IP_TARGET\s+unset\s+0\s+free IPs \(not in use with these settings\)$/m);
  match(text, /^Next reconcile: create an ENI with 3 IPs; the pool is 4 addresses short$/m);
  match(text, /^Growth: blocked, EC2 throttled \(throttled\), paused 8 s more: Request limit exceeded\.$/m);
  match(
    text,
    /^IAM: missing ec2:CreateNetworkInterface; checked on first use: ec2:AssignPrivateIpAddresses, ec2:UnassignPrivateIpAddresses \(README, "IAM: what the node's role needs"\)$/m,
  );
  match(
    text,
    /^EC2 errors \(last 1 of 4, newest first\):\n {2}09:59:58\s+create-eni\s+-\s+CloudError: Request limit exceeded\.$/m,
  );
});

Deno.test("renderStatus() says when nothing is pending, blocking or failing", () => {
  const quiet = renderStatus({
    ...REPORT,
    next: { actions: [], shortIps: 0, nextWakeMs: REPORT.atMs + 12_000 },
    growthBlock: null,
    cloudErrors: { recent: [], total: 0 },
    iam: REPORT.iam.filter((status) => status.state !== "missing"),
  });
  match(quiet, /^IAM: no permission missing; checked on first use: /m);
  match(quiet, /^Next reconcile: nothing to do\n {2}a deferred decision .* is due in 12 s$/m);
  match(quiet, /^Growth: not blocked$/m);
  match(quiet, /^EC2 errors: none$/m);
});

Deno.test("renderStatus() names a limit by its text and code, with nothing after it", () => {
  const text = renderStatus({ ...REPORT, growthBlock: { reason: "max-pods", detail: "", untilMs: null } });
  match(text, /^Growth: blocked, max pods reached \(max-pods\)$/m);
});
