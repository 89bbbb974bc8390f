/**
 * What `aws-cni install` writes for systemd: the `aws-ipamd.service` unit, with
 * as much sandboxing as a CNI daemon allows, and an environment file template
 * listing every setting with its default, commented out.
 *
 * @module
 */
import { type EnvRow, IPAMD_ENV_TABLE } from "../ipamd/config/mod.ts";
import { MALLOC_ENV } from "../shared/mod.ts";

/** The unit's file name. */
export const UNIT_NAME = "aws-ipamd.service";

/** Where things live on the node (the install prefix is prepended only to write them). */
export interface NodePaths {
  /** The installed binary, e.g. /opt/cni/bin/aws-cni. */
  readonly binary: string;
  /** The settings file, e.g. /etc/aws-cni/ipamd.env. */
  readonly envFile: string;
  /** Where ipamd writes the conflist once it serves, e.g. /etc/cni/net.d. */
  readonly conflistDir: string;
}

/** The node paths of a default install. */
export const NODE_PATHS: NodePaths = Object.freeze({
  binary: "/opt/cni/bin/aws-cni",
  envFile: "/etc/aws-cni/ipamd.env",
  conflistDir: "/etc/cni/net.d",
});

/** The unit text. */
export function renderUnit(paths: NodePaths = NODE_PATHS): string {
  return `# Written by \`aws-cni install\`; \`aws-cni uninstall\` removes it.
[Unit]
Description=aws-cni ipamd: warm pool of EC2 ENIs and IPs for pods
Documentation=https://github.com/aws/amazon-vpc-cni-k8s
Wants=network-online.target
After=network-online.target
Before=kubelet.service

[Service]
# READY=1 comes once the socket serves and the conflist is written; it is sent by a
# systemd-notify child, hence NotifyAccess=all.
Type=notify
NotifyAccess=all
# glibc reads its malloc settings only when the process starts, so they cannot be compiled
# into the binary: fewer arenas, and freed memory given back to the system (README,
# "Benchmarks"). The settings file may override them.
Environment=${Object.entries(MALLOC_ENV).map(([name, value]) => `${name}=${value}`).join(" ")}
EnvironmentFile=-${paths.envFile}
ExecStart=${paths.binary} --daemon --write-conflist ${paths.conflistDir}
Restart=always
RestartSec=2
# Attaching ENIs can take a while on a busy account.
TimeoutStartSec=300
TimeoutStopSec=30
# /run/aws-node holds the socket and the checkpoint; keep it across restarts.
RuntimeDirectory=aws-node
RuntimeDirectoryMode=0700
RuntimeDirectoryPreserve=yes
LogsDirectory=aws-routed-eni
ReadWritePaths=-${paths.conflistDir}
# iptables-legacy locks /run/xtables.lock (iptables-nft takes no lock); make sure it exists
# before the read-only sandbox is set up, then let ipamd write it.
ExecStartPre=+/bin/sh -c "touch /run/xtables.lock"
ReadWritePaths=-/run/xtables.lock
UMask=0022

# Sandboxing. ipamd changes links, routes, rules and iptables (CAP_NET_ADMIN,
# CAP_NET_RAW) and writes net sysctls, so ProtectKernelTunables stays off; V8
# needs writable executable memory, so MemoryDenyWriteExecute stays off.
CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
`;
}

function commentLines(text: string): string {
  const words = text.split(" ");
  const lines: string[] = [];
  let line = "#";
  for (const word of words) {
    if (line.length + word.length + 1 > 100 && line !== "#") {
      lines.push(line);
      line = "#";
    }
    line += ` ${word}`;
  }
  return [...lines, line].join("\n");
}

function describe(row: EnvRow<unknown>): string {
  const reference = row.referenceName !== undefined
    ? ` Reference: ${row.referenceName}.`
    : row.referenceDefault !== undefined
    ? ` Reference default: ${row.referenceDefault}.`
    : "";
  return `${row.name}: ${row.doc} Accepts ${row.parser.accepts}.${reference}`;
}

/** The env file template: every setting, its meaning, and its default commented out. */
export function renderEnvTemplate(rows: readonly EnvRow<unknown>[] = IPAMD_ENV_TABLE): string {
  const header = `# aws-cni ipamd settings, read by ${UNIT_NAME} (EnvironmentFile).
# Every setting is listed with its default, commented out. Uncomment a line to change it,
# then: systemctl restart aws-ipamd. An empty value means unset. systemd strips quotes,
# so single-quote a value that holds double quotes: ADDITIONAL_ENI_TAGS='{"team":"net"}'.
`;
  const blocks = rows.map((row) => `${commentLines(describe(row))}\n#${row.name}=${row.default}\n`);
  return [header, ...blocks].join("\n");
}
