import assert from "node:assert/strict";
import { waitFor } from "../../testing/rpc_sockets.ts";
import { Status } from "../../shared/rpc/status.ts";
import { WireFormatError } from "../../shared/rpc/wire.ts";
import { INTERNAL_DETAILS, RpcError } from "./errors.ts";
import type { Decoded } from "./service_defs.ts";
import { unary, type UnaryHandler } from "./unary.ts";

/** Runs `handler` on a fake call and records every callback and reported error. */
async function runUnary(
  handler: UnaryHandler<string, string>,
  options: { request?: Decoded<string>; cancel?: boolean; throwingCallback?: boolean } = {},
) {
  const answers: unknown[][] = [];
  const reported: unknown[] = [];
  let onCancel = (): void => {};
  const call = {
    request: options.request ?? { ok: true, value: "req" },
    getPath: () => "/rpc.CNIBackend/AddNetwork",
    once(event: string, listener: () => void) {
      if (event === "cancelled") onCancel = listener;
      return this;
    },
  } as Parameters<ReturnType<typeof unary<string, string>>>[0];
  unary(handler, (error) => void reported.push(error))(call, (...args: unknown[]) => {
    answers.push(args);
    if (options.throwingCallback === true) throw new Error("callback broke");
  });
  if (options.cancel === true) onCancel();
  await waitFor(() => answers.length > 0);
  await new Promise((resolve) => setTimeout(resolve, 10)); // room for a second, wrong, answer
  return { answers, reported };
}

Deno.test("unary() answers a resolved handler once with its reply", async () => {
  const { answers, reported } = await runUnary((request) => Promise.resolve(`reply to ${request}`));
  assert.deepEqual(answers, [[null, "reply to req"]]);
  assert.deepEqual(reported, []);
});

Deno.test("unary() answers a rejected or synchronously throwing handler once with the mapped status", async () => {
  const rejected = await runUnary(() => Promise.reject(new RpcError(Status.NOT_FOUND, "No pod")));
  assert.deepEqual(rejected.answers, [[{ code: Status.NOT_FOUND, details: "No pod" }, null]]);
  const bug = new TypeError("x is undefined");
  const thrown = await runUnary(() => {
    throw bug;
  });
  assert.deepEqual(thrown.answers, [[{ code: Status.INTERNAL, details: INTERNAL_DETAILS }, null]]);
  assert.deepEqual(thrown.reported, [bug]);
});

Deno.test("unary() refuses an undecodable request with INVALID_ARGUMENT without calling the handler", async () => {
  let called = false;
  const { answers } = await runUnary(() => Promise.resolve(String(called = true)), {
    request: { ok: false, error: new WireFormatError('Cannot decode "rpc.X": Truncated varint at offset 0') },
  });
  assert.deepEqual(answers, [[{
    code: Status.INVALID_ARGUMENT,
    details: 'Cannot decode "rpc.X": Truncated varint at offset 0',
  }, null]]);
  assert.equal(called, false);
});

Deno.test("unary() aborts the handler's signal when the call is cancelled", async () => {
  const { answers } = await runUnary(
    (_, signal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    { cancel: true },
  );
  assert.deepEqual(answers, [[{ code: Status.CANCELLED, details: "Call cancelled by the client" }, null]]);
});

Deno.test("unary() reports a callback that throws instead of answering twice or rejecting unhandled", async () => {
  const { answers, reported } = await runUnary(() => Promise.resolve("ok"), { throwingCallback: true });
  assert.equal(answers.length, 1);
  assert.match(String(reported[0]), /callback broke/);
});
