/**
 * ipamd's settings: one table of environment variables, parsed into a frozen,
 * fully resolved config; every bad value is reported at once.
 *
 * @module
 */
export {
  ADD_WAIT_MAX_S,
  ConfigError,
  DEFAULT_SOCKET_PATH,
  describeConfig,
  type EnvRow,
  IPAMD_ENV_TABLE,
  type IpamdConfig,
  parseIpamdConfig,
  POOL_ENV,
  resolvePoolSettings,
} from "./config.ts";
