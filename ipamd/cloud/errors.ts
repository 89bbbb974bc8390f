/**
 * Cloud failures in our own terms. EC2 error codes are translated into these in
 * one place per adapter; the pool branches on `kind`, never on EC2 strings.
 *
 * @module
 */

/** What went wrong with a cloud call, as the pool cares about it. */
export type CloudErrorKind =
  /** RequestLimitExceeded: back off and try later. */
  | "throttled"
  /** InsufficientFreeAddressesInSubnet: the subnet has no free address. */
  | "subnet-full"
  /** InsufficientCidrBlocks: no free /28 left in the subnet (fragmented). */
  | "no-cidr-blocks"
  /** AttachmentLimitExceeded: the instance has no free ENI slot. */
  | "attachment-limit"
  /** PrivateIpAddressLimitExceeded: the ENI holds as many addresses as it can. */
  | "ip-limit"
  /** InvalidNetworkInterfaceID.NotFound and friends. */
  | "not-found"
  /** UnauthorizedOperation: the node's role lacks a permission. */
  | "unauthorized"
  /** The request was malformed or not allowed in the current state. */
  | "invalid"
  /** A 5xx, a timeout or a broken connection. */
  | "unavailable";

/** A failed cloud call, with the provider's code kept for logs and metrics. */
export class CloudError extends Error {
  override readonly name = "CloudError";
  readonly kind: CloudErrorKind;
  /** The provider's error code, e.g. "RequestLimitExceeded". */
  readonly code: string;
  /** The earliest sensible retry, when the failure says so. */
  readonly retryAfterMs: number | null;

  constructor(
    kind: CloudErrorKind,
    code: string,
    message: string,
    options: { retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.code = code;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}
