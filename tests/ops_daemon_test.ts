/**
 * ipamd's operations side against a real daemon in this process (datastore,
 * reconciler, grpc-js server, EC2 simulation): the Prometheus metrics after ADD
 * and DEL over the socket, the introspection documents in the reference's
 * shapes, and `aws-cni status` (text and JSON) read from them.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { systemClock } from "../shared/clock.ts";
import { recordedIo } from "../testing/recorded_io.ts";
import { createLogger } from "../shared/log.ts";
import { IpamdClient } from "../cni/rpc/client.ts";
import { addRequest, delRequest } from "../testing/ipamd_requests.ts";
import { statusCommand } from "../cli/status.ts";
import { simulatedAccount } from "../testing/sim_account.ts";
import { parseIpamdConfig } from "../ipamd/config/config.ts";
import { type Daemon, startDaemon } from "../ipamd/daemon.ts";
import type { PoolReport } from "../ipamd/ops/pool_report.ts";
import { FileCheckpointStore } from "../ipamd/pool/checkpoint.ts";

const DEADLINE = { deadlineMs: 15_000 };

/** A port nobody listens on right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

interface OpsDaemon extends AsyncDisposable {
  daemon: Daemon;
  client: IpamdClient;
  metricsUrl: string;
  introspection: string;
  logs: string[];
}

async function startOpsDaemon(env: Record<string, string> = {}): Promise<OpsDaemon> {
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-ops-" });
  const metrics = `127.0.0.1:${freePort()}`;
  const introspection = `127.0.0.1:${freePort()}`;
  const config = parseIpamdConfig({
    AWS_VPC_K8S_CNI_BACKING_STORE: `${dir}/ipam.json`,
    METRICS_BIND_ADDRESS: metrics,
    INTROSPECTION_BIND_ADDRESS: introspection,
    ...env,
  }, { socket: `${dir}/ipamd.sock` });
  const { limits, ec2 } = simulatedAccount();
  const logs: string[] = [];
  const daemon = await startDaemon(config, {
    ec2: ec2(),
    limits,
    checkpoint: new FileCheckpointStore(config.checkpointPath),
    clock: systemClock,
    log: createLogger((line) => void logs.push(line), { level: "info" }),
    shutdownGraceMs: 1_000,
  });
  const client = new IpamdClient(config.socketPath);
  return {
    daemon,
    client,
    metricsUrl: `http://${metrics}/metrics`,
    introspection,
    logs,
    async [Symbol.asyncDispose]() {
      await client.close();
      await daemon[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function getText(url: string): Promise<{ status: number; type: string; body: string }> {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    body: await response.text(),
  };
}

async function getJson<T = Record<string, unknown>>(url: string): Promise<T> {
  const { status, body } = await getText(url);
  equal(status, 200, body);
  return JSON.parse(body) as T;
}

/** The value of one sample line, e.g. `awscni_add_ip_req_count 2`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("ipamd serves the reference's awscni_* metrics, counted through ADD and DEL", async () => {
  await using t = await startOpsDaemon();
  for (const id of ["m1", "m2", "m3"]) {
    equal((await t.client.addNetwork(addRequest(id), DEADLINE)).success, true);
  }
  await t.client.delNetwork(delRequest("m1"), DEADLINE);
  await t.daemon.pool.reconciler.pass();
  const { status, type, body } = await getText(t.metricsUrl);
  equal(status, 200);
  match(type, /^text\/plain; version=0\.0\.4/);
  for (
    const [name, kind] of [
      ["awscni_eni_allocated", "gauge"],
      ["awscni_eni_max", "gauge"],
      ["awscni_ip_max", "gauge"],
      ["awscni_total_ip_addresses", "gauge"],
      ["awscni_assigned_ip_addresses", "gauge"],
      ["awscni_add_ip_req_count", "counter"],
      ["awscni_del_ip_req_count", "counter"],
      ["awscni_aws_api_latency_ms", "summary"],
      ["awscni_aws_api_error_count", "counter"],
      ["awscni_ec2api_req_count", "counter"],
      ["awscni_no_available_ip_addresses", "counter"],
      ["awscni_total_ipv4_prefixes", "gauge"],
      ["awscni_build_info", "gauge"],
      ["awscni_add_ip_wait_seconds", "histogram"],
      ["awscni_ec2_budget_wait_seconds_total", "counter"],
      ["awscni_pool_growth_blocked", "gauge"],
    ]
  ) {
    ok(body.includes(`# TYPE ${name} ${kind}\n`), `${name} is a ${kind}`);
  }
  equal(sample(body, "awscni_add_ip_req_count"), 3);
  equal(sample(body, 'awscni_del_ip_req_count{reason="PodDeleted"}'), 1);
  equal(sample(body, "awscni_eni_max"), 3);
  equal(sample(body, "awscni_ip_max"), 9);
  equal(sample(body, "awscni_assigned_ip_addresses"), 2);
  ok(sample(body, "awscni_total_ip_addresses")! >= 3);
  equal(sample(body, "awscni_add_ip_wait_seconds_count"), 3);
  ok(sample(body, 'awscni_ec2api_req_count{fn="DescribeNetworkInterfaces"}')! >= 1);
  ok(sample(body, 'awscni_ec2api_req_count{fn="AssignPrivateIpAddresses"}')! >= 1);
  match(
    body,
    /awscni_aws_api_latency_ms_count\{api="AssignPrivateIpAddresses",error="false",status="200"\} \d/,
  );
  match(body, /awscni_build_info\{version="[^"]+",runtime="deno [^"]+"\} 1/);
  equal(sample(body, 'awscni_pool_growth_blocked{reason="max-enis"}'), 0);
  equal((await getText(t.metricsUrl.replace("/metrics", "/other"))).status, 404);
});

Deno.test("ipamd's metrics mark why the pool cannot grow and count ADDs that found no address", async () => {
  await using t = await startOpsDaemon({ MAX_ENI: "1", ADD_WAIT_TIMEOUT: "1" });
  for (const id of ["f1", "f2", "f3"]) await t.client.addNetwork(addRequest(id), DEADLINE);
  await t.client.addNetwork(addRequest("f4"), DEADLINE).catch(() => {});
  await t.daemon.pool.reconciler.pass();
  const { body } = await getText(t.metricsUrl);
  equal(sample(body, 'awscni_pool_growth_blocked{reason="max-enis"}'), 1);
  equal(sample(body, 'awscni_pool_growth_blocked{reason="throttled"}'), 0);
  equal(sample(body, 'awscni_add_ip_timeout_count{reason="max-enis"}'), 1);
  ok(sample(body, "awscni_no_available_ip_addresses")! >= 1);
  equal(sample(body, "awscni_eni_max"), 1);
});

Deno.test("ipamd's introspection answers in the reference's shapes", async () => {
  await using t = await startOpsDaemon({ AWS_VPC_K8S_CNI_RANDOMIZESNAT: "hashrandom", WARM_IP_TARGET: "2" });
  const base = `http://${t.introspection}`;
  const ip = (await t.client.addNetwork(addRequest("i1"), DEADLINE)).ipAllocations[0]!.ipv4Addr;
  await t.client.addNetwork(addRequest("i2"), DEADLINE);
  await t.client.delNetwork(delRequest("i2"), DEADLINE);
  const root = await getJson(`${base}/`);
  deepStrictEqual(root, {
    AvailableCommands: ["/v1/enis", "/v1/ipamd-env-settings", "/v1/networkutils-env-settings", "/v1/pool"],
  });
  const enis = await getJson<Record<string, Record<string, unknown>>>(`${base}/v1/enis`);
  deepStrictEqual(Object.keys(enis), ["0"]);
  const card = enis["0"]!;
  equal(card["AssignedIPs"], 1);
  const [eni] = Object.values(card["ENIs"] as Record<string, Record<string, unknown>>);
  ok(eni !== undefined);
  equal(eni["IsPrimary"], true);
  equal(eni["DeviceNumber"], 0);
  equal(eni["RouteTableID"], 254);
  equal(eni["SubnetID"], "subnet-1");
  const cidrs = eni["AvailableIPv4Cidrs"] as Record<string, Record<string, unknown>>;
  const home = cidrs[`${ip}/32`]!;
  deepStrictEqual(home["Cidr"], { IP: ip, Mask: "/////w==" });
  equal(home["IsPrefix"], false);
  equal(home["AddressFamily"], "4");
  const address = (home["IPAddresses"] as Record<string, Record<string, unknown>>)[ip]!;
  deepStrictEqual(address["IPAMKey"], { networkName: "aws-cni", containerID: "", ifName: "" });
  deepStrictEqual(address["IPAMMetadata"], { k8sPodNamespace: "default", k8sPodName: "pod-i1" });
  equal(address["UnassignedTime"], "0001-01-01T00:00:00Z");
  match(String(address["AssignedTime"]), /^\d{4}-\d\d-\d\dT/);
  const cooling = Object.values(cidrs).flatMap((c) => Object.values(c["IPAddresses"] as object))
    .filter((a) => a["UnassignedTime"] !== "0001-01-01T00:00:00Z");
  equal(cooling.length, 1, "the released address shows its unassigned time");
  const ipamd = await getJson(`${base}/v1/ipamd-env-settings`);
  equal(ipamd["WARM_IP_TARGET"], 2);
  equal(ipamd["WARM_ENI_TARGET"], 1);
  equal(ipamd["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"], false);
  const net = await getJson(`${base}/v1/networkutils-env-settings`);
  equal(net["AWS_VPC_K8S_CNI_CONNMARK"], 0x80);
  equal(net["AWS_VPC_K8S_CNI_RANDOMIZESNAT"], 1);
  equal(net["AWS_VPC_ENI_MTU"], 9001);
  equal(net["AWS_VPC_K8S_CNI_VETHPREFIX"], "eni");
  deepStrictEqual(net["AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS"], []);
  const pool = await getJson<PoolReport>(`${base}/v1/pool`);
  equal(pool.pool.assigned, 1);
  equal(pool.pool.cooling, 1);
  equal(pool.enis[0]?.subnetId, "subnet-1");
  deepStrictEqual(pool.targets.find((row) => row.setting === "WARM_IP_TARGET")?.target, 2);
  equal(pool.growthBlock, null);
  deepStrictEqual(pool.cloudErrors, { recent: [], total: 0 });
  const missing = await getText(`${base}/v1/nothing`);
  equal(missing.status, 404);
  const post = await fetch(`${base}/v1/pool`, { method: "POST" });
  await post.body?.cancel();
  equal(post.status, 405);
});

Deno.test("aws-cni status shows the ENIs, targets, next action and EC2 errors of a running ipamd", async () => {
  await using t = await startOpsDaemon({ MAX_ENI: "1", ADD_WAIT_TIMEOUT: "1" });
  for (const id of ["s1", "s2"]) await t.client.addNetwork(addRequest(id), DEADLINE);
  await t.daemon.pool.reconciler.pass();
  const text = recordedIo({ args: ["--introspection", t.introspection] });
  equal(await statusCommand(text), 0, text.err.join(""));
  const out = text.out.join("");
  const eniId = t.daemon.pool.datastore.enis()[0]!.eniId;
  match(out, /^ipamd \S+ \(127\.0\.0\.1:\d+\): 1 ENI of 1, 3 addresses \(2 assigned, 0 cooling, 1 free\)/);
  match(
    out,
    new RegExp(
      `^0\\*\\s+${eniId}\\s+subnet-1 10\\.0\\.0\\.0/20\\s+10\\.0\\.0\\.\\d+-\\d+\\s+2\\s+0\\s+1$`,
      "m",
    ),
  );
  match(out, /^WARM_ENI_TARGET\s+1\s+0\s+ENIs with no address in use$/m);
  match(out, /^MAX_ENI\s+1\s+1\s+ENIs attached$/m);
  match(out, /^Next reconcile: /m);
  match(out, /^Growth: blocked, max ENIs reached \(max-enis\)$/m);
  match(out, /^EC2 errors: none$/m);
  const json = recordedIo({ args: ["--json"], env: { INTROSPECTION_BIND_ADDRESS: t.introspection } });
  equal(await statusCommand(json), 0, json.err.join(""));
  const report = JSON.parse(json.out.join("")) as PoolReport;
  equal(report.pool.assigned, 2);
  equal(report.enis[0]?.eniId, eniId);
  equal(report.growthBlock?.reason, "max-enis");
});

Deno.test("aws-cni status explains when ipamd's introspection cannot be reached", async () => {
  const io = recordedIo({ args: ["--introspection", `127.0.0.1:${freePort()}`] });
  equal(await statusCommand(io), 1);
  match(io.err.join(""), /cannot read ipamd's pool from http:\/\/127\.0\.0\.1:\d+\/v1\/pool/);
  match(io.err.join(""), /DISABLE_INTROSPECTION/);
  const bad = recordedIo({ args: ["--introspection", "nowhere"] });
  equal(await statusCommand(bad), 2);
});

Deno.test("ipamd keeps serving pods when its ops endpoints are disabled or their port is taken", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await using t = await startOpsDaemon({
      DISABLE_METRICS: "true",
      INTROSPECTION_BIND_ADDRESS: `127.0.0.1:${taken.addr.port}`,
    });
    deepStrictEqual(t.daemon.ops.endpoints, { metrics: null, introspection: null });
    ok(t.logs.some((line) => line.includes("cannot serve introspection")), t.logs.join(""));
    equal((await t.client.addNetwork(addRequest("d1"), DEADLINE)).success, true);
  } finally {
    taken.close();
  }
});

Deno.test("ipamd's log is JSON lines with ts, level and msg, and never a whole config", async () => {
  await using t = await startOpsDaemon();
  await t.client.addNetwork(addRequest("l1"), DEADLINE);
  ok(t.logs.length > 0);
  for (const line of t.logs) {
    ok(line.endsWith("\n"));
    const entry = JSON.parse(line);
    match(entry.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    ok(["debug", "info", "warn", "error"].includes(entry.level));
    equal(typeof entry.msg, "string");
    for (const value of Object.values(entry)) ok(typeof value !== "object" || value === null, line);
  }
  ok(t.logs.some((line) => JSON.parse(line).msg === "ipamd serving"));
  ok(!t.logs.some((line) => JSON.parse(line).level === "debug"), "info level drops debug lines");
});
