/**
 * ENI actions of the simulation: create, delete, modify, and the address actions
 * (assign, unassign) with EC2's limit, capacity and fragmentation failures.
 * Internal to the ec2_sim files; `Ec2Simulation` calls these through its gate.
 *
 * @module
 */

import { formatCidr, formatIpv4, parseCidr, parseIpv4 } from "../../shared/mod.ts";
import {
  checkCount,
  combinationError,
  Ec2SimError,
  invalidValueError,
  missingParameterError,
} from "./error.ts";
import type {
  AssignPrivateIpAddressesRequest,
  CreateNetworkInterfaceRequest,
  ModifyNetworkInterfaceAttributeRequest,
  UnassignPrivateIpAddressesRequest,
} from "./requests.ts";
import type { EniRecord, SimState, SubnetRecord } from "./state.ts";
import type { Ec2Tag } from "./types.ts";

/** CreateNetworkInterface: a new `available` ENI with its primary address and any requested extras. */
export function createNetworkInterface(state: SimState, request: CreateNetworkInterfaceRequest): EniRecord {
  if (request.subnetId === "") throw missingParameterError("SubnetId");
  const subnet = state.subnet(request.subnetId);
  checkCount("SecondaryPrivateIpAddressCount", request.secondaryPrivateIpAddressCount, 0);
  checkCount("Ipv4PrefixCount", request.ipv4PrefixCount, 0);
  const secondaries = request.secondaryPrivateIpAddressCount ?? 0;
  const prefixes = request.ipv4PrefixCount ?? 0;
  if (secondaries > 0 && prefixes > 0) {
    throw combinationError("SecondaryPrivateIpAddressCount and Ipv4PrefixCount cannot be combined");
  }
  if (1 + secondaries + prefixes > state.settings.maxUnattachedIpv4PerEni) throw ipLimitError();
  const groups = checkGroups(request.groups ?? [], state.settings.defaultGroupId);
  const tags = checkTags(request.tags ?? []);
  const [primaryIp = 0, ...secondaryIps] = takeAddresses(subnet, 1 + secondaries);
  let prefixBases: number[];
  try {
    prefixBases = takePrefixes(subnet, prefixes);
  } catch (error) {
    for (const ip of [primaryIp, ...secondaryIps]) subnet.pool.releaseAddress(ip);
    throw error;
  }
  const eni: EniRecord = {
    seq: state.nextSeq(),
    networkInterfaceId: state.ids.resourceId("eni"),
    subnet,
    description: request.description ?? "",
    groups,
    tags: new Map(tags.map((tag) => [tag.key, tag.value])),
    macAddress: state.ids.macAddress(),
    primaryIp,
    secondaryIps,
    prefixes: prefixBases,
    sourceDestCheck: true,
    attachment: null,
  };
  state.enis.set(eni.networkInterfaceId, eni);
  return eni;
}

/** DeleteNetworkInterface: only an ENI with no attachment can go. */
export function deleteNetworkInterface(state: SimState, networkInterfaceId: string): void {
  if (networkInterfaceId === "") throw missingParameterError("NetworkInterfaceId");
  const eni = state.eni(networkInterfaceId);
  if (eni.attachment !== null) {
    throw new Ec2SimError(
      "InvalidNetworkInterface.InUse",
      `The network interface '${networkInterfaceId}' is currently in use.`,
    );
  }
  state.deleteNow(eni);
}

/** ModifyNetworkInterfaceAttribute: one attribute per call. */
export function modifyNetworkInterfaceAttribute(
  state: SimState,
  request: ModifyNetworkInterfaceAttributeRequest,
): void {
  const eni = state.eni(request.networkInterfaceId);
  const given = [request.attachment, request.groups, request.description, request.sourceDestCheck]
    .filter((value) => value !== undefined).length;
  if (given === 0) throw missingParameterError("Attachment, SecurityGroupId, Description or SourceDestCheck");
  if (given > 1) throw combinationError("Only one attribute can be modified at a time");
  if (request.attachment !== undefined) {
    const owner = state.attached(request.attachment.attachmentId);
    if (owner !== eni) {
      throw new Ec2SimError(
        "InvalidAttachmentID.NotFound",
        `The attachment '${request.attachment.attachmentId}' does not belong to '${eni.networkInterfaceId}'`,
      );
    }
    owner.attachment.deleteOnTermination = request.attachment.deleteOnTermination;
  } else if (request.groups !== undefined) {
    if (request.groups.length === 0) throw missingParameterError("SecurityGroupId");
    eni.groups = checkGroups(request.groups, state.settings.defaultGroupId);
  } else if (request.description !== undefined) {
    eni.description = request.description;
  } else if (request.sourceDestCheck !== undefined) {
    eni.sourceDestCheck = request.sourceDestCheck;
  }
}

/** AssignPrivateIpAddresses: all requested addresses, or none and an EC2 error. */
export function assignPrivateIpAddresses(
  state: SimState,
  request: AssignPrivateIpAddressesRequest,
): { ips: number[]; prefixes: number[] } {
  const eni = state.eni(request.networkInterfaceId);
  const { secondaryPrivateIpAddressCount: ipCount, privateIpAddresses: ips } = request;
  const { ipv4PrefixCount: prefixCount, ipv4Prefixes: prefixes } = request;
  const forms = [ipCount, ips, prefixCount, prefixes].filter((value) => value !== undefined).length;
  if (forms === 0) {
    throw missingParameterError(
      "SecondaryPrivateIpAddressCount, PrivateIpAddress, Ipv4PrefixCount or Ipv4Prefix",
    );
  }
  if (forms > 1) throw combinationError("Specify only one of the address or prefix parameters");
  checkCount("SecondaryPrivateIpAddressCount", ipCount);
  checkCount("Ipv4PrefixCount", prefixCount);
  if (ips?.length === 0) throw missingParameterError("PrivateIpAddress");
  if (prefixes?.length === 0) throw missingParameterError("Ipv4Prefix");
  const wanted = ipCount ?? prefixCount ?? ips?.length ?? prefixes?.length ?? 0;
  if (state.addressCount(eni) + wanted > state.ipv4Limit(eni)) throw ipLimitError();
  const pool = eni.subnet.pool;
  let taken: { ips: number[]; prefixes: number[] };
  if (ipCount !== undefined) {
    taken = { ips: takeAddresses(eni.subnet, ipCount), prefixes: [] };
  } else if (prefixCount !== undefined) {
    taken = { ips: [], prefixes: takePrefixes(eni.subnet, prefixCount) };
  } else if (ips !== undefined) {
    const wantedIps = distinct(ips.map((text) => parseAddress(text, "PrivateIpAddress")));
    for (const ip of wantedIps) checkFreeAddress(eni.subnet, ip);
    for (const ip of wantedIps) pool.takeAddress(ip);
    taken = { ips: wantedIps, prefixes: [] };
  } else {
    const bases = distinct((prefixes ?? []).map((text) => parsePrefix(text)));
    for (const base of bases) {
      if (!pool.prefixFree(base)) {
        throw invalidValueError(`Prefix ${formatCidr({ base, bits: 28 })} is not free in the subnet`);
      }
    }
    for (const base of bases) pool.takePrefix(base);
    taken = { ips: [], prefixes: bases };
  }
  eni.secondaryIps.push(...taken.ips);
  eni.prefixes.push(...taken.prefixes);
  return taken;
}

/** UnassignPrivateIpAddresses: every listed address must be a secondary (or prefix) of the ENI. */
export function unassignPrivateIpAddresses(
  state: SimState,
  request: UnassignPrivateIpAddressesRequest,
): void {
  const eni = state.eni(request.networkInterfaceId);
  const ips = distinct(
    (request.privateIpAddresses ?? []).map((text) => parseAddress(text, "PrivateIpAddress")),
  );
  const prefixes = distinct((request.ipv4Prefixes ?? []).map((text) => parsePrefix(text)));
  if (ips.length === 0 && prefixes.length === 0) {
    throw missingParameterError("PrivateIpAddress or Ipv4Prefix");
  }
  if (ips.includes(eni.primaryIp)) {
    throw invalidValueError(
      `The primary IP address of interface ${eni.networkInterfaceId} cannot be unassigned`,
    );
  }
  if (ips.some((ip) => !eni.secondaryIps.includes(ip))) {
    throw invalidValueError(
      `Some of the specified addresses are not assigned to interface ${eni.networkInterfaceId}`,
    );
  }
  if (prefixes.some((base) => !eni.prefixes.includes(base))) {
    throw invalidValueError(
      `Some of the specified prefixes are not assigned to interface ${eni.networkInterfaceId}`,
    );
  }
  for (const ip of ips) {
    eni.secondaryIps.splice(eni.secondaryIps.indexOf(ip), 1);
    eni.subnet.pool.releaseAddress(ip);
  }
  for (const base of prefixes) {
    eni.prefixes.splice(eni.prefixes.indexOf(base), 1);
    eni.subnet.pool.releasePrefix(base);
  }
}

/** Checks tag keys as CreateTags and TagSpecifications do. */
export function checkTags(tags: readonly Ec2Tag[]): readonly Ec2Tag[] {
  for (const tag of tags) {
    if (tag.key === "" || tag.key.length > 127) throw invalidValueError(`Tag key '${tag.key}' is invalid`);
    if (tag.key.toLowerCase().startsWith("aws:")) {
      throw invalidValueError(`Tag keys starting with 'aws:' are reserved for internal use: '${tag.key}'`);
    }
    if (tag.value.length > 255) throw invalidValueError(`Tag value for key '${tag.key}' is too long`);
  }
  return tags;
}

function ipLimitError(): Ec2SimError {
  return new Ec2SimError("PrivateIpAddressLimitExceeded", "Number of private addresses will exceed limit.");
}

function takeAddresses(subnet: SubnetRecord, count: number): number[] {
  const taken = subnet.pool.takeAddresses(count);
  if (taken === null) {
    throw new Ec2SimError(
      "InsufficientFreeAddressesInSubnet",
      "The specified subnet does not have enough free addresses to satisfy the request.",
    );
  }
  return taken;
}

function takePrefixes(subnet: SubnetRecord, count: number): number[] {
  if (count === 0) return [];
  const taken = subnet.pool.takePrefixes(count);
  if (taken === null) {
    throw new Ec2SimError(
      "InsufficientCidrBlocks",
      "The specified subnet does not have enough free cidr blocks to satisfy the request.",
    );
  }
  return taken;
}

function checkFreeAddress(subnet: SubnetRecord, ip: number): void {
  const address = formatIpv4(ip);
  switch (subnet.pool.checkAddress(ip)) {
    case "outside":
      throw invalidValueError(`Address ${address} does not fall within the subnet's address range`);
    case "reserved":
      throw invalidValueError(`Address ${address} is in subnet's reserved address range`);
    case "in-use":
      throw new Ec2SimError("InvalidIPAddress.InUse", `Address ${address} is in use.`);
  }
}

function checkGroups(groups: readonly string[], defaultGroupId: string): readonly string[] {
  for (const group of groups) {
    if (!/^sg-[0-9a-z]+$/.test(group)) {
      throw new Ec2SimError("InvalidGroupId.Malformed", `Invalid id: "${group}" (expecting "sg-...")`);
    }
  }
  return groups.length === 0 ? [defaultGroupId] : [...new Set(groups)];
}

function parseAddress(text: string, parameter: string): number {
  try {
    return parseIpv4(text);
  } catch {
    throw invalidValueError(`Invalid value '${text}' for ${parameter}`);
  }
}

function parsePrefix(text: string): number {
  try {
    const cidr = parseCidr(text);
    if (cidr.bits === 28) return cidr.base;
  } catch {
    // Reported below.
  }
  throw invalidValueError(`Invalid value '${text}' for Ipv4Prefix: expecting an aligned /28`);
}

function distinct(values: readonly number[]): number[] {
  return [...new Set(values)];
}
