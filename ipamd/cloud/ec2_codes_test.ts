import assert from "node:assert/strict";
import { cloudErrorFromCode } from "./ec2_codes.ts";
import { CloudError } from "./errors.ts";

Deno.test("cloudErrorFromCode() maps EC2 codes to the pool's kinds", async (t) => {
  const cases: [string, number | undefined, string][] = [
    ["RequestLimitExceeded", 503, "throttled"],
    ["Throttling", 400, "throttled"],
    ["InsufficientFreeAddressesInSubnet", 400, "subnet-full"],
    ["InsufficientCidrBlocks", 400, "no-cidr-blocks"],
    ["AttachmentLimitExceeded", 400, "attachment-limit"],
    ["PrivateIpAddressLimitExceeded", 400, "ip-limit"],
    ["InvalidInterface.IpAddressLimitExceeded", 400, "ip-limit"],
    ["InvalidNetworkInterfaceID.NotFound", 400, "not-found"],
    ["InvalidAttachmentID.NotFound", 400, "not-found"],
    ["InvalidInstanceID.NotFound", 400, "not-found"],
    ["UnauthorizedOperation", 403, "unauthorized"],
    ["AuthFailure", 401, "unauthorized"],
    ["InternalError", 500, "unavailable"],
    ["Unavailable", 503, "unavailable"],
    ["SomethingNew", 502, "unavailable"],
    ["InvalidParameterValue", 400, "invalid"],
    ["InvalidNetworkInterface.InUse", 400, "invalid"],
    ["OperationNotPermitted", undefined, "invalid"],
  ];
  for (const [code, httpStatus, kind] of cases) {
    await t.step(`${code} -> ${kind}`, () => {
      const options = httpStatus === undefined ? {} : { httpStatus };
      const error = cloudErrorFromCode(code, "message", options);
      assert.ok(error instanceof CloudError);
      assert.equal(error.kind, kind);
      assert.equal(error.code, code);
      assert.equal(error.message, "message");
    });
  }
});

Deno.test("cloudErrorFromCode() reads a full subnet reported as InvalidParameterValue", () => {
  const error = cloudErrorFromCode(
    "InvalidParameterValue",
    "There aren't sufficient free Ipv4 addresses or prefixes",
  );
  assert.equal(error.kind, "subnet-full");
});

Deno.test("cloudErrorFromCode() keeps the cause and a retry hint", () => {
  const cause = new Error("wire");
  const error = cloudErrorFromCode("RequestLimitExceeded", "slow down", { cause, retryAfterMs: 200 });
  assert.equal(error.cause, cause);
  assert.equal(error.retryAfterMs, 200);
  assert.equal(cloudErrorFromCode("X", "y").retryAfterMs, null);
});
