/**
 * The one place EC2 error codes become `CloudErrorKind`s. The simulation port and
 * the AWS SDK adapter both translate through `cloudErrorFromCode`.
 *
 * @module
 */

import { CloudError, type CloudErrorKind } from "./errors.ts";

/** What else is known about a failed EC2 call. */
export interface CloudErrorOptions {
  /** The HTTP status of the response, when there was one. */
  readonly httpStatus?: number;
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

const KIND_BY_CODE: Readonly<Record<string, CloudErrorKind>> = {
  RequestLimitExceeded: "throttled",
  Throttling: "throttled",
  ThrottlingException: "throttled",
  InsufficientFreeAddressesInSubnet: "subnet-full",
  InsufficientCidrBlocks: "no-cidr-blocks",
  AttachmentLimitExceeded: "attachment-limit",
  PrivateIpAddressLimitExceeded: "ip-limit",
  "InvalidInterface.IpAddressLimitExceeded": "ip-limit",
  UnauthorizedOperation: "unauthorized",
  AuthFailure: "unauthorized",
  InternalError: "unavailable",
  InternalFailure: "unavailable",
  Unavailable: "unavailable",
  ServiceUnavailable: "unavailable",
};

/**
 * Translates an EC2 error code (e.g. "InvalidNetworkInterfaceID.NotFound") into a
 * `CloudError`. Unknown codes are "unavailable" on a 5xx and "invalid" otherwise.
 */
export function cloudErrorFromCode(
  code: string,
  message: string,
  options: CloudErrorOptions = {},
): CloudError {
  const extra = {
    ...(options.retryAfterMs === undefined ? {} : { retryAfterMs: options.retryAfterMs }),
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  };
  return new CloudError(kindOf(code, message, options.httpStatus), code, message, extra);
}

function kindOf(code: string, message: string, httpStatus: number | undefined): CloudErrorKind {
  const known = Object.hasOwn(KIND_BY_CODE, code) ? KIND_BY_CODE[code] : undefined;
  if (known !== undefined) return known;
  if (code.endsWith(".NotFound")) return "not-found";
  // EC2 sometimes reports a full subnet this way instead (vpc-cni#3105, cilium PR #31016).
  if (code === "InvalidParameterValue" && /sufficient free Ipv4 addresses or prefixes/i.test(message)) {
    return "subnet-full";
  }
  if (httpStatus !== undefined && httpStatus >= 500) return "unavailable";
  return "invalid";
}
