/**
 * The simulation's failure, in EC2's own terms: the error code, message and HTTP
 * status a real EC2 endpoint would answer with. Adapters translate it with
 * `cloudErrorFromCode` (ec2_codes.ts); the HTTP emulator serializes it as-is.
 *
 * @module
 */

/** An EC2 API error as the simulation raises it. */
export class Ec2SimError extends Error {
  override readonly name = "Ec2SimError";
  /** EC2's error code, e.g. "InvalidNetworkInterfaceID.NotFound". */
  readonly code: string;
  /** The HTTP status EC2 sends with this code. */
  readonly httpStatus: number;
  /** The request id of the failed call ("" until the simulation's gate assigns one). */
  readonly requestId: string;

  constructor(
    code: string,
    message: string,
    options: { httpStatus?: number; requestId?: string } = {},
  ) {
    super(message);
    this.code = code;
    this.httpStatus = options.httpStatus ?? httpStatusForCode(code);
    this.requestId = options.requestId ?? "";
  }
}

/** The HTTP status EC2 answers a code with: 503 throttling, 5xx server errors, 401/403 auth, else 400. */
export function httpStatusForCode(code: string): number {
  switch (code) {
    case "RequestLimitExceeded":
    case "Unavailable":
    case "ServiceUnavailable":
      return 503;
    case "InternalError":
    case "InternalFailure":
      return 500;
    case "AuthFailure":
      return 401;
    case "UnauthorizedOperation":
      return 403;
    default:
      return 400;
  }
}

/** The usual "The <what> ID '<id>' does not exist" failure. */
export function notFoundError(code: string, what: string, id: string): Ec2SimError {
  return new Ec2SimError(code, `The ${what} ID '${id}' does not exist`);
}

/** InvalidParameterValue with the given explanation. */
export function invalidValueError(message: string): Ec2SimError {
  return new Ec2SimError("InvalidParameterValue", message);
}

/** MissingParameter naming the parameter the request lacked. */
export function missingParameterError(parameter: string): Ec2SimError {
  return new Ec2SimError("MissingParameter", `The request must contain the parameter ${parameter}`);
}

/** InvalidParameterCombination with the given explanation. */
export function combinationError(message: string): Ec2SimError {
  return new Ec2SimError("InvalidParameterCombination", message);
}

/** Checks an optional count parameter: a whole number of at least `min`. */
export function checkCount(name: string, value: number | undefined, min = 1): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
    throw invalidValueError(`Value (${value}) for parameter ${name} is invalid. Expected at least ${min}`);
  }
}
