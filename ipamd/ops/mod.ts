/**
 * ipamd's operations side: Prometheus metrics in the reference's names, the
 * loopback introspection endpoint, the pool report `aws-cni status` reads, and
 * readiness (conflist, systemd).
 *
 * @module
 */
export { DaemonOps, type DaemonOpsOptions, type OpsEndpoints } from "./daemon_ops.ts";
export { meterBackend } from "./metered_backend.ts";
export { EC2_APIS, MeteredEc2Port } from "./metered_ec2.ts";
export { type BudgetWaits, type Ec2CallRecord, IpamdMetrics, type MetricsSource } from "./metrics.ts";
export { type CloudFailure, CloudFailures } from "./cloud_failures.ts";
export { INTROSPECTION_PATHS, introspectionHandler } from "./introspection.ts";
export { type PoolReport, poolReport } from "./pool_report.ts";
export { announceReady, CNI_BIN_DIR, type ReadyOptions, type ReadyResult } from "./ready.ts";
export { type NotifyOptions, notifyReady, type NotifyResult } from "./sd_notify.ts";
export { CONFLIST_NAME, renderConflist, writeConflist } from "./conflist.ts";
export { pathExists, writeFileAtomic } from "./conflist.ts";
export { IamPermissions, permissionsLogLine } from "./iam_permissions.ts";
