/**
 * The AWS SDK's EC2 client as ipamd uses it, and the only module of ipamd that
 * names the SDK: the client, its service exception and the commands the adapter
 * sends. They come from `dist/sdk/client-ec2.js`, which `make build` bundles
 * from the pinned `@aws-sdk/client-ec2` with just the values listed here
 * (tools/bundle_sdk.sh), instead of the package's CommonJS build with every
 * command. Types come from the package itself, so a type check needs no build.
 *
 * @module
 */
// @ts-types="@aws-sdk/client-ec2"
export {
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateTagsCommand,
  DeleteNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DetachNetworkInterfaceCommand,
  EC2Client,
  EC2ServiceException,
  ModifyNetworkInterfaceAttributeCommand,
  UnassignPrivateIpAddressesCommand,
} from "../../dist/sdk/client-ec2.js";
export type {
  _InstanceType,
  EC2ClientConfig,
  InstanceTypeInfo,
  NetworkInterface,
  Tag,
} from "@aws-sdk/client-ec2";
