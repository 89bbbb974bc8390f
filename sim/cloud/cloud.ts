/**
 * One simulated cloud: the account with the node's instance, EC2 and IMDS
 * served over HTTP (the emulator), the node's ENI links hot-plugged as the
 * instance's attachments change, and the knobs and reads the control channel
 * offers. `startCloud` builds it all, or nothing.
 *
 * @module
 */
import { cidrSize, type Clock, type Logger, parseCidr, silentLogger } from "../../shared/mod.ts";
import { EC2_THROTTLE_DEFAULTS } from "../../ipamd/cloud/mod.ts";
import type { Ec2Action, Ec2SimState, Ec2Simulation } from "../ec2/mod.ts";
import { EC2_ACTIONS, type Emulator, type ImdsRequestRecord, startEmulator } from "../emulator/mod.ts";
import { type CloudAccount, createCloudAccount } from "./account.ts";
import type { CloudOptions } from "./flags.ts";
import { HotPlug, routerOf } from "./hotplug.ts";
import type {
  CloudEni,
  CloudReady,
  CloudState,
  EniRequest,
  FaultRequest,
  HangRequest,
  ThrottleRequest,
} from "./protocol.ts";
import type { EniLinks } from "./veth_links.ts";

/** IMDS requests kept for `imdsRequests()` (oldest dropped first). */
const MAX_IMDS_RECORDS = 10_000;

/** What the cloud runs with. */
export interface CloudDeps {
  readonly clock: Clock;
  /** Opens the node's ENI links (given the subnets' routers); null: no links. */
  readonly openLinks: ((routers: readonly string[]) => Promise<EniLinks>) | null;
  readonly log?: Logger;
}

/** A running cloud. */
export interface Cloud {
  readonly account: CloudAccount;
  readonly emulator: Emulator;
  /** The node's links, or null without them. */
  readonly links: EniLinks | null;
  readonly hotplug: HotPlug | null;
  /** The ready line's fields, less the control socket and process. */
  readonly endpoints: Omit<CloudReady, "control" | "pid" | "vpcNetns" | "vpcHolderPid">;
  state(): Promise<CloudState>;
  imdsRequests(): readonly ImdsRequestRecord[];
  fail(request: FaultRequest): void;
  clearFaults(action?: Ec2Action): void;
  throttle(buckets: ThrottleRequest | null): void;
  setApiLatency(action: Ec2Action, ms: number): void;
  setAttachLatency(ms: number | null): void;
  holdAttaches(): void;
  releaseAttaches(): number;
  setImdsLag(ms: number): void;
  hang(request: HangRequest): void;
  clearHangs(action?: Ec2Action): void;
  createEni(request: EniRequest): string;
  deleteEni(eniId: string): void;
  /** Takes actions out of the node role's IAM policy. */
  withhold(actions: readonly Ec2Action[]): void;
  /** Puts actions back, or every one when none is named. */
  grant(actions?: readonly Ec2Action[]): void;
  /** Stops serving and watching, then removes the links; safe to call twice. */
  close(): Promise<void>;
}

/** Builds the account, plugs the primary ENI's link, serves EC2 and IMDS and starts hot-plugging. */
export async function startCloud(options: CloudOptions, deps: CloudDeps): Promise<Cloud> {
  const log = deps.log ?? silentLogger;
  const account = createCloudAccount(options, deps.clock);
  const { sim } = account;
  for (const action of options.withheld ?? []) sim.iam.withhold(action);
  const imdsLog: ImdsRequestRecord[] = [];
  const stack = new AsyncDisposableStack();
  try {
    let links: EniLinks | null = null;
    let hotplug: HotPlug | null = null;
    if (deps.openLinks !== null) {
      const opened = await deps.openLinks(options.subnetCidrs.map(routerOf));
      links = opened;
      stack.defer(() => opened.close());
      hotplug = new HotPlug(sim, {
        instanceId: account.instanceId,
        links: opened,
        primary: { mac: account.primaryMac, address: account.primaryAddress, gateway: account.gateway },
        log,
      });
      const watching = hotplug;
      stack.defer(() => watching.close());
      await hotplug.start();
    }
    const emulator = await startEmulator({
      sim,
      instanceId: account.instanceId,
      imdsLagMs: options.imdsLagMs,
      ...(options.listen === null ? {} : { listen: options.listen }),
      onImdsRequest: (request) => {
        imdsLog.push(request);
        if (imdsLog.length > MAX_IMDS_RECORDS) imdsLog.shift();
      },
    });
    stack.defer(() => emulator.close());
    const cleanup = stack.move();
    let closing: Promise<void> | null = null;
    return {
      account,
      emulator,
      links,
      hotplug,
      endpoints: {
        ec2Endpoint: emulator.ec2Endpoint,
        imdsEndpoint: emulator.imdsEndpoint,
        instanceId: account.instanceId,
        instanceType: account.instanceType,
        subnetId: account.subnetId,
        primaryEniId: account.primaryEniId,
        primaryMac: account.primaryMac,
        primaryAddress: account.primaryAddress,
      },
      async state() {
        await hotplug?.settled();
        return cloudState(sim, emulator, account.instanceId, hotplug);
      },
      imdsRequests: () => [...imdsLog],
      fail(request) {
        if (typeof request.code !== "string" || request.code === "") {
          throw new TypeError("Cannot arm a fault without an error code");
        }
        const actions = request.action === "*" ? allActions() : [checkAction(request.action)];
        const fault = {
          code: request.code,
          ...(request.httpStatus === undefined ? {} : { httpStatus: request.httpStatus }),
          ...(request.message === undefined ? {} : { message: request.message }),
        };
        for (const action of actions) {
          if (request.rate !== undefined) sim.knobs.failAtRate(action, fault, request.rate);
          else sim.knobs.failNext(action, fault, request.times ?? 1);
        }
      },
      clearFaults: (action) => sim.knobs.clearFaults(action === undefined ? undefined : checkAction(action)),
      throttle(buckets) {
        if (buckets === null) return sim.throttle.disable();
        for (const [category, spec] of Object.entries(buckets)) {
          if (!Object.hasOwn(EC2_THROTTLE_DEFAULTS, category)) {
            throw new RangeError(`Unknown throttling category "${category}"`);
          }
          if (!(spec.capacity >= 1 && spec.refillPerSecond > 0)) {
            throw new RangeError(`Invalid bucket for "${category}": ${JSON.stringify(spec)}`);
          }
        }
        sim.throttle.enable(buckets);
      },
      setApiLatency: (action, ms) => sim.knobs.setLatencyMs(checkAction(action), ms),
      setAttachLatency: (ms) => sim.knobs.setAttachLatency(ms === null ? null : { kind: "fixed", ms }),
      holdAttaches: () => void (sim.knobs.holdAttaches = true),
      releaseAttaches: () => sim.releaseAttaches(),
      setImdsLag: (ms) => void (emulator.imds.lagMs = ms),
      hang(request) {
        const times = request.times === "always" ? Infinity : request.times ?? 1;
        emulator.ec2Transport.hangNext(checkAction(request.action), {
          times,
          ...(request.applied === undefined ? {} : { applied: request.applied }),
        });
      },
      clearHangs: (action) =>
        emulator.ec2Transport.clearHangs(action === undefined ? undefined : checkAction(action)),
      createEni(request) {
        const subnetId = request.subnetId ?? account.subnetId;
        let count = request.secondaryIps;
        if (count === "all") {
          const subnet = cloudState(sim, emulator, account.instanceId, hotplug).subnets
            .find((s) => s.subnetId === subnetId);
          if (subnet === undefined) throw new RangeError(`Unknown subnet "${subnetId}"`);
          count = subnet.availableIps - 1;
        }
        const created = sim.createNetworkInterface({ subnetId, secondaryPrivateIpAddressCount: count });
        return created.networkInterface.networkInterfaceId;
      },
      deleteEni: (eniId) => void sim.deleteNetworkInterface({ networkInterfaceId: eniId }),
      withhold: (actions) => actions.map(checkAction).forEach((action) => sim.iam.withhold(action)),
      grant(actions) {
        if (actions === undefined) sim.iam.grant();
        else actions.map(checkAction).forEach((action) => sim.iam.grant(action));
      },
      close() {
        closing ??= cleanup.disposeAsync();
        return closing;
      },
    };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}

function allActions(): Ec2Action[] {
  return Object.keys(EC2_ACTIONS) as Ec2Action[];
}

function checkAction(action: string): Ec2Action {
  if (!Object.hasOwn(EC2_ACTIONS, action)) throw new RangeError(`Unknown EC2 action "${action}"`);
  return action as Ec2Action;
}

/** The account as EC2 holds it now. */
export function cloudState(
  sim: Ec2Simulation,
  emulator: Pick<Emulator, "ec2Calls" | "imds">,
  instanceId: string,
  hotplug: HotPlug | null,
): CloudState {
  const state = sim.exportState();
  const nowMs = sim.clock.now();
  return {
    instanceId,
    enis: state.networkInterfaces.map((eni) => cloudEni(eni, nowMs)),
    subnets: state.subnets.map((subnet) => ({
      subnetId: subnet.subnetId,
      cidr: subnet.cidrBlock,
      availableIps: availableIps(subnet),
    })),
    calls: emulator.ec2Calls(),
    links: [...hotplug?.plugged() ?? []].map(([mac, deviceIndex]) => ({ mac, deviceIndex })),
    holdingAttaches: sim.knobs.holdAttaches,
    throttling: sim.throttle.enabled,
    withheld: sim.iam.withheld(),
    imdsLagMs: emulator.imds.lagMs,
  };
}

function cloudEni(eni: Ec2SimState["networkInterfaces"][number], nowMs: number): CloudEni {
  const a = eni.attachment;
  let attachment: CloudEni["attachment"] = null;
  if (a !== null) {
    const due = a.readyAtMs <= nowMs;
    const status = a.status === "attaching" && due ? "attached" : a.status;
    if (!(a.status === "detaching" && due)) {
      attachment = { instanceId: a.instanceId, deviceIndex: a.deviceIndex, status };
    }
  }
  const status = attachment === null
    ? "available"
    : attachment.status === "attached"
    ? "in-use"
    : attachment.status;
  return {
    eniId: eni.networkInterfaceId,
    subnetId: eni.subnetId,
    mac: eni.macAddress,
    description: eni.description,
    status,
    attachment,
    privateIp: eni.privateIpAddress,
    secondaryIps: [...eni.secondaryPrivateIpAddresses],
    prefixes: [...eni.ipv4Prefixes],
    tags: Object.fromEntries(eni.tags.map((tag) => [tag.key, tag.value])),
  };
}

/** Free addresses of a subnet: its size less EC2's 5 reserved and the taken ones. */
function availableIps(subnet: Ec2SimState["subnets"][number]): number {
  const taken = subnet.takenRanges.reduce((sum, [from, to]) => sum + to - from + 1, 0);
  return cidrSize(parseCidr(subnet.cidrBlock)) - 5 - taken;
}
