/**
 * The reference's settings (aws/amazon-vpc-cni-k8s) and what aws-cni does with
 * each, for a node moved from the `aws-node` DaemonSet. Settings ipamd reads
 * come from its own table (`IPAMD_ENV_TABLE`); every other reference setting
 * has one row here. At start, a value that would change how pods are addressed
 * or secured and that aws-cni does not implement refuses to start; one that
 * has no effect here is accepted with a warning; a variable that looks like a
 * setting but is none is a warning naming the closest one. The README's
 * migration table is generated from these rows.
 *
 * @module
 */
import rows from "./reference_settings.json" with { type: "json" };

/** What aws-cni does with a reference setting. */
export type Treatment =
  /** ipamd reads it (see the settings table). */
  | "supported"
  /** Another value than `same` refuses to start. */
  | "refused"
  /** Another value than `same` is accepted with a warning: not implemented yet, pods still get working addresses. */
  | "warned"
  /** It has no effect here (a Kubernetes API, container packaging, a feature refused elsewhere); a warning says so. */
  | "not applicable";

/** One reference setting. */
export interface ReferenceSetting {
  readonly name: string;
  readonly treatment: Treatment;
  /** Values (any case) that mean here what they mean in the reference: accepted without a word. Unset always is. */
  readonly same?: readonly string[];
  /** Why, for the README and the start-up line. */
  readonly why: string;
}

/** The reference's settings that ipamd does not read: one row each (reference_settings.json, plain data). */
export const UNSUPPORTED_REFERENCE_SETTINGS: readonly ReferenceSetting[] = Object.freeze(
  rows as readonly ReferenceSetting[],
);

/** Variables of the AWS SDK that share a prefix with settings; ipamd leaves them to the SDK. */
const SDK_VARIABLES = [
  "AWS_EC2_METADATA_DISABLED",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
  "AWS_EC2_METADATA_V1_DISABLED",
];

/** Prefixes of the reference's and ipamd's setting names: an unknown variable with one is likely a typo. */
export const SETTING_PREFIXES: readonly string[] = Object.freeze([
  "WARM_",
  "MINIMUM_",
  "MAX_",
  "AWS_VPC_",
  "AWS_EC2_",
  "AWS_EXTERNAL_",
  "AWS_MANAGE_",
  "ENABLE_",
  "DISABLE_",
  "IP_",
  "POD_",
  "ENI_",
  "INTROSPECTION_",
  "METRICS_",
  "NETWORK_POLICY_",
  "ANNOTATE_",
  "ADDITIONAL_",
  "CLUSTER_",
  "HOST_CNI_",
  "VPC_CNI_",
  "MANAGE_",
  "IMDS_",
  "EC2_",
  "LEAKED_",
  "POOL_",
]);

/** A row of ipamd's own settings table, as far as the migration rows need it. */
export interface OwnSetting {
  readonly name: string;
  /** Set when the reference has no such setting or another name for it. */
  readonly referenceName?: string;
}

/** Every reference setting: the ones ipamd reads (from its table), then the rest. */
export function referenceSettings(own: readonly OwnSetting[]): readonly ReferenceSetting[] {
  const supported = own.filter((row) => row.referenceName === undefined).map((row): ReferenceSetting => ({
    name: row.name,
    treatment: "supported",
    why: "see Settings",
  }));
  return [...supported, ...UNSUPPORTED_REFERENCE_SETTINGS];
}

/** Levenshtein distance between two names. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known name closest to `name` (the first of equals). */
export function closestName(name: string, known: readonly string[]): string {
  let best = known[0] ?? "";
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(name.toUpperCase(), candidate.toUpperCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** What the environment says about moving from the reference: values to refuse, and warnings. */
export interface MigrationFindings {
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

/** Checks `env` against the reference's settings; `own` is ipamd's settings table. */
export function migrationFindings(
  env: Readonly<Record<string, string>>,
  own: readonly OwnSetting[],
): MigrationFindings {
  const problems: string[] = [];
  const warnings: string[] = [];
  const rows = referenceSettings(own);
  const known = [...new Set([...own.map((row) => row.name), ...rows.map((row) => row.name)])];
  for (const [name, value] of Object.entries(env)) {
    if (value === "" || known.includes(name) || SDK_VARIABLES.includes(name)) continue;
    if (!SETTING_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    warnings.push(
      `${name} is not a setting of aws-cni or the reference, so it is ignored; did you mean ` +
        `${closestName(name, known)}?`,
    );
  }
  for (const row of rows) {
    const value = env[row.name] ?? "";
    if (row.treatment === "supported" || value === "" || row.same?.includes(value.toLowerCase())) continue;
    const text = `${row.name}=${JSON.stringify(value)}`;
    if (row.treatment === "refused") problems.push(`${text}: ${row.why}`);
    else if (row.treatment === "warned") warnings.push(`${text}: ${row.why}`);
    else warnings.push(`${text} has no effect: ${row.why}`);
  }
  return { problems, warnings };
}
