/**
 * The introspection endpoint's routes: the reference's `/`, `/v1/enis`,
 * `/v1/ipamd-env-settings` and `/v1/networkutils-env-settings`, and our
 * `/v1/pool`. GET only; anything else is 405, an unknown path is 404.
 *
 * @module
 */
import type { IpamdConfig } from "../config/mod.ts";
import { jsonResponse } from "./http_server.ts";
import { poolReport, type PoolReportSource } from "./pool_report.ts";
import { eniInfos, ipamdEnvSettings, networkutilsEnvSettings } from "./reference_views.ts";

/** The paths served, as `/` lists them. */
export const INTROSPECTION_PATHS = [
  "/v1/enis",
  "/v1/ipamd-env-settings",
  "/v1/networkutils-env-settings",
  "/v1/pool",
] as const;

/** Builds the handler over the running pool. */
export function introspectionHandler(
  source: PoolReportSource,
  options: { config: IpamdConfig; nowMs: () => number },
): (request: Request) => Response {
  const { config, nowMs } = options;
  const routes: Record<string, () => unknown> = {
    "/": () => ({ AvailableCommands: [...INTROSPECTION_PATHS] }),
    "/v1/enis": () => eniInfos(source.datastore, { nowMs: nowMs(), subnetOf: source.subnetOf }),
    "/v1/ipamd-env-settings": () => ipamdEnvSettings(config),
    "/v1/networkutils-env-settings": () => networkutilsEnvSettings(config),
    "/v1/pool": () => poolReport(source, nowMs()),
  };
  return (request) => {
    const path = new URL(request.url).pathname;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (route === undefined) return jsonResponse({ error: `No such path "${path}"` }, 404);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return jsonResponse({ error: `Method ${request.method} is not allowed` }, 405);
    }
    return jsonResponse(route());
  };
}
