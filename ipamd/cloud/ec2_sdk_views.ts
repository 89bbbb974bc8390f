/**
 * SDK shapes to ours: an SDK `NetworkInterface` becomes an `EniRecord`, and an
 * ENI IMDS lists plus EC2's record of it become an `AttachedEni`. SDK types go
 * no further than the adapter's files.
 *
 * @module
 */
import type { InstanceTypeInfo as SdkInstanceType, NetworkInterface, Tag } from "./ec2_sdk_api.ts";
import type { DescribedInstanceType } from "../limits/mod.ts";
import type { EniRecord } from "./eni_directory.ts";
import type { AttachedEni } from "./ec2_port.ts";
import type { ImdsEni } from "./imds_api.ts";

/** Our record of an SDK `NetworkInterface`. */
export function eniRecordFromSdk(eni: NetworkInterface): EniRecord {
  const attachment = eni.Attachment;
  return {
    eniId: eni.NetworkInterfaceId ?? "",
    mac: eni.MacAddress ?? "",
    status: eni.Status ?? "",
    interfaceType: eni.InterfaceType ?? "interface",
    description: eni.Description ?? "",
    subnetId: eni.SubnetId ?? "",
    vpcId: eni.VpcId ?? "",
    primaryIp: eni.PrivateIpAddress ?? "",
    cidrs: [
      ...(eni.PrivateIpAddresses ?? []).filter((ip) =>
        ip.Primary !== true && ip.PrivateIpAddress !== undefined
      )
        .map((ip) => `${ip.PrivateIpAddress}/32`),
      ...(eni.Ipv4Prefixes ?? []).flatMap((prefix) =>
        prefix.Ipv4Prefix === undefined ? [] : [prefix.Ipv4Prefix]
      ),
    ],
    tags: tagRecord(eni.TagSet),
    attachment: attachment?.AttachmentId === undefined ? null : {
      attachmentId: attachment.AttachmentId,
      instanceId: attachment.InstanceId ?? "",
      deviceIndex: attachment.DeviceIndex ?? -1,
      status: attachment.Status ?? "",
    },
  };
}

/** Tags as a record (a "__proto__" key stays a key). */
export function tagRecord(tags: readonly Tag[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]));
}

/** Tags as the SDK takes them. */
export function sdkTags(tags: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** DescribeInstanceTypes' answer in the limits module's terms. */
export function describedInstanceType(info: SdkInstanceType): DescribedInstanceType | null {
  const network = info.NetworkInfo;
  if (network?.MaximumNetworkInterfaces === undefined || network.Ipv4AddressesPerInterface === undefined) {
    return null;
  }
  return {
    maximumNetworkInterfaces: network.MaximumNetworkInterfaces,
    ipv4AddressesPerInterface: network.Ipv4AddressesPerInterface,
    hypervisor: info.Hypervisor,
    bareMetal: info.BareMetal,
    ...(info.VCpuInfo?.DefaultVCpus === undefined ? {} : { defaultVcpus: info.VCpuInfo.DefaultVCpus }),
    defaultNetworkCardIndex: network.DefaultNetworkCardIndex,
    networkCards: network.NetworkCards?.map((card) => ({
      networkCardIndex: card.NetworkCardIndex ?? 0,
      maximumNetworkInterfaces: card.MaximumNetworkInterfaces ?? 0,
    })),
  };
}

/**
 * An attached ENI from what IMDS lists (device, MAC, subnet) and what EC2 says
 * (addresses, tags; EC2 is ahead of IMDS for addresses). Without an EC2 record
 * IMDS's addresses are used.
 */
export function attachedEni(imds: ImdsEni, record: EniRecord | undefined): AttachedEni {
  return {
    eniId: imds.eniId,
    deviceNumber: imds.deviceNumber,
    primary: imds.deviceNumber === 0,
    mac: imds.mac,
    primaryIp: record?.primaryIp || imds.primaryIp,
    subnetId: imds.subnetId || (record?.subnetId ?? ""),
    subnetCidr: imds.subnetCidr,
    cidrs: [...(record?.cidrs ?? imds.cidrs)],
    tags: { ...record?.tags },
  };
}
