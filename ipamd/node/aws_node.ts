/**
 * The node as AWS shows it, assembled from the config: IMDS tells the instance,
 * region, primary ENI (subnet, security groups, VPC CIDRs); EC2 goes through the
 * SDK within the request budget; the instance type's limits come from the
 * built-in table, or DescribeInstanceTypes for a type it lacks. The endpoints
 * come from the config (the env), credentials from the SDK's default chain.
 *
 * @module
 */
import type { Clock, Logger } from "../../shared/mod.ts";
import {
  checkPermissions,
  createEc2Client,
  Ec2Sender,
  type EniDirectory,
  HttpImdsApi,
  HttpImdsClient,
  type ImdsEni,
  type ImdsInstance,
  type PermissionStatus,
  RateBudget,
  SdkDryRunner,
  SdkEc2Port,
  SdkEniDirectory,
} from "../cloud/mod.ts";
import type { IpamdConfig } from "../config/mod.ts";
import {
  infoFromDescribe,
  type InstanceTypeInfo,
  lookupInstanceType,
  UnknownInstanceTypeError,
} from "../limits/mod.ts";
import { retryStartup } from "./discovery.ts";
import { EniPlacement, PlacedEc2Requests } from "./eni_placement.ts";
import { NodeLifecycle } from "./lifecycle.ts";

/** What opening the node runs with. */
export interface AwsNodeOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** How startup waits between tries (default: real timers). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Everything the daemon needs from AWS for this node; disposing it closes the EC2 client's connections. */
export interface AwsNode extends AsyncDisposable {
  readonly instance: ImdsInstance;
  readonly instanceType: InstanceTypeInfo;
  /** The VPC's IPv4 CIDRs, primary first. */
  readonly vpcCidrs: readonly string[];
  readonly ec2: SdkEc2Port;
  readonly directory: SdkEniDirectory;
  readonly lifecycle: NodeLifecycle;
  readonly budget: RateBudget;
  readonly placement: EniPlacement;
  /** Asks EC2, with DryRun, whether the node's role may make each call ipamd makes (never rejects). */
  checkPermissions(): Promise<PermissionStatus[]>;
}

/** Reads the node from IMDS and connects to EC2; retries while either throttles or is unreachable. */
export async function openAwsNode(config: IpamdConfig, options: AwsNodeOptions): Promise<AwsNode> {
  const { clock, log } = options;
  const retry = { log, clock, ...(options.sleep === undefined ? {} : { sleep: options.sleep }) };
  const imds = new HttpImdsApi(
    new HttpImdsClient({
      endpoint: config.imdsEndpoint,
      tokenTtlSeconds: config.imdsTokenTtlMs / 1000,
      allowV1: config.imdsAllowV1,
      timeoutMs: config.httpTimeoutMs,
      clock,
    }),
  );
  const { instance, primary } = await retryStartup("read the instance from IMDS", async () => {
    const instance = await imds.instance();
    const primary = await imds.eni(instance.primaryMac);
    if (primary === null) throw new RangeError(`IMDS does not list the primary ENI "${instance.primaryMac}"`);
    return { instance, primary };
  }, retry);
  const budget = new RateBudget({
    clock,
    buckets: config.ec2RequestBudget,
    maxRetries: config.ec2ThrottleRetries,
    onRetry: ({ action, attempt, delayMs, error }) =>
      log.debug("EC2 request retried", { op: "ec2", api: action, attempt, delayMs, code: error.code }),
  });
  const client = createEc2Client({
    region: instance.region,
    endpoint: config.ec2Endpoint ?? config.ec2EndpointUrl,
    timeoutMs: config.httpTimeoutMs,
  });
  const sender = new Ec2Sender(client, budget);
  const directory = new SdkEniDirectory(sender);
  try {
    const instanceType = await retryStartup(
      "learn the instance type's limits",
      () => typeInfo(instance.instanceType, directory),
      retry,
    );
    const subnetCidr = await retryStartup(
      "describe the node's subnet",
      () => subnetOf(primary, directory, log),
      retry,
    );
    const placed = { config, directory, imds, primary, zone: instance.availabilityZone, log };
    const placement = await retryStartup("check the pod subnet", () => EniPlacement.open(placed), retry);
    const requests = Object.assign(new PlacedEc2Requests(sender), { placement });
    const ec2 = new SdkEc2Port(requests, imds, {
      node: {
        instanceId: instance.instanceId,
        subnetId: primary.subnetId,
        subnetCidr,
        securityGroupIds: primary.securityGroupIds,
      },
      clusterName: config.clusterName,
      additionalTags: config.additionalEniTags,
      clock,
      log: log.with({ op: "ec2" }),
    });
    const lifecycle = new NodeLifecycle({
      imds,
      directory,
      instanceId: instance.instanceId,
      vpcId: primary.vpcId,
      clock,
      log,
      reconcileIntervalMs: config.nodeReconcileIntervalMs,
      refresh: (enis) =>
        placement.refresh(enis, (id, groups) => requests.setGroups(id, groups), config.pool.subnetAware),
      leakedEnis: config.disableLeakedEniCleanup || config.disableProvisioning ? null : {
        intervalMs: config.leakedEniCleanupIntervalMs,
        maxStartDelayMs: config.leakedEniCleanupStartDelayMs,
        minAgeMs: config.leakedEniMinAgeMs,
        clusterName: config.clusterName,
      },
    });
    log.info("node found", {
      instanceId: instance.instanceId,
      instanceType: instance.instanceType,
      region: instance.region,
      subnetId: primary.subnetId,
      subnetCidr,
    });
    const vpcCidrs = primary.vpcCidrs.length > 0 ? primary.vpcCidrs : [subnetCidr];
    const dryRuns = new SdkDryRunner(sender, {
      instanceId: instance.instanceId,
      instanceType: instance.instanceType,
      subnetId: primary.subnetId,
      securityGroupIds: primary.securityGroupIds,
      primaryEniId: primary.eniId,
      primaryAttachmentId: async () => {
        const [record] = await directory.describeEnis([primary.eniId]).catch(() => []);
        return record?.attachment?.attachmentId ?? null;
      },
    });
    return {
      instance,
      instanceType,
      vpcCidrs,
      checkPermissions: () => checkPermissions(dryRuns),
      ec2,
      directory,
      lifecycle,
      budget,
      placement,
      [Symbol.asyncDispose]: () => Promise.resolve(client.destroy()),
    };
  } catch (error) {
    client.destroy();
    throw error;
  }
}

/** The built-in limits, or DescribeInstanceTypes' for a type the table lacks. */
async function typeInfo(name: string, directory: SdkEniDirectory): Promise<InstanceTypeInfo> {
  try {
    return lookupInstanceType(name);
  } catch (error) {
    if (!(error instanceof UnknownInstanceTypeError)) throw error;
    const described = await directory.describeInstanceType(name);
    if (described === null) throw error;
    return infoFromDescribe(name, described);
  }
}

/**
 * The subnet's CIDR: from IMDS, which costs no EC2 call, else DescribeSubnets
 * (logging how many addresses the subnet has left).
 */
export async function subnetOf(
  primary: Pick<ImdsEni, "subnetId" | "subnetCidr">,
  directory: Pick<EniDirectory, "describeSubnet">,
  log: Logger,
): Promise<string> {
  if (primary.subnetCidr !== "") return primary.subnetCidr;
  const subnet = await directory.describeSubnet(primary.subnetId);
  if (subnet !== null) {
    log.info("node subnet", {
      subnetId: subnet.subnetId,
      cidr: subnet.cidr,
      availableIps: subnet.availableIps,
    });
  }
  const cidr = primary.subnetCidr || subnet?.cidr || "";
  if (cidr === "") throw new RangeError(`Cannot learn the CIDR of subnet "${primary.subnetId}"`);
  return cidr;
}
