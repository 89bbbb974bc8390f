/**
 * The instance metadata as IMDS lays it out: a tree of plain-text values under
 * `/latest/meta-data/` and `/latest/dynamic/`. A directory answers with its
 * listing (sub-directories end in `/`); keys that do not apply are absent, so
 * they answer 404 as on a real instance (e.g. `ipv4-prefix` without prefixes).
 *
 * @module
 */

import type { ImdsInstance, ImdsInterface } from "./imds_facts.ts";

/** A metadata directory: values and sub-directories by name. */
export interface MetadataTree {
  readonly [name: string]: string | MetadataTree;
}

/** The whole metadata tree of an instance. */
export function metadataTree(instance: ImdsInstance): MetadataTree {
  const macs: Record<string, MetadataTree> = {};
  for (const eni of instance.interfaces) macs[eni.mac] = interfaceTree(eni);
  return {
    latest: {
      "meta-data": {
        "instance-id": instance.instanceId,
        "instance-type": instance.instanceType,
        "local-ipv4": instance.privateIp,
        ...(instance.mac === "" ? {} : { mac: instance.mac }),
        placement: { "availability-zone": instance.availabilityZone, region: instance.region },
        network: { interfaces: { macs } },
      },
      dynamic: { "instance-identity": { document: identityDocument(instance) } },
    },
  };
}

function interfaceTree(eni: ImdsInterface): MetadataTree {
  return {
    "device-number": String(eni.deviceNumber),
    "interface-id": eni.interfaceId,
    "local-ipv4s": eni.localIpv4s.join("\n"),
    mac: eni.mac,
    "owner-id": eni.ownerId,
    "security-group-ids": eni.securityGroupIds.join("\n"),
    "subnet-id": eni.subnetId,
    "subnet-ipv4-cidr-block": eni.subnetCidr,
    "vpc-id": eni.vpcId,
    "vpc-ipv4-cidr-block": eni.vpcCidr,
    "vpc-ipv4-cidr-blocks": eni.vpcCidr,
    ...(eni.ipv4Prefixes.length === 0 ? {} : { "ipv4-prefix": eni.ipv4Prefixes.join("\n") }),
  };
}

/** The instance identity document, pretty-printed JSON as IMDS serves it. */
function identityDocument(instance: ImdsInstance): string {
  return JSON.stringify(
    {
      accountId: instance.accountId,
      architecture: "x86_64",
      availabilityZone: instance.availabilityZone,
      instanceId: instance.instanceId,
      instanceType: instance.instanceType,
      pendingTime: instance.pendingTime,
      privateIp: instance.privateIp,
      region: instance.region,
      version: "2017-09-30",
    },
    null,
    2,
  );
}

/** The text at `path`: a value, or a directory's listing; null when nothing is there. */
export function lookupMetadata(tree: MetadataTree, path: string): string | null {
  let at: string | MetadataTree = tree;
  for (const segment of path.split("/").filter((part) => part !== "")) {
    if (typeof at === "string" || !Object.hasOwn(at, segment)) return null;
    at = at[segment]!;
  }
  if (typeof at === "string") return at;
  return Object.entries(at).map(([name, value]) => typeof value === "string" ? name : `${name}/`).join("\n");
}
