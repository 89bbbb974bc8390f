/**
 * The simulated cloud: a process of its own (main.ts) standing in for the EC2
 * instance of one node. It serves EC2's Query API and IMDSv2 on loopback in the
 * node's network namespace, hot-plugs each attached ENI as a link with its MAC
 * there, and takes fault knobs and state reads on a control socket, so the
 * daemon under test runs exactly the code it runs on a node.
 *
 * @module
 */
export { NODE_SECURITY_GROUP, NODE_SUBNET_ID, subnetIdOf } from "./account.ts";
export { type Cloud, type CloudDeps, cloudState, startCloud } from "./cloud.ts";
export { CloudControl } from "./control_client.ts";
export { handleControl, serveControl } from "./control_server.ts";
export { CLOUD_USAGE, type CloudOptions, parseApiLatency, parseCloudArgs } from "./flags.ts";
export { attachedAt, type AttachedNow, HotPlug, routerOf } from "./hotplug.ts";
export type {
  CloudEni,
  CloudReady,
  CloudState,
  EniRequest,
  FaultRequest,
  FaultSpec,
  HangRequest,
  ImdsRequestRecord,
  ThrottleRequest,
} from "./protocol.ts";
export {
  ENI_MTU,
  type EniLink,
  eniLinkName,
  type EniLinks,
  type PluggedLink,
  VethLinks,
} from "./veth_links.ts";
