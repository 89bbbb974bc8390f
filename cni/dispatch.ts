/**
 * The plugin's entry dispatcher (skel style): checks the environment from one
 * table (all problems in one code-4 error), reads stdin once, checks the
 * `cniVersion`, resolves the netconf, routes the verb, and writes exactly one
 * JSON document to stdout: the result, the VERSION answer, or the error.
 *
 * @module
 */
import { CNI_VERSIONS, CniError, CniErrorCode, errorText, type Io, type Logger } from "../shared/mod.ts";
import { cmdAdd } from "./cmd_add.ts";
import { cmdCheck } from "./cmd_check.ts";
import { cmdDel } from "./cmd_del.ts";
import { cmdGc } from "./cmd_gc.ts";
import { cmdStatus } from "./cmd_status.ts";
import type { PluginDeps, VerbContext } from "./deps.ts";
import { envProblems, parseVerb, readCniEnv, type Verb, VERBS } from "./env.ts";
import type { IpamdApi } from "./ipamd_api.ts";
import { type CniVersion, configVersion, decodeConfig, LATEST_VERSION, resolveNetConf } from "./netconf.ts";
import { renderResult } from "./result.ts";

/** Verbs that only exist from spec 1.1.0 on. */
const V110_VERBS: readonly Verb[] = ["GC", "STATUS"];

/** The spec's error document. */
export function errorDocument(version: CniVersion, error: CniError): Record<string, unknown> {
  return {
    cniVersion: version,
    code: error.code,
    msg: error.message,
    ...(error.details === "" ? {} : { details: error.details }),
  };
}

/** A supported version named by a config, if any; used to answer in the caller's version. */
function sniffVersion(config: Readonly<Record<string, unknown>> | undefined): CniVersion | undefined {
  return CNI_VERSIONS.find((v) => v === config?.["cniVersion"]);
}

/** Runs one invocation; returns the exit status (0 success, 1 error). */
export async function dispatch(io: Io, deps: PluginDeps): Promise<number> {
  const emit = (document: unknown): void => io.stdout(JSON.stringify(document) + "\n");
  let version: CniVersion = LATEST_VERSION;
  let ipamd: IpamdApi | undefined;
  let log: Logger | undefined;
  try {
    const verb = parseVerb(io.env["CNI_COMMAND"]);
    const stdin = await io.readStdin();
    let config: Record<string, unknown> | undefined;
    let decodeError: unknown;
    try {
      config = decodeConfig(stdin);
    } catch (error) {
      decodeError = error;
    }
    version = sniffVersion(config) ?? LATEST_VERSION;
    if (verb === undefined) {
      const value = io.env["CNI_COMMAND"];
      const problem = value === undefined || value === ""
        ? "is not set"
        : `${JSON.stringify(value)} is unknown`;
      throw new CniError(CniErrorCode.INVALID_ENV, `Invalid environment: CNI_COMMAND ${problem}`, {
        details: `expected one of ${VERBS.join(", ")}`,
      });
    }
    if (verb === "VERSION") {
      emit({ cniVersion: version, supportedVersions: [...CNI_VERSIONS] });
      return 0;
    }
    const problems = envProblems(verb, io.env);
    if (problems.length > 0) {
      throw new CniError(CniErrorCode.INVALID_ENV, `Invalid environment: ${problems.join("; ")}`);
    }
    if (config === undefined) throw decodeError;
    const cniVersion = configVersion(config);
    if (V110_VERBS.includes(verb) && cniVersion !== "1.1.0") {
      throw new CniError(
        CniErrorCode.INCOMPATIBLE_VERSION,
        `Config version ${cniVersion} does not allow ${verb}`,
        {
          details: `${verb} needs cniVersion 1.1.0`,
        },
      );
    }
    const conf = resolveNetConf(config, cniVersion);
    const env = readCniEnv(verb, io.env);
    const netns = verb === "ADD" || verb === "CHECK"
      ? await deps.checkNetns(env.netns)
      : { problem: undefined, looked: false };
    if (netns.problem !== undefined) {
      throw new CniError(
        CniErrorCode.INVALID_ENV,
        `Invalid environment: CNI_NETNS "${env.netns}" ${netns.problem}`,
      );
    }
    log = deps.openLog(conf, io.stderr).with({ op: verb, containerId: env.containerId, ifName: env.ifName });
    ipamd = deps.ipamd(conf.ipamdSocket);
    // Connected now, each verb's first request goes out as it is made, before any `ip` starts.
    await ipamd.connect();
    const ctx: VerbContext = { env, conf, ipamd, deps, log, netnsLooked: netns.looked };
    if (verb === "ADD") emit(renderResult(await cmdAdd(ctx), cniVersion));
    else if (verb === "DEL") await cmdDel(ctx);
    else if (verb === "CHECK") await cmdCheck(ctx);
    else if (verb === "GC") await cmdGc(ctx);
    else await cmdStatus(ctx);
    return 0;
  } catch (error) {
    const cniError = error instanceof CniError
      ? error
      : new CniError(CniErrorCode.INTERNAL, "Internal error in the aws-cni plugin", {
        details: errorText(error),
      });
    log?.error(cniError.message, { code: cniError.code, details: cniError.details });
    emit(errorDocument(version, cniError));
    return 1;
  } finally {
    await ipamd?.close().catch(() => {});
  }
}
