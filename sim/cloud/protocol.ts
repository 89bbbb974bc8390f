/**
 * The cloud's control channel: JSON over HTTP on a Unix socket, reachable from
 * any network namespace. Reads: `GET /state` (the account as EC2 holds it now,
 * EC2 calls per action, the plugged links), `GET /imds-requests`. Knobs (`POST`,
 * JSON body): `/faults`, `/faults/clear`, `/throttle`, `/throttle/off`,
 * `/api-latency`, `/attach-latency`, `/attach/hold`, `/attach/release`,
 * `/imds-lag`, `/hangs`, `/hangs/clear`, `/enis`, `/enis/delete`, `/iam/withhold`,
 * `/iam/grant` (`{ "actions": [...] }`; grant without actions puts every one back). A refused
 * request answers 400 with `{ "error": message }`.
 *
 * @module
 */
import type { BucketSpec, ThrottleCategory } from "../../ipamd/cloud/mod.ts";
import type { Ec2Action } from "../ec2/mod.ts";
import type { ImdsRequestRecord } from "../emulator/mod.ts";

/** What the cloud prints on stdout, as one JSON line, once it serves. */
export interface CloudReady {
  /** `http://127.0.0.1:PORT`: for `AWS_EC2_ENDPOINT`. */
  readonly ec2Endpoint: string;
  /** `http://127.0.0.1:PORT`: for `AWS_EC2_METADATA_SERVICE_ENDPOINT`. */
  readonly imdsEndpoint: string;
  /** The control socket. */
  readonly control: string;
  readonly instanceId: string;
  readonly instanceType: string;
  readonly subnetId: string;
  readonly primaryEniId: string;
  readonly primaryMac: string;
  /** `a.b.c.d/n` on the primary ENI's link. */
  readonly primaryAddress: string;
  /** The VPC side's namespace (`/proc/<pid>/ns/net` when the cloud made it), or null without links. */
  readonly vpcNetns: string | null;
  /** The process holding the VPC side's namespace when the cloud made it, else null. */
  readonly vpcHolderPid: number | null;
  readonly pid: number;
}

/** An ENI as EC2 holds it now (pending attaches and detaches that came due are complete). */
export interface CloudEni {
  readonly eniId: string;
  readonly subnetId: string;
  readonly mac: string;
  readonly description: string;
  readonly status: "available" | "attaching" | "in-use" | "detaching";
  readonly attachment: {
    readonly instanceId: string;
    readonly deviceIndex: number;
    readonly status: "attaching" | "attached" | "detaching";
  } | null;
  readonly privateIp: string;
  readonly secondaryIps: readonly string[];
  readonly prefixes: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

/** `GET /state`. */
export interface CloudState {
  readonly instanceId: string;
  /** Every ENI of the account, in creation order. */
  readonly enis: readonly CloudEni[];
  readonly subnets: readonly {
    readonly subnetId: string;
    readonly cidr: string;
    readonly availableIps: number;
  }[];
  /** EC2 calls received per action (throttled, failed and hung ones too). */
  readonly calls: Partial<Record<Ec2Action, number>>;
  /** The node's ENI links plugged now. */
  readonly links: readonly { readonly mac: string; readonly deviceIndex: number }[];
  readonly holdingAttaches: boolean;
  readonly throttling: boolean;
  readonly imdsLagMs: number;
  /** Actions the node's role may not call now (withheld from its IAM policy). */
  readonly withheld: readonly Ec2Action[];
}

/** A forced EC2 error. */
export interface FaultSpec {
  readonly code: string;
  readonly httpStatus?: number;
  readonly message?: string;
}

/** `POST /faults`: the next `times` calls fail, or each call with probability `rate`. */
export interface FaultRequest extends FaultSpec {
  /** One action, or "*" for every action. */
  readonly action: Ec2Action | "*";
  readonly times?: number;
  readonly rate?: number;
}

/** `POST /hangs`: calls that never answer (until the cloud stops). */
export interface HangRequest {
  readonly action: Ec2Action;
  /** How many calls; "always" hangs every call until cleared. Default 1. */
  readonly times?: number | "always";
  /** True: the action runs and only its answer is lost. */
  readonly applied?: boolean;
}

/** `POST /enis`: an ENI another node of the account takes in a subnet (not attached here). */
export interface EniRequest {
  /** Default: the node's subnet. */
  readonly subnetId?: string;
  /** Secondary addresses to take; "all" takes every free one the ENI can hold. */
  readonly secondaryIps: number | "all";
}

/** `POST /throttle`: EC2's buckets on, full, with some categories resized. */
export type ThrottleRequest = Partial<Record<ThrottleCategory, BucketSpec>>;

export type { ImdsRequestRecord };
