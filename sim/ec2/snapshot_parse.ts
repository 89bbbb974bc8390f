/**
 * Checks that untrusted data (a parsed snapshot) has the shape of an
 * `Ec2SimState` of a version this code knows. Cross-references (subnets,
 * instances, addresses) are checked when the state is restored.
 *
 * @module
 */

import type { LatencyModel } from "./random.ts";
import {
  type AttachmentState,
  EC2_SIM_STATE_VERSION,
  type Ec2SimState,
  type InstanceState,
  type InstanceTypeState,
  type NetworkInterfaceState,
  type SubnetState,
} from "./snapshot.ts";
import type { AttachmentStatus, Ec2Tag } from "./types.ts";

const PREFIX = "Cannot restore EC2 simulation state";

/** Returns `value` as an `Ec2SimState`, or throws a RangeError (version) or TypeError (shape) naming the field. */
export function parseSimState(value: unknown): Ec2SimState {
  const root = Fields.of(value, "state");
  const version = root.value.version;
  if (version !== EC2_SIM_STATE_VERSION) {
    throw new RangeError(
      `${PREFIX}: unknown version ${JSON.stringify(version)} (expected "${EC2_SIM_STATE_VERSION}")`,
    );
  }
  const vpc = root.object("vpc");
  const random = root.object("random");
  const counters = root.object("idCounters");
  return {
    version,
    seed: root.integer("seed", -Number.MAX_SAFE_INTEGER),
    vpc: {
      vpcId: vpc.string("vpcId"),
      cidrBlock: vpc.string("cidrBlock"),
      ownerId: vpc.string("ownerId"),
      defaultGroupId: vpc.string("defaultGroupId"),
    },
    attachLatency: latencyModel(root.object("attachLatency")),
    detachLatency: latencyModel(root.object("detachLatency")),
    maxUnattachedIpv4PerEni: root.integer("maxUnattachedIpv4PerEni", 1),
    idCounters: Object.fromEntries(Object.keys(counters.value).map((kind) => [kind, counters.integer(kind)])),
    lastEniSeq: root.integer("lastEniSeq"),
    random: { latency: random.integer("latency", -(2 ** 31)), faults: random.integer("faults", -(2 ** 31)) },
    instanceTypes: root.objects("instanceTypes").map(instanceType),
    subnets: root.objects("subnets").map(subnet),
    instances: root.objects("instances").map(instance),
    networkInterfaces: root.objects("networkInterfaces").map(networkInterface),
  };
}

function latencyModel(fields: Fields): LatencyModel {
  const kind = fields.oneOf("kind", ["fixed", "uniform", "lognormal"] as const);
  switch (kind) {
    case "fixed":
      return { kind, ms: fields.number("ms") };
    case "uniform":
      return { kind, minMs: fields.number("minMs"), maxMs: fields.number("maxMs") };
    case "lognormal":
      return {
        kind,
        medianMs: fields.number("medianMs"),
        sigma: fields.number("sigma"),
        maxMs: fields.number("maxMs"),
      };
  }
}

function instanceType(fields: Fields): InstanceTypeState {
  return {
    instanceType: fields.string("instanceType"),
    maxEnis: fields.integer("maxEnis", 1),
    ipv4PerEni: fields.integer("ipv4PerEni", 1),
    hypervisor: fields.oneOf("hypervisor", ["nitro", "xen"] as const),
    bareMetal: fields.boolean("bareMetal"),
  };
}

function subnet(fields: Fields): SubnetState {
  return {
    subnetId: fields.string("subnetId"),
    cidrBlock: fields.string("cidrBlock"),
    availabilityZone: fields.string("availabilityZone"),
    tags: fields.tags("tags"),
    takenRanges: fields.array("takenRanges").map(([item, path]) => {
      if (!Array.isArray(item) || item.length !== 2 || !item.every((end) => Number.isSafeInteger(end))) {
        throw new TypeError(`${PREFIX}: ${path} must be a pair of integers`);
      }
      return [item[0] as number, item[1] as number] as const;
    }),
  };
}

function instance(fields: Fields): InstanceState {
  return {
    instanceId: fields.string("instanceId"),
    reservationId: fields.string("reservationId"),
    instanceType: fields.string("instanceType"),
    subnetId: fields.string("subnetId"),
    groups: fields.strings("groups"),
    launchTimeMs: fields.integer("launchTimeMs"),
    privateIpAddress: fields.string("privateIpAddress"),
    state: fields.oneOf("state", ["running", "terminated"] as const),
    tags: fields.tags("tags"),
  };
}

function networkInterface(fields: Fields): NetworkInterfaceState {
  return {
    networkInterfaceId: fields.string("networkInterfaceId"),
    seq: fields.integer("seq", 1),
    subnetId: fields.string("subnetId"),
    description: fields.string("description"),
    groups: fields.strings("groups"),
    tags: fields.tags("tags"),
    macAddress: fields.string("macAddress"),
    privateIpAddress: fields.string("privateIpAddress"),
    secondaryPrivateIpAddresses: fields.strings("secondaryPrivateIpAddresses"),
    ipv4Prefixes: fields.strings("ipv4Prefixes"),
    sourceDestCheck: fields.boolean("sourceDestCheck"),
    attachment: fields.value.attachment === null ? null : attachment(fields.object("attachment")),
  };
}

function attachment(fields: Fields): AttachmentState {
  return {
    attachmentId: fields.string("attachmentId"),
    instanceId: fields.string("instanceId"),
    deviceIndex: fields.integer("deviceIndex"),
    attachTimeMs: fields.integer("attachTimeMs"),
    deleteOnTermination: fields.boolean("deleteOnTermination"),
    status: fields.oneOf(
      "status",
      ["attaching", "attached", "detaching"] as const satisfies AttachmentStatus[],
    ),
    readyAtMs: fields.integer("readyAtMs"),
  };
}

/** One JSON object and where it sits, with typed field readers that fail naming the field. */
class Fields {
  private constructor(readonly value: Readonly<Record<string, unknown>>, readonly path: string) {}

  static of(value: unknown, path: string): Fields {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new TypeError(`${PREFIX}: ${path} must be an object`);
    }
    return new Fields(value as Record<string, unknown>, path);
  }

  string(key: string): string {
    return this.#check(key, "a string", (value): value is string => typeof value === "string");
  }

  number(key: string): number {
    return this.#check(key, "a finite number", (value): value is number => Number.isFinite(value));
  }

  integer(key: string, min = 0): number {
    return this.#check(
      key,
      `an integer of at least ${min}`,
      (value): value is number => Number.isSafeInteger(value) && (value as number) >= min,
    );
  }

  boolean(key: string): boolean {
    return this.#check(key, "a boolean", (value): value is boolean => typeof value === "boolean");
  }

  oneOf<const T extends string>(key: string, choices: readonly T[]): T {
    const text = choices.map((choice) => `"${choice}"`).join(", ");
    return this.#check(key, `one of ${text}`, (value): value is T => choices.includes(value as T));
  }

  object(key: string): Fields {
    return Fields.of(this.value[key], `${this.path}.${key}`);
  }

  /** Each item with its path. */
  array(key: string): [unknown, string][] {
    const items = this.#check(key, "an array", (value): value is unknown[] => Array.isArray(value));
    return items.map((item, index) => [item, `${this.path}.${key}[${index}]`]);
  }

  objects(key: string): Fields[] {
    return this.array(key).map(([item, path]) => Fields.of(item, path));
  }

  strings(key: string): string[] {
    return this.array(key).map(([item, path]) => {
      if (typeof item !== "string") throw new TypeError(`${PREFIX}: ${path} must be a string`);
      return item;
    });
  }

  tags(key: string): Ec2Tag[] {
    return this.objects(key).map((tag) => ({ key: tag.string("key"), value: tag.string("value") }));
  }

  #check<T>(key: string, what: string, test: (value: unknown) => value is T): T {
    const value = this.value[key];
    if (!test(value)) throw new TypeError(`${PREFIX}: ${this.path}.${key} must be ${what}`);
    return value;
  }
}
