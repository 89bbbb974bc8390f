/**
 * Rebuilds the simulation's live records from an `Ec2SimState`, checking every
 * cross-reference: subnets and instances exist, each ENI address lies in its subnet,
 * is taken there and belongs to one ENI only, device indexes and attachment ids are
 * unique. Internal to the ec2_sim files.
 *
 * @module
 */

import { cidrContains, type Clock, formatCidr, parseCidr, parseIpv4 } from "../../shared/mod.ts";
import { registerInstanceType } from "./attach_ops.ts";
import { Ec2IdFactory, SeededRandom } from "./random.ts";
import type { Ec2SimState, NetworkInterfaceState } from "./snapshot.ts";
import {
  addSubnet,
  type AttachmentRecord,
  type EniRecord,
  type InstanceRecord,
  SimState,
  type SubnetRecord,
} from "./state.ts";
import type { Ec2Tag } from "./types.ts";

const PREFIX = "Cannot restore EC2 simulation state";

/** Live records equal to those `snapshot` was taken from, on `clock`. */
export function restoreSimState(snapshot: Ec2SimState, clock: Clock): SimState {
  const latencyRandom = new SeededRandom(snapshot.seed, "latency");
  latencyRandom.seek(snapshot.random.latency);
  const state = new SimState(
    {
      vpcId: snapshot.vpc.vpcId,
      vpcCidr: parse(() => parseCidr(snapshot.vpc.cidrBlock), "VPC CIDR"),
      ownerId: snapshot.vpc.ownerId,
      defaultGroupId: snapshot.vpc.defaultGroupId,
      attachLatency: snapshot.attachLatency,
      detachLatency: snapshot.detachLatency,
      maxUnattachedIpv4PerEni: snapshot.maxUnattachedIpv4PerEni,
    },
    clock,
    Ec2IdFactory.restore(snapshot.seed, snapshot.idCounters),
    latencyRandom,
  );
  state.lastSeq = snapshot.lastEniSeq;
  for (const type of snapshot.instanceTypes) registerInstanceType(state, type);
  for (const spec of snapshot.subnets) {
    const subnet = addSubnet(state, { ...spec, cidr: spec.cidrBlock });
    subnet.pool.restoreTaken(spec.takenRanges);
  }
  for (const spec of snapshot.instances) {
    if (state.instances.has(spec.instanceId)) fail(`instance "${spec.instanceId}" appears twice`);
    const type = state.instanceTypes.get(spec.instanceType);
    if (type === undefined) fail(`instance "${spec.instanceId}" has unknown type "${spec.instanceType}"`);
    const instance: InstanceRecord = {
      instanceId: spec.instanceId,
      reservationId: spec.reservationId,
      type,
      subnet: subnetOf(state, spec.subnetId, `instance "${spec.instanceId}"`),
      groups: [...spec.groups],
      launchTimeMs: spec.launchTimeMs,
      privateIp: parse(() => parseIpv4(spec.privateIpAddress), `address of "${spec.instanceId}"`),
      tags: tagMap(spec.tags),
      state: spec.state,
      devices: new Map(),
    };
    state.instances.set(instance.instanceId, instance);
  }
  const claimed = new Set<number>();
  let previousSeq = 0;
  for (const spec of snapshot.networkInterfaces) {
    if (spec.seq <= previousSeq || spec.seq > state.lastSeq) {
      fail(
        `network interface "${spec.networkInterfaceId}" has sequence ${spec.seq} out of order ` +
          `(after ${previousSeq}, at most ${state.lastSeq})`,
      );
    }
    previousSeq = spec.seq;
    restoreEni(state, spec, claimed);
  }
  return state;
}

function restoreEni(state: SimState, spec: NetworkInterfaceState, claimed: Set<number>): void {
  const eniId = spec.networkInterfaceId;
  const what = `network interface "${eniId}"`;
  if (state.enis.has(eniId)) fail(`${what} appears twice`);
  const subnet = subnetOf(state, spec.subnetId, what);
  const claim = (address: number, text: string): void => {
    if (!cidrContains(subnet.pool.cidr, address) || subnet.pool.checkAddress(address) !== "in-use") {
      fail(`${what} holds ${text}, which is not a taken address of "${subnet.subnetId}"`);
    }
    if (claimed.has(address)) fail(`${what} holds ${text}, which another network interface holds too`);
    claimed.add(address);
  };
  const ips = [spec.privateIpAddress, ...spec.secondaryPrivateIpAddresses].map((text) => {
    const address = parse(() => parseIpv4(text), `address of ${what}`);
    claim(address, text);
    return address;
  });
  const prefixes = spec.ipv4Prefixes.map((text) => {
    const cidr = parse(() => parseCidr(text), `prefix of ${what}`);
    if (cidr.bits !== 28) fail(`${what} holds prefix ${text}, which is not a /28`);
    for (let i = 0; i < 16; i++) claim(cidr.base + i, formatCidr(cidr));
    return cidr.base;
  });
  const eni: EniRecord = {
    seq: spec.seq,
    networkInterfaceId: eniId,
    subnet,
    description: spec.description,
    groups: [...spec.groups],
    tags: tagMap(spec.tags),
    macAddress: spec.macAddress,
    primaryIp: ips[0] ?? 0,
    secondaryIps: ips.slice(1),
    prefixes,
    sourceDestCheck: spec.sourceDestCheck,
    attachment: null,
  };
  if (spec.attachment !== null) {
    const { attachmentId, instanceId, deviceIndex } = spec.attachment;
    const instance = state.instances.get(instanceId);
    if (instance === undefined) fail(`${what} is attached to unknown instance "${instanceId}"`);
    if (instance.devices.has(deviceIndex)) {
      fail(`${what} takes device ${deviceIndex} of "${instanceId}" twice`);
    }
    if (state.attachments.has(attachmentId)) fail(`attachment "${attachmentId}" appears twice`);
    const attachment: AttachmentRecord = {
      attachmentId,
      instance,
      deviceIndex,
      attachTimeMs: spec.attachment.attachTimeMs,
      deleteOnTermination: spec.attachment.deleteOnTermination,
      phase: spec.attachment.status,
      readyAtMs: spec.attachment.readyAtMs,
    };
    eni.attachment = attachment;
    instance.devices.set(deviceIndex, eni);
    state.attachments.set(attachmentId, eni);
  }
  state.enis.set(eniId, eni);
  state.resume(eni);
}

function subnetOf(state: SimState, subnetId: string, what: string): SubnetRecord {
  const subnet = state.subnets.get(subnetId);
  if (subnet === undefined) fail(`${what} is in unknown subnet "${subnetId}"`);
  return subnet;
}

function tagMap(tags: readonly Ec2Tag[]): Map<string, string> {
  return new Map(tags.map((tag) => [tag.key, tag.value]));
}

function parse<T>(run: () => T, what: string): T {
  try {
    return run();
  } catch (error) {
    throw new RangeError(`${PREFIX}: bad ${what}`, { cause: error });
  }
}

function fail(message: string): never {
  throw new RangeError(`${PREFIX}: ${message}`);
}
