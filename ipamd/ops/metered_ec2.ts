/**
 * A metering decorator around any `Ec2Port`: every port call is timed and filed
 * under the EC2 API it stands for, so `awscni_aws_api_latency_ms`,
 * `awscni_aws_api_error_count` and `awscni_ec2api_req_count` fill in whatever the
 * adapter. It also remembers each ENI's subnet ID for introspection, which the
 * datastore does not keep.
 *
 * A port method can make several EC2 requests (createEni: create, attach, modify);
 * its latency covers all of them, attach waits included. On success every request
 * of the method is counted; on failure only the first, as the decorator cannot
 * see how far the method got.
 *
 * @module
 */
import {
  type AddressRequest,
  type AttachedEni,
  CloudError,
  type CloudErrorKind,
  type Ec2Action,
  type Ec2Port,
} from "../cloud/mod.ts";
import type { IamPermissions } from "./iam_permissions.ts";
import type { IpamdMetrics } from "./metrics.ts";

/** The EC2 API requests each port method makes, the first being the one its latency is filed under. */
export const EC2_APIS: Readonly<Record<keyof Ec2Port, readonly Ec2Action[]>> = Object.freeze({
  describeNode: ["DescribeNetworkInterfaces"],
  createEni: ["CreateNetworkInterface", "AttachNetworkInterface", "ModifyNetworkInterfaceAttribute"],
  assignAddresses: ["AssignPrivateIpAddresses"],
  releaseAddresses: ["UnassignPrivateIpAddresses"],
  freeEni: ["DetachNetworkInterface", "DeleteNetworkInterface"],
});

/** The HTTP status EC2 answers each kind of failure with ("" when there was no answer). */
const STATUS_OF_KIND: Readonly<Record<CloudErrorKind, string>> = {
  throttled: "503",
  "subnet-full": "400",
  "no-cidr-blocks": "400",
  "attachment-limit": "400",
  "ip-limit": "400",
  "not-found": "400",
  unauthorized: "403",
  invalid: "400",
  unavailable: "",
};

/** `Ec2Port` that records every call in `IpamdMetrics`. */
export class MeteredEc2Port implements Ec2Port {
  readonly #port: Ec2Port;
  readonly #metrics: IpamdMetrics;
  readonly #subnets = new Map<string, string>();
  readonly #iam: IamPermissions | null;

  constructor(port: Ec2Port, metrics: IpamdMetrics, iam?: IamPermissions) {
    this.#port = port;
    this.#metrics = metrics;
    this.#iam = iam ?? null;
  }

  /** The subnet ID of an ENI seen in a describe or create, or "" when unknown. */
  subnetOf(eniId: string): string {
    return this.#subnets.get(eniId) ?? "";
  }

  async describeNode(): Promise<AttachedEni[]> {
    const enis = await this.#meter("describeNode", () => this.#port.describeNode());
    for (const eni of enis) this.#subnets.set(eni.eniId, eni.subnetId);
    return enis;
  }

  async createEni(request: AddressRequest): Promise<AttachedEni> {
    const eni = await this.#meter("createEni", () => this.#port.createEni(request));
    this.#subnets.set(eni.eniId, eni.subnetId);
    return eni;
  }

  assignAddresses(eniId: string, request: AddressRequest): Promise<string[]> {
    return this.#meter("assignAddresses", () => this.#port.assignAddresses(eniId, request));
  }

  releaseAddresses(eniId: string, cidrs: readonly string[]): Promise<void> {
    return this.#meter("releaseAddresses", () => this.#port.releaseAddresses(eniId, cidrs));
  }

  async freeEni(eniId: string): Promise<void> {
    await this.#meter("freeEni", () => this.#port.freeEni(eniId));
    this.#subnets.delete(eniId);
  }

  async #meter<T>(method: keyof Ec2Port, call: () => Promise<T>): Promise<T> {
    const apis = EC2_APIS[method];
    const api = apis[0]!;
    const startMs = performance.now();
    try {
      const result = await call();
      this.#metrics.ec2Call({ api, requests: apis, latencyMs: performance.now() - startMs });
      this.#iam?.succeeded(apis);
      return result;
    } catch (error) {
      const code = error instanceof CloudError ? error.code : error instanceof Error ? error.name : "Error";
      const status = error instanceof CloudError ? STATUS_OF_KIND[error.kind] : "";
      this.#iam?.failed(api, error);
      this.#metrics.ec2Call({
        api,
        requests: [api],
        latencyMs: performance.now() - startMs,
        error: { code, status },
      });
      throw error;
    }
  }
}
