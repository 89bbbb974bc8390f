/**
 * A stateful, synchronous, seeded simulation of one EC2 account and VPC, in EC2's
 * own terms. It backs the in-memory `Ec2Port` (ec2_sim_port.ts), the EC2 Query
 * emulator and multi-node replays. Time comes from the injected clock; attach and
 * detach complete lazily against it. Every action goes through one gate that
 * issues a request id, then applies throttling and forced faults.
 *
 * @module
 */

import { type Clock, formatCidr, formatIpv4, parseCidr } from "../../shared/mod.ts";
import {
  attachNetworkInterface,
  detachNetworkInterface,
  launchInstance,
  registerInstanceType,
  terminateInstance,
} from "./attach_ops.ts";
import {
  describeInstances,
  describeInstanceTypes,
  describeNetworkInterfaces,
  describeSubnets,
} from "./describe.ts";
import {
  assignPrivateIpAddresses,
  createNetworkInterface,
  deleteNetworkInterface,
  modifyNetworkInterfaceAttribute,
  unassignPrivateIpAddresses,
} from "./eni_ops.ts";
import { Ec2SimError } from "./error.ts";
import { Ec2FaultKnobs } from "./knobs.ts";
import { DRY_RUN_ACTIONS, Ec2IamPolicy } from "./iam.ts";
import { DEFAULT_ATTACH_LATENCY, DEFAULT_DETACH_LATENCY, Ec2IdFactory, SeededRandom } from "./random.ts";
import type * as Req from "./requests.ts";
import { restoreSimState } from "./restore.ts";
import { type Ec2SimState, snapshotSimState } from "./snapshot.ts";
import { parseSimState } from "./snapshot_parse.ts";
import { addSubnet, SimState } from "./state.ts";
import { createTags } from "./tags.ts";
import { Ec2Throttle, type ThrottleCall } from "./throttle.ts";
import type {
  Ec2Action,
  Ec2Filters,
  Ec2Mutation,
  Ec2Response,
  Ec2SimulationOptions,
  InstanceTypeSpec,
  LaunchInstanceRequest,
  LaunchInstanceResult,
  TerminateInstanceResult,
} from "./types.ts";
import { eniView } from "./views.ts";

export { Ec2SimError } from "./error.ts";
export type { ForcedFault } from "./knobs.ts";
export type { LatencyModel } from "./random.ts";
export { EC2_SIM_STATE_VERSION } from "./snapshot.ts";
export type * from "./snapshot.ts";
export type * from "./requests.ts";
export type { ThrottleCategory } from "../../ipamd/cloud/mod.ts";
export type * from "./types.ts";

const SEQUENTIAL: ThrottleCall = { unfilteredUnpaginated: false };

/** A listener told of each successful change, synchronously, before the action returns. */
export type Ec2MutationListener = (mutation: Ec2Mutation) => void;

/**
 * One EC2 account/VPC. Actions throw `Ec2SimError` with EC2's codes. Its state can
 * be taken as plain data (`exportState`) and rebuilt (`fromState`); fault knobs and
 * throttle settings are not part of it.
 */
export class Ec2Simulation {
  readonly clock: Clock;
  /** Per-action forced errors and transport latencies. */
  readonly knobs: Ec2FaultKnobs;
  /** Account-wide request throttling; off until `throttle.enable()`. */
  readonly throttle = new Ec2Throttle();
  /** The IAM policy of the role calling: every action allowed until withheld. */
  readonly iam: Ec2IamPolicy = new Ec2IamPolicy(() => this.#state.settings.ownerId);
  readonly #seed: number;
  readonly #faultRandom: SeededRandom;
  readonly #listeners = new Set<Ec2MutationListener>();
  #state: SimState;

  constructor(options: Ec2SimulationOptions) {
    const ids = new Ec2IdFactory(options.seed);
    const vpcCidr = parseCidr(options.vpcCidr);
    this.clock = options.clock;
    this.#seed = options.seed;
    this.#faultRandom = new SeededRandom(options.seed, "faults");
    this.knobs = new Ec2FaultKnobs(this.#faultRandom);
    this.#state = new SimState(
      {
        vpcId: options.vpcId ?? ids.resourceId("vpc"),
        vpcCidr,
        ownerId: options.ownerId ?? ids.accountId(),
        defaultGroupId: ids.resourceId("sg"),
        attachLatency: options.attachLatency ?? DEFAULT_ATTACH_LATENCY,
        detachLatency: options.detachLatency ?? DEFAULT_DETACH_LATENCY,
        maxUnattachedIpv4PerEni: options.maxUnattachedIpv4PerEni ?? 50,
      },
      options.clock,
      ids,
      new SeededRandom(options.seed, "latency"),
    );
    this.#state.attachTiming = this.knobs;
    for (const spec of options.subnets) addSubnet(this.#state, spec);
    for (const spec of options.instanceTypes ?? []) registerInstanceType(this.#state, spec);
  }

  /**
   * A simulation equal to the one `state` was exported from, on `clock`: ids,
   * addresses and latencies continue as the original's would. Throws a RangeError
   * for an unknown version and a TypeError or RangeError for malformed state.
   */
  static fromState(state: unknown, options: { readonly clock: Clock }): Ec2Simulation {
    const snapshot = parseSimState(state);
    const records = restoreSimState(snapshot, options.clock);
    const sim = new Ec2Simulation({
      vpcCidr: snapshot.vpc.cidrBlock,
      subnets: [],
      seed: snapshot.seed,
      clock: options.clock,
      vpcId: snapshot.vpc.vpcId,
      ownerId: snapshot.vpc.ownerId,
    });
    sim.#state = records;
    records.attachTiming = sim.knobs;
    sim.#faultRandom.seek(snapshot.random.faults);
    return sim;
  }

  /** Everything `fromState` needs, as fresh JSON-able data (pending transitions are not settled first). */
  exportState(): Ec2SimState {
    return snapshotSimState(this.#state, { seed: this.#seed, faultsPosition: this.#faultRandom.position });
  }

  /**
   * Calls `listener` synchronously after each successful mutating action, launch,
   * termination or instance type registration, before the call returns; an error it
   * throws reaches the caller (the change stays made). Returns a function that removes it.
   */
  onMutation(listener: Ec2MutationListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The VPC's id. */
  get vpcId(): string {
    return this.#state.settings.vpcId;
  }

  /** Makes an instance type known (DescribeInstanceTypes, launches). */
  registerInstanceType(spec: InstanceTypeSpec): void {
    registerInstanceType(this.#state, spec);
    this.#mutated("RegisterInstanceType");
  }

  /** Harness action (not gated): a running instance with its primary ENI at device 0. */
  launchInstance(request: LaunchInstanceRequest): LaunchInstanceResult {
    this.#state.settle();
    const result = launchInstance(this.#state, request);
    this.#mutated("LaunchInstance");
    return result;
  }

  /** Harness action (not gated): deletes delete-on-termination ENIs and leaves the others `available`. */
  terminateInstance(request: { readonly instanceId: string }): TerminateInstanceResult {
    this.#state.settle();
    const result = terminateInstance(this.#state, request.instanceId);
    this.#mutated("TerminateInstance");
    return result;
  }

  /**
   * Harness action (not gated): stops holding attaches (`knobs.holdAttaches`) and
   * completes every held one now; returns how many it completed.
   */
  releaseAttaches(): number {
    this.knobs.holdAttaches = false;
    const released = this.#state.releaseHeld();
    this.#mutated("ReleaseAttaches");
    return released;
  }

  createNetworkInterface(request: Req.CreateNetworkInterfaceRequest): Req.CreateNetworkInterfaceResult {
    return this.#gate("CreateNetworkInterface", () => ({
      networkInterface: eniView(this.#state, createNetworkInterface(this.#state, request)),
    }));
  }

  deleteNetworkInterface(request: { readonly networkInterfaceId: string }): Ec2Response {
    return this.#gate("DeleteNetworkInterface", () => {
      deleteNetworkInterface(this.#state, request.networkInterfaceId);
      return {};
    });
  }

  attachNetworkInterface(request: Req.AttachNetworkInterfaceRequest): Req.AttachNetworkInterfaceResult {
    return this.#gate("AttachNetworkInterface", () => ({
      attachmentId: attachNetworkInterface(this.#state, request),
      networkCardIndex: 0,
    }));
  }

  detachNetworkInterface(request: Req.DetachNetworkInterfaceRequest): Ec2Response {
    return this.#gate("DetachNetworkInterface", () => {
      detachNetworkInterface(this.#state, request);
      return {};
    });
  }

  modifyNetworkInterfaceAttribute(request: Req.ModifyNetworkInterfaceAttributeRequest): Ec2Response {
    return this.#gate("ModifyNetworkInterfaceAttribute", () => {
      modifyNetworkInterfaceAttribute(this.#state, request);
      return {};
    });
  }

  assignPrivateIpAddresses(request: Req.AssignPrivateIpAddressesRequest): Req.AssignPrivateIpAddressesResult {
    return this.#gate("AssignPrivateIpAddresses", () => {
      const taken = assignPrivateIpAddresses(this.#state, request);
      return {
        networkInterfaceId: request.networkInterfaceId,
        assignedPrivateIpAddresses: taken.ips.map(formatIpv4),
        assignedIpv4Prefixes: taken.prefixes.map((base) => formatCidr({ base, bits: 28 })),
      };
    });
  }

  unassignPrivateIpAddresses(request: Req.UnassignPrivateIpAddressesRequest): Ec2Response {
    return this.#gate("UnassignPrivateIpAddresses", () => {
      unassignPrivateIpAddresses(this.#state, request);
      return {};
    });
  }

  describeNetworkInterfaces(
    request: Req.DescribeNetworkInterfacesRequest = {},
  ): Req.DescribeNetworkInterfacesResult {
    const unpaged = request.maxResults === undefined && request.nextToken === undefined;
    return this.#gate(
      "DescribeNetworkInterfaces",
      () => describeNetworkInterfaces(this.#state, request),
      { unfilteredUnpaginated: unpaged && unfiltered(request.filters) },
    );
  }

  describeInstances(request: Req.DescribeInstancesRequest = {}): Req.DescribeInstancesResult {
    return this.#gate(
      "DescribeInstances",
      () => ({ reservations: describeInstances(this.#state, request) }),
      { unfilteredUnpaginated: unfiltered(request.filters) },
    );
  }

  describeSubnets(request: Req.DescribeSubnetsRequest = {}): Req.DescribeSubnetsResult {
    return this.#gate("DescribeSubnets", () => ({ subnets: describeSubnets(this.#state, request) }));
  }

  describeInstanceTypes(request: Req.DescribeInstanceTypesRequest = {}): Req.DescribeInstanceTypesResult {
    return this.#gate("DescribeInstanceTypes", () => ({
      instanceTypes: describeInstanceTypes(this.#state, request),
    }));
  }

  createTags(request: Req.CreateTagsRequest): Ec2Response {
    return this.#gate("CreateTags", () => {
      createTags(this.#state, request);
      return {};
    });
  }

  /**
   * `action` with `DryRun=true`: throttled like the call, then EC2's answer, which is
   * always an error (DryRunOperation when the role may call it, UnauthorizedOperation
   * when not, UnknownParameter for an action without DryRun). Nothing changes.
   */
  dryRun(action: Ec2Action): never {
    if (!DRY_RUN_ACTIONS.has(action)) {
      throw new Ec2SimError("UnknownParameter", "The parameter DryRun is not recognized", {
        requestId: this.#state.ids.requestId(),
      });
    }
    this.#gate(action, () => {
      throw new Ec2SimError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", {
        httpStatus: 412,
      });
    });
    throw new Error("unreachable: a dry run always fails");
  }

  /**
   * Issues a request id, completes due transitions, then throttles, checks the IAM
   * policy, injects faults and runs the action; after a successful mutating action,
   * tells the mutation listeners.
   */
  #gate<T extends object>(action: Ec2Action, run: () => T, call = SEQUENTIAL): T & Ec2Response {
    const requestId = this.#state.ids.requestId();
    let result: T;
    try {
      this.#state.settle();
      if (this.throttle.admit(action, call, this.clock.now()) > 0) {
        throw new Ec2SimError("RequestLimitExceeded", "Request limit exceeded.");
      }
      this.iam.authorize(action);
      const forced = this.knobs.draw(action);
      if (forced !== null) throw forced;
      result = run();
    } catch (error) {
      if (!(error instanceof Ec2SimError)) throw error;
      throw new Ec2SimError(error.code, error.message, { httpStatus: error.httpStatus, requestId });
    }
    if (!action.startsWith("Describe")) this.#mutated(action as Ec2Mutation);
    return { ...result, requestId };
  }

  #mutated(mutation: Ec2Mutation): void {
    for (const listener of this.#listeners) listener(mutation);
  }
}

function unfiltered(filters: Ec2Filters | undefined): boolean {
  return filters === undefined || Object.keys(filters).length === 0;
}
