/**
 * The simulation's describe actions: ENIs (filters, MaxResults/NextToken pages),
 * instances, subnets and instance types. Internal to the ec2_sim files.
 *
 * @module
 */

import { combinationError, Ec2SimError } from "./error.ts";
import {
  checkFilters,
  checkMaxResults,
  decodeNextToken,
  encodeNextToken,
  type FilterTarget,
  matchesFilters,
} from "./filters.ts";
import type {
  DescribeInstancesRequest,
  DescribeInstanceTypesRequest,
  DescribeNetworkInterfacesRequest,
  DescribeSubnetsRequest,
} from "./requests.ts";
import type { SimState } from "./state.ts";
import type {
  Ec2Filters,
  InstanceTypeView,
  NetworkInterfaceView,
  ReservationView,
  SubnetView,
} from "./types.ts";
import {
  eniFilterTarget,
  eniView,
  instanceFilterTarget,
  instanceTypeView,
  instanceView,
  subnetFilterTarget,
  subnetView,
} from "./views.ts";

/** DescribeNetworkInterfaces: by ids (all must exist) or all, filtered, optionally one page at a time. */
export function describeNetworkInterfaces(
  state: SimState,
  request: DescribeNetworkInterfacesRequest,
): { networkInterfaces: NetworkInterfaceView[]; nextToken?: string } {
  const target = eniFilterTarget(state);
  checkFilters(request.filters, target);
  if (request.networkInterfaceIds !== undefined && request.maxResults !== undefined) {
    throw combinationError("The parameter NetworkInterfaceIds cannot be used with the parameter MaxResults");
  }
  checkMaxResults(request.maxResults, 5, 1000);
  const after = request.nextToken === undefined ? 0 : decodeNextToken(request.nextToken);
  const candidates = request.networkInterfaceIds === undefined
    ? [...state.enis.values()]
    : request.networkInterfaceIds.map((id) => state.eni(id));
  const matching = candidates.filter((eni) =>
    eni.seq > after && matchesFilters(eni, request.filters, target)
  );
  const limit = request.maxResults ?? matching.length;
  const page = matching.slice(0, limit);
  const views = page.map((eni) => eniView(state, eni));
  const last = page.at(-1);
  if (matching.length > limit && last !== undefined) {
    return { networkInterfaces: views, nextToken: encodeNextToken(last.seq) };
  }
  return { networkInterfaces: views };
}

/** DescribeInstances: one reservation per instance, terminated ones included. */
export function describeInstances(state: SimState, request: DescribeInstancesRequest): ReservationView[] {
  const target = instanceFilterTarget(state);
  checkFilters(request.filters, target);
  const instances = request.instanceIds === undefined
    ? [...state.instances.values()]
    : request.instanceIds.map((id) => state.instance(id));
  return select(instances, request.filters, target).map((instance) => ({
    reservationId: instance.reservationId,
    ownerId: state.settings.ownerId,
    instances: [instanceView(state, instance)],
  }));
}

/** DescribeSubnets, with AvailableIpAddressCount as of now. */
export function describeSubnets(state: SimState, request: DescribeSubnetsRequest): SubnetView[] {
  const target = subnetFilterTarget(state);
  checkFilters(request.filters, target);
  const subnets = request.subnetIds === undefined
    ? [...state.subnets.values()]
    : request.subnetIds.map((id) => state.subnet(id));
  return select(subnets, request.filters, target).map((subnet) => subnetView(state, subnet));
}

/** DescribeInstanceTypes for the types registered with the simulation. */
export function describeInstanceTypes(
  state: SimState,
  request: DescribeInstanceTypesRequest,
): InstanceTypeView[] {
  const names = request.instanceTypes ?? [...state.instanceTypes.keys()];
  const unknown = names.filter((name) => !state.instanceTypes.has(name));
  if (unknown.length > 0) {
    throw new Ec2SimError(
      "InvalidInstanceType",
      `The following supplied instance types do not exist: [${unknown.join(", ")}]`,
    );
  }
  return names.flatMap((name) => {
    const type = state.instanceTypes.get(name);
    return type === undefined ? [] : [instanceTypeView(type)];
  });
}

function select<T>(items: readonly T[], filters: Ec2Filters | undefined, target: FilterTarget<T>): T[] {
  return [...new Set(items)].filter((item) => matchesFilters(item, filters, target));
}
