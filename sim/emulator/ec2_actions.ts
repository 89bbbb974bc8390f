/**
 * The EC2 actions the emulator answers: each reads its Query parameters into the
 * simulation's request, calls the simulation (which issues the request id and
 * applies throttling and forced faults) and writes the result as the response
 * body. Unknown parameters are rejected after the read.
 *
 * @module
 */

import {
  combinationError,
  type Ec2Action,
  Ec2SimError,
  type Ec2Simulation,
  type Ec2Tag,
} from "../ec2/mod.ts";
import { instanceTypeXml, networkInterfaceXml, reservationXml, RETURN_TRUE, subnetXml } from "./ec2_xml.ts";
import { page } from "./ec2_paging.ts";
import type { QueryParams } from "./query_params.ts";
import { itemSet, leaf, node } from "./xml.ts";

/** A successful action: the simulation's request id and the XML inside the response element. */
export interface ActionAnswer {
  readonly requestId: string;
  readonly body: string;
}

/** What an action works on. */
export interface ActionContext {
  readonly sim: Ec2Simulation;
  /** CreateNetworkInterface answers by ClientToken (EC2's idempotency). */
  readonly createdByToken: Map<string, { readonly fingerprint: string; readonly body: string }>;
}

/** How many ClientTokens are remembered (oldest forgotten first). */
const MAX_CLIENT_TOKENS = 10_000;

type ActionHandler = (params: QueryParams, context: ActionContext) => ActionAnswer;

/** Every action the emulator serves. */
export const EC2_ACTIONS: Readonly<Record<Ec2Action, ActionHandler>> = {
  CreateNetworkInterface: createNetworkInterface,
  DeleteNetworkInterface(params, { sim }) {
    const networkInterfaceId = params.required("NetworkInterfaceId");
    params.rejectUnused();
    return { requestId: sim.deleteNetworkInterface({ networkInterfaceId }).requestId, body: RETURN_TRUE };
  },
  AttachNetworkInterface(params, { sim }) {
    const request = {
      networkInterfaceId: params.required("NetworkInterfaceId"),
      instanceId: params.required("InstanceId"),
      deviceIndex: requiredInteger(params, "DeviceIndex"),
      ...optional("networkCardIndex", params.integer("NetworkCardIndex")),
    };
    params.rejectUnused();
    const result = sim.attachNetworkInterface(request);
    return {
      requestId: result.requestId,
      body: leaf("attachmentId", result.attachmentId) + leaf("networkCardIndex", result.networkCardIndex),
    };
  },
  DetachNetworkInterface(params, { sim }) {
    const request = {
      attachmentId: params.required("AttachmentId"),
      ...optional("force", params.boolean("Force")),
    };
    params.rejectUnused();
    return { requestId: sim.detachNetworkInterface(request).requestId, body: RETURN_TRUE };
  },
  ModifyNetworkInterfaceAttribute(params, { sim }) {
    const attachmentId = params.string("Attachment.AttachmentId");
    const deleteOnTermination = params.boolean("Attachment.DeleteOnTermination");
    if ((attachmentId === undefined) !== (deleteOnTermination === undefined)) {
      throw combinationError("Attachment.AttachmentId and Attachment.DeleteOnTermination go together");
    }
    const request = {
      networkInterfaceId: params.required("NetworkInterfaceId"),
      ...optional("groups", params.list("SecurityGroupId")),
      ...optional("description", params.string("Description.Value")),
      ...optional("sourceDestCheck", params.boolean("SourceDestCheck.Value")),
      ...(attachmentId === undefined || deleteOnTermination === undefined
        ? {}
        : { attachment: { attachmentId, deleteOnTermination } }),
    };
    params.rejectUnused();
    return { requestId: sim.modifyNetworkInterfaceAttribute(request).requestId, body: RETURN_TRUE };
  },
  AssignPrivateIpAddresses(params, { sim }) {
    params.accept("AllowReassignment");
    const request = {
      networkInterfaceId: params.required("NetworkInterfaceId"),
      ...optional("secondaryPrivateIpAddressCount", params.integer("SecondaryPrivateIpAddressCount")),
      ...optional("privateIpAddresses", params.list("PrivateIpAddress")),
      ...optional("ipv4PrefixCount", params.integer("Ipv4PrefixCount")),
      ...optional("ipv4Prefixes", params.list("Ipv4Prefix")),
    };
    params.rejectUnused();
    const result = sim.assignPrivateIpAddresses(request);
    const body = leaf("networkInterfaceId", result.networkInterfaceId) +
      itemSet(
        "assignedPrivateIpAddressesSet",
        result.assignedPrivateIpAddresses.map((ip) => leaf("privateIpAddress", ip)),
      ) +
      itemSet(
        "assignedIpv4PrefixSet",
        result.assignedIpv4Prefixes.map((prefix) => leaf("ipv4Prefix", prefix)),
      );
    return { requestId: result.requestId, body };
  },
  UnassignPrivateIpAddresses(params, { sim }) {
    const request = {
      networkInterfaceId: params.required("NetworkInterfaceId"),
      ...optional("privateIpAddresses", params.list("PrivateIpAddress")),
      ...optional("ipv4Prefixes", params.list("Ipv4Prefix")),
    };
    params.rejectUnused();
    return { requestId: sim.unassignPrivateIpAddresses(request).requestId, body: RETURN_TRUE };
  },
  DescribeNetworkInterfaces(params, { sim }) {
    const request = {
      ...optional("networkInterfaceIds", params.list("NetworkInterfaceId")),
      ...optional("filters", params.filters()),
      ...optional("maxResults", params.integer("MaxResults")),
      ...optional("nextToken", params.string("NextToken")),
    };
    params.rejectUnused();
    const result = sim.describeNetworkInterfaces(request);
    const body = itemSet("networkInterfaceSet", result.networkInterfaces.map(networkInterfaceXml)) +
      leaf("nextToken", result.nextToken);
    return { requestId: result.requestId, body };
  },
  DescribeInstances(params, { sim }) {
    const instanceIds = params.list("InstanceId");
    const request = { ...optional("instanceIds", instanceIds), ...optional("filters", params.filters()) };
    const paging = pagingParams(params);
    if (instanceIds !== undefined && paging.maxResults !== undefined) {
      throw combinationError("The parameter instancesSet cannot be used with the parameter maxResults");
    }
    params.rejectUnused();
    const result = sim.describeInstances(request);
    const { items, nextToken } = page(result.reservations, {
      action: "DescribeInstances",
      ...paging,
      min: 5,
      max: 1000,
    });
    const body = itemSet("reservationSet", items.map(reservationXml)) + leaf("nextToken", nextToken);
    return { requestId: result.requestId, body };
  },
  DescribeSubnets(params, { sim }) {
    const request = {
      ...optional("subnetIds", params.list("SubnetId")),
      ...optional("filters", params.filters()),
    };
    const paging = pagingParams(params);
    params.rejectUnused();
    const result = sim.describeSubnets(request);
    const { items, nextToken } = page(result.subnets, {
      action: "DescribeSubnets",
      ...paging,
      min: 5,
      max: 1000,
    });
    return {
      requestId: result.requestId,
      body: itemSet("subnetSet", items.map(subnetXml)) + leaf("nextToken", nextToken),
    };
  },
  DescribeInstanceTypes(params, { sim }) {
    const request = optional("instanceTypes", params.list("InstanceType"));
    const paging = pagingParams(params);
    params.rejectUnused();
    const result = sim.describeInstanceTypes(request);
    const { items, nextToken } = page(result.instanceTypes, {
      action: "DescribeInstanceTypes",
      ...paging,
      min: 5,
      max: 100,
    });
    const body = itemSet("instanceTypeSet", items.map(instanceTypeXml)) + leaf("nextToken", nextToken);
    return { requestId: result.requestId, body };
  },
  CreateTags(params, { sim }) {
    const request = { resources: params.list("ResourceId") ?? [], tags: params.tags("Tag") };
    params.rejectUnused();
    return { requestId: sim.createTags(request).requestId, body: RETURN_TRUE };
  },
};

function createNetworkInterface(params: QueryParams, context: ActionContext): ActionAnswer {
  const clientToken = params.string("ClientToken");
  const interfaceType = params.string("InterfaceType");
  if (interfaceType !== undefined && interfaceType !== "interface") {
    throw new Ec2SimError(
      "InvalidParameterValue",
      `The emulator only creates interfaces of type 'interface'`,
    );
  }
  const request = {
    subnetId: params.required("SubnetId"),
    ...optional("description", params.string("Description")),
    ...optional("groups", params.list("SecurityGroupId")),
    ...optional("secondaryPrivateIpAddressCount", params.integer("SecondaryPrivateIpAddressCount")),
    ...optional("ipv4PrefixCount", params.integer("Ipv4PrefixCount")),
    tags: tagSpecifications(params, "network-interface"),
  };
  params.rejectUnused();
  const fingerprint = JSON.stringify(request);
  const earlier = clientToken === undefined ? undefined : context.createdByToken.get(clientToken);
  if (earlier !== undefined) {
    if (earlier.fingerprint !== fingerprint) {
      throw new Ec2SimError(
        "IdempotentParameterMismatch",
        `Client token '${clientToken}' was already used with different parameters`,
      );
    }
    return { requestId: crypto.randomUUID(), body: earlier.body };
  }
  const result = context.sim.createNetworkInterface(request);
  const body = node("networkInterface", networkInterfaceXml(result.networkInterface));
  if (clientToken !== undefined) {
    context.createdByToken.set(clientToken, { fingerprint, body });
    const oldest = context.createdByToken.keys().next();
    if (context.createdByToken.size > MAX_CLIENT_TOKENS && oldest.done !== true) {
      context.createdByToken.delete(oldest.value);
    }
  }
  return { requestId: result.requestId, body };
}

/** Tags of the `TagSpecification.N` entries for `resourceType` (others are refused). */
function tagSpecifications(params: QueryParams, resourceType: string): Ec2Tag[] {
  return params.indices("TagSpecification").flatMap((index) => {
    const type = params.string(`TagSpecification.${index}.ResourceType`);
    if (type !== undefined && type !== resourceType) {
      throw new Ec2SimError(
        "InvalidParameterValue",
        `'${type}' is not a valid taggable resource type for this operation.`,
      );
    }
    return params.tags(`TagSpecification.${index}.Tag`);
  });
}

function pagingParams(params: QueryParams): { maxResults?: number; nextToken?: string } {
  return {
    ...optional("maxResults", params.integer("MaxResults")),
    ...optional("nextToken", params.string("NextToken")),
  };
}

function requiredInteger(params: QueryParams, name: string): number {
  params.required(name);
  return params.integer(name) ?? 0;
}

/** `{ [key]: value }`, or `{}` when the value is undefined (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : { [key]: value } as { [P in K]: V };
}
