/**
 * What both roles use: the process boundary (`Io`), errors, the JSON-lines logger,
 * clocks and timers, IPv4 arithmetic, the `ip` runner, the release queue and the binary's runtime settings.
 *
 * @module
 */
export { concatBytes } from "./bytes.ts";
export { type Clock, ManualClock, systemClock } from "./clock.ts";
export {
  AlreadyExistsError,
  CniError,
  CniErrorCode,
  NotFoundError,
  PoolExhaustedError,
  refusedAccess,
} from "./errors.ts";
export type { Io } from "./io.ts";
export {
  batchText,
  CommandIpRunner,
  EntryExistsError,
  EntryNotFoundError,
  type IpCommand,
  ipErrorFromStderr,
  type IpLineFailure,
  type IpRunner,
  type IpTarget,
  LinkNotFoundError,
  NetnsNotFoundError,
  NotNetnsError,
} from "./ip_cmd.ts";
export {
  cidrContains,
  cidrSize,
  compareIpv4,
  formatCidr,
  formatIpv4,
  type Ipv4Cidr,
  parseCidr,
  parseIpv4,
} from "./ipv4.ts";
export {
  createLogger,
  errorText,
  LOG_LEVELS,
  type LogFields,
  type Logger,
  type LogLevel,
  type LogValue,
  silentLogger,
} from "./log.ts";
export {
  drainReleaseQueue,
  FileReleaseQueue,
  type PendingRelease,
  readReleaseQueue,
  RELEASE_QUEUE_FILE,
  type ReleaseQueue,
  releaseQueuePath,
} from "./release_queue.ts";
export {
  type Nap,
  PeriodicJob,
  type PeriodicJobOptions,
  realTimers,
  settleAll,
  sleep,
  type Timers,
} from "./timers.ts";
export { CNI_VERSIONS, VERSION } from "./version.ts";
export { narrow, narrowPlugin, type NarrowRole, ROLE_SHARES, roleMayUse } from "./narrow.ts";
export { CHILD_PATH_DIRS, childCommand, childEnv, childPath, mayRun, runPermitted } from "./child_env.ts";
export { flagErrorText, joinDashValues, parseFlags } from "./args.ts";
export { MALLOC_ENV, V8_FLAGS } from "./runtime_tuning.ts";
