/**
 * Settings against the binary's permission set. A path or address that the set
 * does not grant would fail late and half-way (a listener missing, a log lost),
 * so ipamd checks every one of them before it starts and refuses with one line
 * naming the setting and its value.
 *
 * @module
 */
import type { IpamdConfig } from "./config/mod.ts";
import { CONFLIST_NAME } from "./ops/mod.ts";

/** Whether something is granted: to this process as it runs, and to the plugin as it will run. */
export interface PermissionQueries {
  /** This process (`Deno.permissions.querySync(descriptor).state === "granted"`). */
  readonly self: (descriptor: Deno.PermissionDescriptor) => boolean;
  /** The plugin, once it has narrowed to its share: for the log file the conflist hands it. */
  readonly pluginMayWrite: (path: string) => boolean;
}

/** How this ipamd runs, besides its settings. */
export interface DaemonRun {
  /** `--write-conflist DIR`. */
  readonly conflistDir?: string | undefined;
  /** Whether `--checkpoint` named the checkpoint (else AWS_VPC_K8S_CNI_BACKING_STORE did). */
  readonly checkpointFlag?: boolean;
}

/** `host:port` of an http(s) URL, as Deno's net permission names it. */
function urlHost(text: string): string {
  const url = new URL(text);
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}

/** One line per setting or flag whose value the set does not grant; empty when all are granted. */
export function outsidePermissions(config: IpamdConfig, run: DaemonRun, may: PermissionQueries): string[] {
  const outside: string[] = [];
  const refuse = (label: string, value: string, what: string) =>
    outside.push(`${label}=${JSON.stringify(value)}: the binary may not ${what} (README, "Permissions")`);
  const files = (path: string, ...kinds: ("read" | "write")[]) =>
    kinds.every((name) => may.self({ name, path }));
  const net = (host: string) => may.self({ name: "net", host });

  const socket = config.socketPath;
  if (!files(socket, "read", "write") || !net(`unix:${socket}`)) {
    refuse("--socket", socket, `serve a socket at ${socket}`);
  }
  if (!files(config.checkpointPath, "read", "write")) {
    const label = run.checkpointFlag === true ? "--checkpoint" : "AWS_VPC_K8S_CNI_BACKING_STORE";
    refuse(label, config.checkpointPath, `keep a checkpoint at ${config.checkpointPath}`);
  }
  if (config.logFile.startsWith("/") && !files(config.logFile, "write")) {
    refuse("AWS_VPC_K8S_CNI_LOG_FILE", config.logFile, `write ${config.logFile}`);
  }
  if (config.pluginLogFile.startsWith("/") && !may.pluginMayWrite(config.pluginLogFile)) {
    refuse(
      "AWS_VPC_K8S_PLUGIN_LOG_FILE",
      config.pluginLogFile,
      `write ${config.pluginLogFile} as the plugin`,
    );
  }
  if (!config.disableMetrics && !net(config.metricsBindAddress)) {
    refuse("METRICS_BIND_ADDRESS", config.metricsBindAddress, `listen on ${config.metricsBindAddress}`);
  }
  if (!config.disableIntrospection && !net(config.introspectionBindAddress)) {
    refuse(
      "INTROSPECTION_BIND_ADDRESS",
      config.introspectionBindAddress,
      `listen on ${config.introspectionBindAddress}`,
    );
  }
  const ec2 = config.ec2Endpoint !== null
    ? ["AWS_EC2_ENDPOINT", config.ec2Endpoint] as const
    : config.ec2EndpointUrl !== null
    ? ["AWS_ENDPOINT_URL_EC2", config.ec2EndpointUrl] as const
    : null;
  if (ec2 !== null && !net(urlHost(ec2[1]))) refuse(ec2[0], ec2[1], `connect to ${urlHost(ec2[1])}`);
  if (!net(urlHost(config.imdsEndpoint))) {
    refuse(
      "AWS_EC2_METADATA_SERVICE_ENDPOINT",
      config.imdsEndpoint,
      `connect to ${urlHost(config.imdsEndpoint)}`,
    );
  }
  if (run.conflistDir !== undefined) {
    const conflist = `${run.conflistDir.replace(/\/+$/, "")}/${CONFLIST_NAME}`;
    if (!files(conflist, "read", "write")) refuse("--write-conflist", run.conflistDir, `write ${conflist}`);
  }
  return outside;
}
