import assert from "node:assert/strict";
import { CniError } from "../shared/errors.ts";
import { RpcCallError, Status } from "../shared/rpc/status.ts";
import { cniErrorFromIpamd, isUnreachable } from "./ipamd_api.ts";

Deno.test("cniErrorFromIpamd() maps statuses a retry may fix to 11 and the rest to 999, keeping the reason", () => {
  const cases: [number, number][] = [
    [Status.UNAVAILABLE, 11],
    [Status.DEADLINE_EXCEEDED, 11],
    [Status.RESOURCE_EXHAUSTED, 11],
    [Status.ABORTED, 11],
    [Status.FAILED_PRECONDITION, 999],
    [Status.INTERNAL, 999],
    [Status.UNIMPLEMENTED, 999],
  ];
  for (const [status, code] of cases) {
    const error = cniErrorFromIpamd(new RpcCallError(status as Status, "why"), "do it");
    assert.equal(error.code, code, String(status));
    assert.equal(error.details, "why");
    assert.match(error.message, /^Cannot do it: ipamd answered [A-Z_]+$/);
  }
  const typed = new CniError(7, "x");
  assert.equal(cniErrorFromIpamd(typed, "x"), typed, "typed errors are not wrapped again");
  assert.equal(cniErrorFromIpamd(new Error("boom"), "x").code, 999);
});

Deno.test("isUnreachable() is true only for UNAVAILABLE and DEADLINE_EXCEEDED", () => {
  assert.ok(isUnreachable(new RpcCallError(Status.UNAVAILABLE, "")));
  assert.ok(isUnreachable(new RpcCallError(Status.DEADLINE_EXCEEDED, "")));
  assert.ok(!isUnreachable(new RpcCallError(Status.NOT_FOUND, "")));
  assert.ok(!isUnreachable(new Error("x")));
});

Deno.test("cniErrorFromIpamd() makes a socket outside the permission set a config error (7), not try-again", () => {
  const refused = new Deno.errors.NotCapable(
    'Requires net access to "unix:/tmp/x.sock", run again with the --allow-net flag',
  );
  const error = cniErrorFromIpamd(refused, "get an address from ipamd");
  assert.equal(error.code, 7);
  assert.equal(error.details, 'Requires net access to "unix:/tmp/x.sock"');
});
