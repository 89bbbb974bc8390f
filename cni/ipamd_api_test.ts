import assert from "node:assert/strict";
import { CniError } from "../shared/errors.ts";
import { RpcCallError, Status } from "../shared/rpc/status.ts";
import { cniErrorFromIpamd, IpamdDownError, isUnreachable, RpcIpamdApi } from "./ipamd_api.ts";
import { makeStaleSocket, tempDir } from "../testing/rpc_sockets.ts";
import { addNetworkRequestCodec } from "../shared/rpc/mod.ts";

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

Deno.test("an ADD with no ipamd socket says ipamd is not running and names the socket, not what ipamd answered", async () => {
  await using dir = await tempDir();
  const stale = `${dir.path}/stale.sock`;
  await makeStaleSocket(stale);
  const cases: [string, RegExp][] = [
    [`${dir.path}/missing.sock`, /: ipamd is not running: no socket at ".*\/missing\.sock"$/],
    [stale, /: ipamd is not running: nothing accepts connections on ".*\/stale\.sock"$/],
  ];
  for (const [socketPath, message] of cases) {
    const api = new RpcIpamdApi(socketPath);
    try {
      const error = await api.addNetwork(addNetworkRequestCodec.create(), 2_000).then(
        () => assert.fail("the call succeeded"),
        (error: unknown) => error,
      );
      assert.ok(error instanceof IpamdDownError, String(error));
      assert.ok(isUnreachable(error), "a DEL still queues its release");
      const cni = cniErrorFromIpamd(error, "get an address from ipamd");
      assert.equal(cni.code, 11);
      assert.match(cni.message, /^Cannot get an address from ipamd: ipamd is not running: /);
      assert.match(cni.message, message);
      assert.doesNotMatch(cni.message, /answered/);
      assert.match(cni.details, /systemctl start aws-ipamd/);
    } finally {
      await api.close();
    }
  }
});
