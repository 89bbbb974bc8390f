/**
 * The EC2 actions ipamd calls: twelve, named as EC2 names them. The request
 * budget, the metrics and the IAM policy speak of these names.
 *
 * @module
 */

/** Every action ipamd calls, in EC2's order of names. */
export const EC2_ACTIONS = Object.freeze(
  [
    "AssignPrivateIpAddresses",
    "AttachNetworkInterface",
    "CreateNetworkInterface",
    "CreateTags",
    "DeleteNetworkInterface",
    "DescribeInstanceTypes",
    "DescribeInstances",
    "DescribeNetworkInterfaces",
    "DescribeSubnets",
    "DetachNetworkInterface",
    "ModifyNetworkInterfaceAttribute",
    "UnassignPrivateIpAddresses",
  ] as const,
);

/** An EC2 action ipamd calls. */
export type Ec2Action = typeof EC2_ACTIONS[number];

/**
 * The actions whose EC2 request takes `DryRun`, which tells whether the caller
 * may make the call without making it (EC2 API reference). AssignPrivateIpAddresses
 * and UnassignPrivateIpAddresses take none.
 */
export const DRY_RUN_ACTIONS: ReadonlySet<Ec2Action> = new Set<Ec2Action>(
  EC2_ACTIONS.filter((action) =>
    action !== "AssignPrivateIpAddresses" && action !== "UnassignPrivateIpAddresses"
  ),
);
