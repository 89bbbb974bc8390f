/**
 * The simulation's views written as EC2 Query-protocol XML, with the element names
 * of the EC2 API model (`networkInterfaceSet`, `item`, `privateIpAddressesSet`, …)
 * that @aws-sdk/client-ec2's deserializers read; plus the success and error
 * envelopes (`requestId` in successes, `RequestID` in errors).
 *
 * @module
 */

import type {
  AttachmentView,
  Ec2Tag,
  InstanceTypeView,
  InstanceView,
  NetworkInterfaceView,
  ReservationView,
  SubnetView,
} from "../ec2/mod.ts";
import { itemSet, leaf, node, xmlDocument } from "./xml.ts";

/** The namespace of the API version the emulator speaks. */
export const EC2_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/";

/** `<ActionResponse xmlns=…><requestId>…</requestId>…</ActionResponse>` around an answer's body. */
export function successDocument(
  action: string,
  answer: { readonly requestId: string; readonly body: string },
): string {
  const head = `<${action}Response xmlns="${EC2_XMLNS}">${leaf("requestId", answer.requestId)}`;
  return xmlDocument(`${head}${answer.body}</${action}Response>`);
}

/** EC2's error document. */
export function errorDocument(
  error: { readonly code: string; readonly message: string; readonly requestId: string },
): string {
  return xmlDocument(
    node(
      "Response",
      node("Errors", node("Error", leaf("Code", error.code), leaf("Message", error.message))),
      leaf("RequestID", error.requestId),
    ),
  );
}

/** The body of actions that only acknowledge: `<return>true</return>`. */
export const RETURN_TRUE: string = leaf("return", true);

/** A `tagSet`. */
export function tagSetXml(tags: readonly Ec2Tag[]): string {
  return itemSet("tagSet", tags.map((tag) => leaf("key", tag.key) + leaf("value", tag.value)));
}

function groupSetXml(groups: readonly { readonly groupId: string }[]): string {
  return itemSet("groupSet", groups.map((group) => leaf("groupId", group.groupId)));
}

function addressSetsXml(view: NetworkInterfaceView): string {
  return itemSet(
    "privateIpAddressesSet",
    view.privateIpAddresses.map((address) =>
      leaf("privateIpAddress", address.privateIpAddress) + leaf("primary", address.primary)
    ),
  ) + itemSet("ipv4PrefixSet", view.ipv4Prefixes.map((prefix) => leaf("ipv4Prefix", prefix.ipv4Prefix)));
}

function attachmentXml(attachment: AttachmentView, withInstance: boolean): string {
  return node(
    "attachment",
    leaf("attachmentId", attachment.attachmentId),
    withInstance ? leaf("instanceId", attachment.instanceId) : "",
    withInstance ? leaf("instanceOwnerId", attachment.instanceOwnerId) : "",
    leaf("deviceIndex", attachment.deviceIndex),
    leaf("networkCardIndex", attachment.networkCardIndex),
    leaf("status", attachment.status),
    leaf("attachTime", attachment.attachTime),
    leaf("deleteOnTermination", attachment.deleteOnTermination),
  );
}

/** The children of a `networkInterface` (CreateNetworkInterface) or `networkInterfaceSet` item. */
export function networkInterfaceXml(view: NetworkInterfaceView): string {
  return [
    leaf("networkInterfaceId", view.networkInterfaceId),
    leaf("subnetId", view.subnetId),
    leaf("vpcId", view.vpcId),
    leaf("availabilityZone", view.availabilityZone),
    leaf("description", view.description),
    leaf("ownerId", view.ownerId),
    leaf("requesterManaged", view.requesterManaged),
    leaf("status", view.status),
    leaf("macAddress", view.macAddress),
    leaf("privateIpAddress", view.privateIpAddress),
    leaf("sourceDestCheck", view.sourceDestCheck),
    leaf("interfaceType", view.interfaceType),
    groupSetXml(view.groups),
    view.attachment === undefined ? "" : attachmentXml(view.attachment, true),
    tagSetXml(view.tagSet),
    addressSetsXml(view),
  ].join("");
}

/** An instance's ENI as DescribeInstances lists it (`InstanceNetworkInterface`). */
function instanceNetworkInterfaceXml(view: NetworkInterfaceView): string {
  return [
    leaf("networkInterfaceId", view.networkInterfaceId),
    leaf("subnetId", view.subnetId),
    leaf("vpcId", view.vpcId),
    leaf("description", view.description),
    leaf("ownerId", view.ownerId),
    leaf("status", view.status),
    leaf("macAddress", view.macAddress),
    leaf("privateIpAddress", view.privateIpAddress),
    leaf("sourceDestCheck", view.sourceDestCheck),
    leaf("interfaceType", view.interfaceType),
    groupSetXml(view.groups),
    view.attachment === undefined ? "" : attachmentXml(view.attachment, false),
    addressSetsXml(view),
  ].join("");
}

function instanceXml(view: InstanceView): string {
  return [
    leaf("instanceId", view.instanceId),
    node("instanceState", leaf("code", view.state.code), leaf("name", view.state.name)),
    leaf("instanceType", view.instanceType),
    leaf("launchTime", view.launchTime),
    node("placement", leaf("availabilityZone", view.placement.availabilityZone), leaf("tenancy", "default")),
    leaf("subnetId", view.subnetId),
    leaf("vpcId", view.vpcId),
    leaf("privateIpAddress", view.privateIpAddress),
    groupSetXml(view.securityGroups),
    itemSet("networkInterfaceSet", view.networkInterfaces.map(instanceNetworkInterfaceXml)),
  ].join("");
}

/** One `reservationSet` item. */
export function reservationXml(view: ReservationView): string {
  return leaf("reservationId", view.reservationId) + leaf("ownerId", view.ownerId) +
    itemSet("groupSet", []) + itemSet("instancesSet", view.instances.map(instanceXml));
}

/** One `subnetSet` item. */
export function subnetXml(view: SubnetView): string {
  return [
    leaf("subnetId", view.subnetId),
    leaf("state", view.state),
    leaf("vpcId", view.vpcId),
    leaf("cidrBlock", view.cidrBlock),
    leaf("availableIpAddressCount", view.availableIpAddressCount),
    leaf("availabilityZone", view.availabilityZone),
    leaf("defaultForAz", false),
    leaf("mapPublicIpOnLaunch", false),
    tagSetXml(view.tagSet),
  ].join("");
}

/** One `instanceTypeSet` item, with the single network card the simulation models. */
export function instanceTypeXml(view: InstanceTypeView): string {
  const info = view.networkInfo;
  return [
    leaf("instanceType", view.instanceType),
    leaf("currentGeneration", true),
    leaf("hypervisor", view.hypervisor),
    leaf("bareMetal", view.bareMetal),
    node(
      "networkInfo",
      leaf("maximumNetworkInterfaces", info.maximumNetworkInterfaces),
      leaf("maximumNetworkCards", info.maximumNetworkCards),
      leaf("defaultNetworkCardIndex", info.defaultNetworkCardIndex),
      itemSet(
        "networkCards",
        [info.defaultNetworkCardIndex].map((index) =>
          leaf("networkCardIndex", index) + leaf("maximumNetworkInterfaces", info.maximumNetworkInterfaces)
        ),
      ),
      leaf("ipv4AddressesPerInterface", info.ipv4AddressesPerInterface),
      leaf("ipv6Supported", false),
    ),
  ].join("");
}
