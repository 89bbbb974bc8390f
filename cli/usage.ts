/**
 * Every text `--help` and `aws-cni help` print, in one module of plain strings
 * (main.ts imports it, so it names no role's module). `USAGE` is the overview
 * with each command's synopsis; the README's Commands block is `aws-cni help`'s
 * output (tools/gen_commands_block.ts), and a test fails when they drift.
 *
 * @module
 */
import { CNI_VERSIONS, VERSION } from "../shared/mod.ts";
import { editDistance } from "./edit_distance.ts";

/** ipamd's synopsis, as `aws-cni help` lists it. */
export const DAEMON_SYNOPSIS = "aws-cni --daemon [--socket PATH] [--checkpoint PATH] [--write-conflist DIR]";

/** `aws-cni --daemon --help` (main.ts answers it without loading ipamd). */
export const DAEMON_USAGE = `usage: ${DAEMON_SYNOPSIS}

ipamd runs on an EC2 node: IMDS at AWS_EC2_METADATA_SERVICE_ENDPOINT, EC2 at
AWS_EC2_ENDPOINT or AWS_ENDPOINT_URL_EC2 (else the region's endpoint), credentials
from the AWS SDK's default chain; it sets up the node's host networking (per-ENI
links, tables, rules and SNAT) in its own network namespace.

--write-conflist DIR writes DIR/10-aws.conflist once the socket serves, so kubelet sees
the network as ready only then; under systemd (NOTIFY_SOCKET) READY=1 follows.
`;

/** Each command's `--help`, by the name it is run with. */
export const COMMAND_USAGE = {
  plan: `usage: aws-cni plan --instance-type T --pods A,B,C [--warm-eni-target N] [--warm-ip-target N]
  [--minimum-ip-target N] [--max-eni N] [--max-pods N] [--prefix-delegation] [--warm-prefix-target N]
  [--ip-cooldown-period S] [--scale-down-window S] [--custom-networking] [--subnet-aware BOOL]
  [--subnet-free N] [--json]

Shows how the warm pool settles on a simulated node for each pod count. Settings are also
read from the daemon's env vars (WARM_ENI_TARGET, WARM_IP_TARGET, MINIMUM_IP_TARGET, MAX_ENI,
ENABLE_PREFIX_DELEGATION, WARM_PREFIX_TARGET, IP_COOLDOWN_PERIOD, POOL_SCALE_DOWN_WINDOW,
AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG, POOL_SUBNET_AWARE, MAX_PODS); flags win. A pod count beyond
what the node can address is called out. --subnet-free N: other nodes leave N free addresses in
the node's subnet, to show subnet-aware targets cutting the spare addresses.
`,
  replay:
    `usage: aws-cni replay --instance-type T [--nodes N] [settings as in plan] [--policy aws-cni|reference]
  (--trace FILE | --scenario burst|churn|launch|subnets) [--seed S] [--json] [--plot FILE.svg] [--progress]

Forecasts EC2 calls, idle addresses and pod waits in simulated time.
  --trace - reads the trace from stdin; --plot - writes the SVG to stdout and the report to stderr
  settings: --warm-eni-target N --warm-ip-target N --minimum-ip-target N --max-eni N --max-pods N
            --prefix-delegation --warm-prefix-target N --ip-cooldown-period S --scale-down-window S
            --custom-networking --subnet-aware BOOL (or the daemon's env vars)
  scenario: --pods N (burst/launch: per node; churn: mean; subnets: in all) --lifetime S
            --duration S (churn, subnets)
  timing:   --attach-latency M --detach-latency M --imds-lag M (fixed:MS | uniform:MIN:MAX |
            lognormal:MEDIAN:SIGMA:MAX) --call-latency-ms N
  --attach-wait imds|link: how aws-cni awaits a new ENI (default imds, as the daemon does; link: until its
            network link shows, without IMDS's lag)
  --progress draws a progress bar on stderr (on by default when stderr is a terminal)
`,
  status: `usage: aws-cni status [--json] [--introspection ADDR]

Shows ipamd's ENIs, the warm-pool targets against the pool, the next reconcile action,
why the pool cannot grow, the IAM permissions it lacks and the last EC2 errors. ADDR is
ipamd's introspection address (default INTROSPECTION_BIND_ADDRESS, else 127.0.0.1:61679).
`,
  "max-pods":
    `usage: aws-cni max-pods --instance-type T [--prefix-delegation] [--custom-networking] [--max-eni N]
  [--explain] [--json]

Prints kubelet's --max-pods for instance type T: ENIs × (IPv4 per ENI − 1) + 2 with
secondary IPs (EKS's eni-max-pods.txt), ENIs × (IPv4 per ENI − 1) × 16 + 2 with prefix
delegation, at most 110 on 30 vCPUs or fewer and 250 above (EKS's max-pods-calculator.sh).
Custom networking leaves the primary ENI out; --max-eni lowers the ENIs. The + 2 is for
the two host-network pods (the CNI and kube-proxy). Settings are also read from
ENABLE_PREFIX_DELEGATION, AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG and MAX_ENI; flags win.
--explain adds how the number was reached; --json prints every figure.
`,
  install:
    `usage: aws-cni install [--prefix DIR] [--write-conflist] [--binary FILE] [--no-restart | --restart]
       aws-cni uninstall [--prefix DIR] [--keep-plugin]

install copies this binary to /opt/cni/bin/aws-cni, writes the systemd unit
/etc/systemd/system/aws-ipamd.service and the settings file /etc/aws-cni/ipamd.env (every
setting, commented; an existing file is kept). The unit starts ipamd with
--write-conflist /etc/cni/net.d, so the conflist appears once ipamd serves;
--write-conflist writes it now as well. --binary copies FILE instead of this binary.
Over an earlier install (an upgrade or a rollback) the binary is replaced in one
rename, the one it replaces is kept as /opt/cni/bin/aws-cni.previous, and a running
ipamd is restarted onto the new one (systemctl daemon-reload, systemctl try-restart);
it keeps its checkpoint, so pods keep their addresses. --no-restart leaves ipamd
running the old binary until you restart it; under --prefix nothing is restarted
unless --restart says so.
uninstall removes what install wrote (a settings file you edited is kept);
--keep-plugin leaves the binary and the conflist for aws-node to take over.
--prefix DIR puts everything under DIR instead of /.
`,
  version: `usage: aws-cni version

Prints the version.
`,
  help: `usage: aws-cni help [COMMAND]

Prints the commands, or COMMAND's flags (COMMAND --help does the same; the daemon's are
aws-cni --daemon --help).
`,
} as const;

/** A command `aws-cni help COMMAND` knows. */
export type CommandName = keyof typeof COMMAND_USAGE;

/** A usage text's synopsis: its lines up to the first blank one, without "usage: ". */
function synopsis(usage: string): string {
  return usage.slice(0, usage.indexOf("\n\n")).split("\n")
    .map((line) => line.replace(/^usage: /, "").replace(/^ {7}aws-cni/, "aws-cni")).join("\n");
}

/** What each command does, in a line of `aws-cni help`. */
const SUMMARY: Readonly<Record<CommandName, string>> = {
  plan: "how the warm pool settles for each pod count, on a simulated node",
  replay: "forecast EC2 calls, idle addresses and pod waits in simulated time",
  status: "the pool as ipamd sees it: ENIs, targets, next action, IAM, EC2 errors",
  "max-pods": "kubelet's --max-pods for an instance type, as EKS computes it",
  install: "install, upgrade or roll back the binary, unit, settings file and conflist; or remove them",
  version: "print the version",
  help: "print this text, or a command's flags",
};

const indent = (text: string, by: string) => text.split("\n").map((line) => by + line).join("\n");

/** The text of `aws-cni help`, and on stderr (after what was wrong) for a call it cannot place. */
export const USAGE = [
  `aws-cni ${VERSION}: the AWS VPC CNI for Kubernetes nodes, in one binary`,
  "",
  "Roles:",
  "  CNI_COMMAND=ADD|DEL|CHECK|VERSION|GC|STATUS aws-cni < netconf",
  "      the CNI plugin, as kubelet's container runtime runs it from /opt/cni/bin",
  indent(DAEMON_SYNOPSIS, "  "),
  "      ipamd, the node daemon that keeps the warm pool (aws-cni --daemon --help)",
  "",
  "Commands (aws-cni help COMMAND, or COMMAND --help, for the details):",
  ...(Object.keys(COMMAND_USAGE) as CommandName[]).map((name) =>
    `${indent(synopsis(COMMAND_USAGE[name]), "  ")}\n      ${SUMMARY[name]}`
  ),
  "",
  `CNI spec versions: ${CNI_VERSIONS.join(", ")}`,
  "",
].join("\n");

/** Every word main.ts takes as the first argument. */
const COMMAND_WORDS = [...Object.keys(COMMAND_USAGE), "uninstall", "--daemon", "--help", "--version"];

/** What to say for a first argument aws-cni does not know: it, a close command if any, then `USAGE`. */
export function unknownCommandText(word: string): string {
  const close = COMMAND_WORDS.map((name) => ({ name, distance: editDistance(word.toLowerCase(), name) }))
    .filter(({ distance }) => distance <= Math.max(1, Math.floor(word.length / 3)))
    .sort((a, b) => a.distance - b.distance)[0];
  const what = word === "" ? "no command given" : `unknown command "${word}"`;
  const hint = close === undefined ? "" : `; did you mean "${close.name}"?`;
  return `aws-cni: ${what}${hint}\n\n${USAGE}`;
}

/**
 * What `aws-cni help [TOPIC]` (or `TOPIC --help` for version) prints: the text and
 * where it goes (stdout, exit 0; stderr, exit 2).
 */
export function helpFor(topic: string | undefined): { text: string; code: 0 | 2 } {
  if (topic === undefined) return { text: USAGE, code: 0 };
  if (topic === "--daemon" || topic === "daemon") return { text: DAEMON_USAGE, code: 0 };
  const name = topic === "uninstall" ? "install" : topic;
  if (Object.hasOwn(COMMAND_USAGE, name)) return { text: COMMAND_USAGE[name as CommandName], code: 0 };
  return { text: unknownCommandText(topic), code: 2 };
}
