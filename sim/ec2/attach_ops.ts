/**
 * Instance-side actions of the simulation: launching and terminating instances
 * (harness operations, not gated), and attaching and detaching ENIs with EC2's
 * slot, device-index and state checks. Internal to the ec2_sim files.
 *
 * @module
 */

import { formatIpv4 } from "../../shared/mod.ts";
import { Ec2SimError, invalidValueError, missingParameterError } from "./error.ts";
import { createNetworkInterface } from "./eni_ops.ts";
import type { AttachNetworkInterfaceRequest, DetachNetworkInterfaceRequest } from "./requests.ts";
import type { AttachmentRecord, EniRecord, InstanceRecord, InstanceTypeRecord, SimState } from "./state.ts";
import type {
  InstanceTypeSpec,
  LaunchInstanceRequest,
  LaunchInstanceResult,
  TerminateInstanceResult,
} from "./types.ts";

/** Registers an instance type, or checks a re-registration matches. */
export function registerInstanceType(state: SimState, spec: InstanceTypeSpec): InstanceTypeRecord {
  for (const [name, value] of [["maxEnis", spec.maxEnis], ["ipv4PerEni", spec.ipv4PerEni]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`Cannot register instance type "${spec.instanceType}": ${name} is ${value}`);
    }
  }
  const record: InstanceTypeRecord = {
    instanceType: spec.instanceType,
    maxEnis: spec.maxEnis,
    ipv4PerEni: spec.ipv4PerEni,
    hypervisor: spec.hypervisor ?? "nitro",
    bareMetal: spec.bareMetal ?? false,
  };
  const known = state.instanceTypes.get(spec.instanceType);
  if (known !== undefined) {
    if (known.maxEnis !== record.maxEnis || known.ipv4PerEni !== record.ipv4PerEni) {
      throw new RangeError(`Cannot register instance type "${spec.instanceType}" again with other limits`);
    }
    return known;
  }
  state.instanceTypes.set(record.instanceType, record);
  return record;
}

/** Launches a running instance with its primary ENI attached at device 0 (delete-on-termination). */
export function launchInstance(state: SimState, request: LaunchInstanceRequest): LaunchInstanceResult {
  const { instanceType, maxEnis, ipv4PerEni } = request;
  const known = state.instanceTypes.get(instanceType);
  let type: InstanceTypeRecord;
  if (maxEnis !== undefined && ipv4PerEni !== undefined) {
    type = registerInstanceType(state, { instanceType, maxEnis, ipv4PerEni });
  } else if (known !== undefined && maxEnis === undefined && ipv4PerEni === undefined) {
    type = known;
  } else {
    throw new TypeError(`Cannot launch "${instanceType}": give both maxEnis and ipv4PerEni for a new type`);
  }
  const eni = createNetworkInterface(state, {
    subnetId: request.subnetId,
    groups: request.securityGroups ?? [],
  });
  const instance: InstanceRecord = {
    instanceId: state.ids.resourceId("i"),
    reservationId: state.ids.resourceId("r"),
    type,
    subnet: eni.subnet,
    groups: eni.groups,
    launchTimeMs: state.clock.now(),
    privateIp: eni.primaryIp,
    tags: new Map(),
    state: "running",
    devices: new Map(),
  };
  state.instances.set(instance.instanceId, instance);
  const { attachment } = attach(state, eni, instance, 0);
  attachment.deleteOnTermination = true;
  attachment.phase = "attached";
  return {
    instanceId: instance.instanceId,
    reservationId: instance.reservationId,
    networkInterfaceId: eni.networkInterfaceId,
    privateIpAddress: formatIpv4(eni.primaryIp),
    macAddress: eni.macAddress,
  };
}

/**
 * Terminates an instance at once: delete-on-termination ENIs are deleted, the
 * others are detached and left `available`. Terminating twice does nothing.
 */
export function terminateInstance(state: SimState, instanceId: string): TerminateInstanceResult {
  const instance = state.instance(instanceId);
  const deleted: string[] = [];
  const detached: string[] = [];
  const devices = [...instance.devices.entries()].sort(([a], [b]) => a - b);
  for (const [, eni] of devices) {
    const deleteIt = eni.attachment?.deleteOnTermination === true;
    state.detachNow(eni);
    if (deleteIt) {
      state.deleteNow(eni);
      deleted.push(eni.networkInterfaceId);
    } else {
      detached.push(eni.networkInterfaceId);
    }
  }
  instance.state = "terminated";
  return { instanceId, deletedNetworkInterfaceIds: deleted, detachedNetworkInterfaceIds: detached };
}

/** AttachNetworkInterface: starts attaching; the ENI is `in-use` once the attach latency has passed. */
export function attachNetworkInterface(state: SimState, request: AttachNetworkInterfaceRequest): string {
  if (request.networkInterfaceId === "") throw missingParameterError("NetworkInterfaceId");
  if (request.instanceId === "") throw missingParameterError("InstanceId");
  if (!Number.isSafeInteger(request.deviceIndex) || request.deviceIndex < 0) {
    throw invalidValueError(`Value (${request.deviceIndex}) for parameter deviceIndex is invalid`);
  }
  const eni = state.eni(request.networkInterfaceId);
  const instance = state.instance(request.instanceId);
  const type = instance.type;
  if ((request.networkCardIndex ?? 0) !== 0) {
    throw invalidValueError(
      `Network card index ${request.networkCardIndex} is not valid for ${type.instanceType}`,
    );
  }
  if (instance.state !== "running") {
    throw new Ec2SimError(
      "IncorrectInstanceState",
      `The instance '${instance.instanceId}' is not in a valid state for this operation.`,
    );
  }
  if (eni.attachment !== null) {
    throw new Ec2SimError("InvalidNetworkInterface.InUse", `Interface: [${eni.networkInterfaceId}] in use.`);
  }
  if (eni.subnet.availabilityZone !== instance.subnet.availabilityZone) {
    throw new Ec2SimError(
      "InvalidParameterCombination",
      "You may not attach a network interface to an instance if they are not in the same availability zone",
    );
  }
  if (instance.devices.size >= type.maxEnis) {
    throw new Ec2SimError(
      "AttachmentLimitExceeded",
      `Interface count ${instance.devices.size + 1} exceeds the limit for ${type.instanceType}`,
    );
  }
  if (instance.devices.has(request.deviceIndex)) {
    throw invalidValueError(
      `Instance '${instance.instanceId}' already has an interface attached at device index '${request.deviceIndex}'.`,
    );
  }
  if (state.addressCount(eni) > type.ipv4PerEni) {
    throw new Ec2SimError(
      "InvalidInterface.IpAddressLimitExceeded",
      `Address count ${
        state.addressCount(eni)
      } on interface ${eni.networkInterfaceId} exceeds the limit for ${type.instanceType}`,
    );
  }
  const attached = attach(state, eni, instance, request.deviceIndex);
  state.begin(attached, "attaching");
  return attached.attachment.attachmentId;
}

/** DetachNetworkInterface: starts detaching (at once with `force`); device 0 cannot be detached. */
export function detachNetworkInterface(state: SimState, request: DetachNetworkInterfaceRequest): void {
  if (request.attachmentId === "") throw missingParameterError("AttachmentId");
  const eni = state.attached(request.attachmentId);
  if (eni.attachment.deviceIndex === 0) {
    throw new Ec2SimError(
      "OperationNotPermitted",
      "The network interface at device index 0 cannot be detached.",
    );
  }
  const force = request.force === true;
  if (eni.attachment.phase === "detaching" && !force) return;
  state.begin(eni, "detaching", { immediate: force });
}

function attach(
  state: SimState,
  eni: EniRecord,
  instance: InstanceRecord,
  deviceIndex: number,
): EniRecord & { attachment: AttachmentRecord } {
  const nowMs = state.clock.now();
  const attachment: AttachmentRecord = {
    attachmentId: state.ids.resourceId("eni-attach"),
    instance,
    deviceIndex,
    attachTimeMs: nowMs,
    deleteOnTermination: false,
    phase: "attaching",
    readyAtMs: nowMs,
  };
  instance.devices.set(deviceIndex, eni);
  state.attachments.set(attachment.attachmentId, eni);
  return Object.assign(eni, { attachment });
}
