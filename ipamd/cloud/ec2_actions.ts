/**
 * The EC2 actions ipamd calls: twelve, named as EC2 names them. The request
 * budget, the metrics and the IAM policy speak of these names.
 *
 * @module
 */

/** An EC2 action ipamd calls. */
export type Ec2Action =
  | "AssignPrivateIpAddresses"
  | "AttachNetworkInterface"
  | "CreateNetworkInterface"
  | "CreateTags"
  | "DeleteNetworkInterface"
  | "DescribeInstanceTypes"
  | "DescribeInstances"
  | "DescribeNetworkInterfaces"
  | "DescribeSubnets"
  | "DetachNetworkInterface"
  | "ModifyNetworkInterfaceAttribute"
  | "UnassignPrivateIpAddresses";
