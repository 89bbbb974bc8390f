/**
 * Every EC2 failure the pool branches on, as it reaches the SDK adapter over the
 * wire: real limits of the simulated account where it has them, forced codes
 * otherwise, and transport failures (hung calls, 5xx). Each must arrive as a
 * `CloudError` of the right kind, translated in one place.
 */
import assert from "node:assert/strict";
import { sdkFixture } from "../testing/ec2_sdk_fixture.ts";
import { CloudError, type CloudErrorKind } from "../ipamd/cloud/errors.ts";

async function cloudError(call: Promise<unknown>, kind: CloudErrorKind, code: string): Promise<CloudError> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof CloudError, `expected CloudError ${kind}, got ${String(error)}`);
  assert.equal(error.kind, kind, error.message);
  assert.equal(error.code, code);
  assert.ok(error.cause !== undefined, "keeps the SDK's error as the cause");
  return error;
}

const noRetries = { budget: { maxRetries: 0 } } as const;

const create = (subnetId: string, counts: { ips?: number; prefixes?: number }) => ({
  subnetId,
  description: "aws-K8S-test",
  securityGroupIds: [],
  tags: {},
  secondaryIps: counts.ips ?? 0,
  prefixes: counts.prefixes ?? 0,
  clientToken: crypto.randomUUID(),
});

Deno.test("a full subnet is 'subnet-full', a fragmented one 'no-cidr-blocks'", async () => {
  await using fx = await sdkFixture(noRetries);
  await cloudError(
    fx.requests.createEni(create("subnet-b", { ips: 11 })),
    "subnet-full",
    "InsufficientFreeAddressesInSubnet",
  );
  await cloudError(
    fx.requests.createEni(create("subnet-b", { prefixes: 1 })),
    "no-cidr-blocks",
    "InsufficientCidrBlocks",
  );
  fx.sim.knobs.failNext("AssignPrivateIpAddresses", {
    code: "InvalidParameterValue",
    message: "There aren't sufficient free Ipv4 addresses or prefixes",
  });
  await cloudError(
    fx.port.assignAddresses(fx.primaryEniId, { count: 1, prefixes: false }),
    "subnet-full",
    "InvalidParameterValue",
  );
});

Deno.test("the instance's ENI slots are 'attachment-limit', an ENI's address slots 'ip-limit'", async () => {
  await using fx = await sdkFixture(noRetries);
  await fx.port.createEni({ count: 1, prefixes: false });
  await fx.port.createEni({ count: 1, prefixes: false });
  const full = await cloudError(
    fx.port.createEni({ count: 1, prefixes: false }),
    "attachment-limit",
    "AttachmentLimitExceeded",
  );
  assert.equal(full.message, "Interface count 4 exceeds the limit for m5.large");
  assert.equal(fx.sim.exportState().networkInterfaces.length, 3, "the unattachable ENI was deleted again");
  await cloudError(
    fx.port.assignAddresses(fx.primaryEniId, { count: 10, prefixes: false }),
    "ip-limit",
    "PrivateIpAddressLimitExceeded",
  );
});

Deno.test("an unknown ENI is 'not-found', a missing permission 'unauthorized', a bad request 'invalid'", async () => {
  await using fx = await sdkFixture(noRetries);
  await cloudError(
    fx.port.assignAddresses("eni-0000000000000404", { count: 1, prefixes: false }),
    "not-found",
    "InvalidNetworkInterfaceID.NotFound",
  );
  await cloudError(
    fx.port.releaseAddresses(fx.primaryEniId, ["10.0.1.200/32"]),
    "invalid",
    "InvalidParameterValue",
  );
  fx.sim.knobs.failNext("CreateNetworkInterface", { code: "UnauthorizedOperation" });
  await cloudError(fx.port.createEni({ count: 1, prefixes: false }), "unauthorized", "UnauthorizedOperation");
  fx.sim.knobs.failNext("DeleteNetworkInterface", { code: "AuthFailure" });
  const eniId = fx.sim.createNetworkInterface({ subnetId: "subnet-a" }).networkInterface.networkInterfaceId;
  await cloudError(fx.requests.deleteEni(eniId), "unauthorized", "AuthFailure");
});

Deno.test("throttling is 'throttled' once the retries are spent (HTTP 503 RequestLimitExceeded)", async () => {
  await using fx = await sdkFixture(noRetries);
  fx.sim.knobs.failNext("AssignPrivateIpAddresses", { code: "RequestLimitExceeded" });
  const error = await cloudError(
    fx.port.assignAddresses(fx.primaryEniId, { count: 1, prefixes: false }),
    "throttled",
    "RequestLimitExceeded",
  );
  assert.equal((error.cause as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode, 503);
  assert.equal(fx.budget.throttled("AssignPrivateIpAddresses"), 1);
});

Deno.test("a 5xx is 'unavailable'; idempotent requests are retried through it, assignments are not", async () => {
  await using fx = await sdkFixture();
  fx.sim.knobs.failNext("DescribeSubnets", { code: "InternalError" }, 2);
  assert.equal((await fx.directory.describeSubnet("subnet-a"))?.cidr, "10.0.1.0/24");
  fx.sim.knobs.failNext("AssignPrivateIpAddresses", { code: "InternalError" });
  await cloudError(
    fx.port.assignAddresses(fx.primaryEniId, { count: 1, prefixes: false }),
    "unavailable",
    "InternalError",
  );
  fx.sim.knobs.failNext("DescribeSubnets", { code: "Unavailable" }, 10);
  await cloudError(fx.directory.describeSubnet("subnet-a"), "unavailable", "Unavailable");
});

Deno.test("a hung request times out as 'unavailable'; a create is resent with its ClientToken and makes one ENI", async () => {
  await using fx = await sdkFixture({ timeoutMs: 300 });
  fx.emulator.ec2Transport.hangNext("AssignPrivateIpAddresses");
  await cloudError(
    fx.port.assignAddresses(fx.primaryEniId, { count: 1, prefixes: false }),
    "unavailable",
    "TimeoutError",
  );
  fx.emulator.ec2Transport.hangNext("CreateNetworkInterface", { applied: true });
  const eni = await fx.port.createEni({ count: 1, prefixes: false });
  const enis = fx.sim.exportState().networkInterfaces;
  assert.deepEqual(enis.map((e) => e.networkInterfaceId), [fx.primaryEniId, eni.eniId], "no second ENI");
});

Deno.test("an unreachable EC2 is 'unavailable'", async () => {
  const fx = await sdkFixture({ budget: { maxRetries: 1 } });
  await fx[Symbol.asyncDispose]();
  const error = await fx.directory.describeSubnet("subnet-a").catch((e: unknown) => e);
  assert.ok(error instanceof CloudError && error.kind === "unavailable", String(error));
});
