/**
 * ipamd's host-side network setup: the `HostNetworkPort` the daemon calls on
 * start-up and on each reconcile, and its real adapter `HostNetwork`.
 * `FakeHostNetwork` (testing/) is for tests and is not re-exported here.
 *
 * @module
 */
export { HostNetwork, type HostNetworkOptions } from "./host_net.ts";
export { CommandIptables, IptablesError, type IptablesPort } from "./iptables_cmd.ts";
export { FileProcSys, type ProcSysPort, SysctlProcSys } from "./proc_sys.ts";
export {
  ENI_RULE_PRIORITY,
  eniRouteTable,
  type EniSetup,
  type EniSyncFailure,
  type EniTeardown,
  EXTERNAL_SERVICE_RULE_PRIORITY,
  FWMARK_RULE_PRIORITY,
  type HostNetworkPort,
  type HostSetup,
  type SnatRandomization,
} from "./types.ts";
