import assert from "node:assert/strict";
import { AlreadyExistsError, NotFoundError, PoolExhaustedError } from "../../shared/errors.ts";
import { Status } from "../../shared/rpc/status.ts";
import { WireFormatError } from "../../shared/rpc/wire.ts";
import { INTERNAL_DETAILS, RpcError, toRpcStatus } from "./errors.ts";

Deno.test("toRpcStatus() maps each kind of error through the table", async (t) => {
  const cases: [string, unknown, Status, string, boolean][] = [
    [
      "RpcError keeps its code",
      new RpcError(Status.NOT_FOUND, "Unknown pod"),
      Status.NOT_FOUND,
      "Unknown pod",
      true,
    ],
    [
      "WireFormatError",
      new WireFormatError("Truncated varint"),
      Status.INVALID_ARGUMENT,
      "Truncated varint",
      true,
    ],
    [
      "PoolExhaustedError",
      new PoolExhaustedError("No free address"),
      Status.RESOURCE_EXHAUSTED,
      "No free address",
      true,
    ],
    ["NotFoundError", new NotFoundError("Unknown pod"), Status.NOT_FOUND, "Unknown pod", true],
    ["AlreadyExistsError", new AlreadyExistsError("Taken"), Status.ALREADY_EXISTS, "Taken", true],
    ["plain Error", new Error("/etc/secret"), Status.INTERNAL, INTERNAL_DETAILS, false],
    ["TypeError (a bug)", new TypeError("x is undefined"), Status.INTERNAL, INTERNAL_DETAILS, false],
    ["non-Error", "boom", Status.INTERNAL, INTERNAL_DETAILS, false],
  ];
  for (const [name, error, code, details, known] of cases) {
    await t.step(name, () => assert.deepEqual(toRpcStatus(error), { code, details, known }));
  }
});

Deno.test("RpcError refuses status OK", () => {
  assert.throws(() => new RpcError(Status.OK, "fine"), RangeError);
});
