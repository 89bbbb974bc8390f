/**
 * The product's cloud adapters: the pool's EC2 port in domain terms and its AWS SDK
 * adapter, the node lifecycle's ENI directory, the IMDSv2 client, EC2's documented
 * throttling buckets and the client-side request budget. No simulation code here.
 *
 * @module
 */
export { cloudErrorFromCode } from "./ec2_codes.ts";
export {
  type AddressRequest,
  type AttachedEni,
  checkAddressRequest,
  type Ec2Port,
  splitReleaseCidrs,
} from "./ec2_port.ts";
export type { CreateEniInput, Ec2RequestPort } from "./ec2_request_port.ts";
export { type NodeFacts, SdkEc2Port, type SdkEc2PortOptions } from "./ec2_sdk.ts";
export { createEc2Client, Ec2Sender, type StaticCredentials } from "./ec2_sdk_client.ts";
export { SdkEniDirectory } from "./ec2_sdk_directory.ts";
export { type DryRunFacts, SdkDryRunner } from "./ec2_sdk_dry_run.ts";
export {
  checkPermissions,
  type DryRunner,
  dryRunStatus,
  type PermissionState,
  type PermissionStatus,
  unauthorizedAction,
} from "./iam_check.ts";
export { Ec2Requests } from "./ec2_sdk_requests.ts";
export { attachedEni } from "./ec2_sdk_views.ts";
export { CloudError, type CloudErrorKind } from "./errors.ts";
export { HttpImdsClient } from "./imds.ts";
export { HttpImdsApi, type ImdsEni, type ImdsInstance, type ImdsPort, waitForImdsEni } from "./imds_api.ts";
export {
  type AccountPressure,
  backoffMs,
  type BackoffPolicy,
  type BudgetWaits,
  type CallShape,
  parseRequestBudget,
  RateBudget,
  REQUEST_BUDGET_ACCEPTS,
} from "./rate_budget.ts";
export { type BucketSpec, TokenBucket } from "./token_bucket.ts";
export * from "./eni_directory.ts";
export { DRY_RUN_ACTIONS, EC2_ACTIONS, type Ec2Action } from "./ec2_actions.ts";
export {
  EC2_THROTTLE_DEFAULTS,
  type ThrottleCall,
  type ThrottleCategory,
  throttleCategory,
} from "./ec2_throttle_buckets.ts";
