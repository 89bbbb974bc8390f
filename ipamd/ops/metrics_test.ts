import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import type { AddressRequest, AttachedEni, Ec2Port } from "../cloud/ec2_port.ts";
import { CloudError } from "../cloud/errors.ts";
import { Datastore } from "../pool/datastore.ts";
import { GROWTH_BLOCK_REASONS, type GrowthBlock } from "../pool/growth.ts";
import { EC2_APIS, MeteredEc2Port } from "./metered_ec2.ts";
import { type BudgetWaits, IpamdMetrics } from "./metrics.ts";
import { IamPermissions } from "./iam_permissions.ts";

const LIMITS = { maxEnis: 3, ipv4PerEni: 4, maxPods: 11 };
const SETTINGS = { maxEni: 0, prefixDelegation: false };

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const ENI: AttachedEni = {
  eniId: "eni-1",
  deviceNumber: 0,
  primary: true,
  mac: "02:00:00:00:00:01",
  primaryIp: "10.0.0.4",
  subnetId: "subnet-a",
  subnetCidr: "10.0.0.0/20",
  cidrs: ["10.0.0.5/32", "10.0.0.6/32"],
  tags: {},
};

/** An EC2 port whose assignAddresses fails with `failure` while it is set. */
class FakePort implements Ec2Port {
  failure: Error | null = null;
  describeNode(): Promise<AttachedEni[]> {
    return Promise.resolve([ENI]);
  }
  createEni(_request: AddressRequest): Promise<AttachedEni> {
    return Promise.resolve({ ...ENI, eniId: "eni-2", deviceNumber: 1, primary: false, subnetId: "subnet-b" });
  }
  assignAddresses(_eniId: string, request: AddressRequest): Promise<string[]> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return Promise.resolve(Array.from({ length: request.count }, (_, i) => `10.0.1.${i + 1}/32`));
  }
  releaseAddresses(): Promise<void> {
    return Promise.resolve();
  }
  freeEni(): Promise<void> {
    return Promise.resolve();
  }
}

Deno.test("MeteredEc2Port files latency, requests and errors under EC2 API names", async () => {
  const metrics = new IpamdMetrics({ limits: LIMITS, settings: SETTINGS });
  const fake = new FakePort();
  const port = new MeteredEc2Port(fake, metrics);
  await port.describeNode();
  await port.createEni({ count: 1, prefixes: false });
  await port.assignAddresses("eni-1", { count: 2, prefixes: false });
  fake.failure = new CloudError("throttled", "RequestLimitExceeded", "Request limit exceeded.");
  await rejects(port.assignAddresses("eni-1", { count: 2, prefixes: false }), CloudError);
  fake.failure = new TypeError("boom");
  await rejects(port.assignAddresses("eni-1", { count: 2, prefixes: false }), TypeError);
  const text = await metrics.render();
  for (const api of EC2_APIS.createEni) equal(sample(text, `awscni_ec2api_req_count{fn="${api}"}`), 1);
  equal(sample(text, 'awscni_ec2api_req_count{fn="AssignPrivateIpAddresses"}'), 3);
  equal(
    sample(
      text,
      'awscni_aws_api_latency_ms_count{api="AssignPrivateIpAddresses",error="false",status="200"}',
    ),
    1,
  );
  equal(
    sample(text, 'awscni_aws_api_latency_ms_count{api="AssignPrivateIpAddresses",error="true",status="503"}'),
    1,
  );
  equal(
    sample(text, 'awscni_aws_api_error_count{api="AssignPrivateIpAddresses",error="RequestLimitExceeded"}'),
    1,
  );
  equal(sample(text, 'awscni_aws_api_error_count{api="AssignPrivateIpAddresses",error="TypeError"}'), 1);
  equal(port.subnetOf("eni-1"), "subnet-a");
  equal(port.subnetOf("eni-2"), "subnet-b");
  await port.freeEni("eni-2");
  equal(port.subnetOf("eni-2"), "");
});

Deno.test("IpamdMetrics exports the EC2 budget waits per category as a growing counter", async () => {
  const waited: Record<string, number> = { mutating: 1500, "non-mutating": 0 };
  const budget: BudgetWaits = { categories: ["mutating", "non-mutating"], waitedMs: (c) => waited[c] ?? 0 };
  const metrics = new IpamdMetrics({ limits: LIMITS, settings: SETTINGS });
  let text = await metrics.render();
  ok(!text.includes("awscni_ec2_budget_wait_seconds_total{"), "no samples before an adapter reports");
  metrics.setBudgetWaits(budget);
  text = await metrics.render();
  equal(sample(text, 'awscni_ec2_budget_wait_seconds_total{category="mutating"}'), 1.5);
  equal(sample(text, 'awscni_ec2_budget_wait_seconds_total{category="non-mutating"}'), 0);
  waited["mutating"] = 4000;
  text = await metrics.render();
  equal(sample(text, 'awscni_ec2_budget_wait_seconds_total{category="mutating"}'), 4);
});

Deno.test("IpamdMetrics reads pool gauges and the growth block when scraped", async () => {
  const metrics = new IpamdMetrics({ limits: LIMITS, settings: { maxEni: 2, prefixDelegation: true } });
  const datastore = new Datastore({ cooldownMs: 30_000 });
  datastore.addEni({ ...ENI, createdAtMs: 0 });
  datastore.addCidrs("eni-1", ["10.0.0.16/28", "10.0.0.5/32"]);
  datastore.assign(
    { networkName: "n", containerId: "c", ifName: "eth0" },
    { podNamespace: "", podName: "" },
    0,
  );
  const growth: { current: GrowthBlock | null } = { current: null };
  metrics.watch({ datastore, growth, queue: { waiting: 2 }, nowMs: () => 0 });
  let text = await metrics.render();
  equal(sample(text, "awscni_eni_max"), 2);
  equal(sample(text, "awscni_ip_max"), 2 * 3 * 16);
  equal(sample(text, "awscni_eni_allocated"), 1);
  equal(sample(text, "awscni_total_ip_addresses"), 17);
  equal(sample(text, "awscni_assigned_ip_addresses"), 1);
  equal(sample(text, "awscni_total_ipv4_prefixes"), 1);
  equal(sample(text, "awscni_add_ip_waiting"), 2);
  equal(sample(text, 'awscni_pool_growth_blocked{reason="max-pods"}'), 0);
  growth.current = { reason: "max-pods", detail: "", untilMs: null };
  text = await metrics.render();
  equal(sample(text, 'awscni_pool_growth_blocked{reason="max-pods"}'), 1);
  growth.current = { reason: "throttled", detail: "slow down", untilMs: 10 };
  text = await metrics.render();
  deepStrictEqual(
    ["max-pods", "throttled"].map((reason) => sample(text, `awscni_pool_growth_blocked{reason="${reason}"}`)),
    [0, 1],
  );
});

Deno.test("IpamdMetrics counts ADD waits, waits that found nothing, and timeouts by reason", async () => {
  const metrics = new IpamdMetrics({ limits: LIMITS, settings: SETTINGS });
  metrics.addRequest();
  metrics.addServed(0.2, false);
  metrics.addServed(1_200, true);
  metrics.addTimedOut("subnet-full", 10_000);
  metrics.delRequest("PodDeleted");
  const text = await metrics.render();
  equal(sample(text, "awscni_add_ip_req_count"), 1);
  equal(sample(text, "awscni_no_available_ip_addresses"), 2);
  equal(sample(text, "awscni_add_ip_wait_seconds_count"), 3);
  equal(sample(text, 'awscni_add_ip_wait_seconds_bucket{le="0.001"}'), 1);
  equal(sample(text, 'awscni_add_ip_wait_seconds_bucket{le="2.5"}'), 2);
  equal(sample(text, 'awscni_add_ip_timeout_count{reason="subnet-full"}'), 1);
  equal(sample(text, 'awscni_del_ip_req_count{reason="PodDeleted"}'), 1);
  match(metrics.contentType, /^text\/plain/);
});

Deno.test("IpamdMetrics has a timeout label for every reason, and a growth label for every reason that blocks", async () => {
  const metrics = new IpamdMetrics({ limits: LIMITS, settings: SETTINGS });
  metrics.watch({
    datastore: new Datastore({ cooldownMs: 0 }),
    growth: { current: null },
    queue: { waiting: 0 },
    nowMs: () => 0,
  });
  const text = await metrics.render();
  for (const reason of GROWTH_BLOCK_REASONS) {
    equal(sample(text, `awscni_add_ip_timeout_count{reason="${reason}"}`), 0, reason);
    const blocked = sample(text, `awscni_pool_growth_blocked{reason="${reason}"}`);
    equal(blocked, reason === "still-warming" ? undefined : 0, reason);
  }
});

Deno.test("awscni_iam_permission_missing is 1 for each action the node's role lacks, learned at start or from a call", async () => {
  const iam = new IamPermissions();
  iam.record([{
    action: "CreateNetworkInterface",
    state: "missing",
    detail: "DryRun: UnauthorizedOperation",
  }]);
  const metrics = new IpamdMetrics({ limits: LIMITS, settings: SETTINGS, iam });
  const denied = new CloudError(
    "unauthorized",
    "UnauthorizedOperation",
    "You are not authorized to perform this operation.",
  );
  const port: Ec2Port = {
    describeNode: () => Promise.resolve([]),
    createEni: () => Promise.reject(new Error("unused")),
    assignAddresses: () => Promise.reject(denied),
    releaseAddresses: () => Promise.resolve(),
    freeEni: () => Promise.resolve(),
  };
  const metered = new MeteredEc2Port(port, metrics, iam);
  await rejects(metered.assignAddresses("eni-1", { count: 1, prefixes: false }));
  await metered.releaseAddresses("eni-1", ["10.0.0.9/32"]);
  const text = await metrics.render();
  equal(sample(text, 'awscni_iam_permission_missing{action="CreateNetworkInterface"}'), 1);
  equal(sample(text, 'awscni_iam_permission_missing{action="AssignPrivateIpAddresses"}'), 1);
  equal(sample(text, 'awscni_iam_permission_missing{action="UnassignPrivateIpAddresses"}'), 0);
  equal(sample(text, 'awscni_iam_permission_missing{action="DescribeSubnets"}'), 0);
  equal(iam.list().find((s) => s.action === "UnassignPrivateIpAddresses")?.state, "granted");
});

Deno.test("IpamdMetrics reports the process's resident memory and V8 heap when scraped", async () => {
  const metrics = new IpamdMetrics({ limits: LIMITS, settings: SETTINGS });
  const body = await metrics.render();
  for (
    const name of [
      "process_resident_memory_bytes",
      "nodejs_heap_size_total_bytes",
      "nodejs_heap_size_used_bytes",
      "nodejs_external_memory_bytes",
    ]
  ) {
    ok(body.includes(`# TYPE ${name} gauge\n`), name);
    ok(sample(body, name)! > 0, `${name} is read`);
  }
  ok(sample(body, "nodejs_heap_size_used_bytes")! <= sample(body, "nodejs_heap_size_total_bytes")!);
});
