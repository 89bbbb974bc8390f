/**
 * The instance metadata the daemon reads, in our terms: the instance, and each
 * attached ENI by MAC with its device number, subnet, VPC CIDRs, security groups
 * and addresses (the per-MAC paths of the reference's imds.go). Also the wait for
 * a new ENI and its addresses to show up, with back-off, which costs no EC2 budget.
 *
 * @module
 */
import { type Clock, sleep as realSleep, systemClock } from "../../shared/mod.ts";
import type { HttpImdsClient } from "./imds.ts";
import { backoffMs, type BackoffPolicy } from "./rate_budget.ts";

/** The instance as IMDS shows it. */
export interface ImdsInstance {
  readonly instanceId: string;
  readonly instanceType: string;
  readonly region: string;
  readonly availabilityZone: string;
  /** The MAC of the primary ENI (device 0). */
  readonly primaryMac: string;
  readonly localIpv4: string;
}

/** One attached ENI as IMDS shows it. */
export interface ImdsEni {
  readonly mac: string;
  readonly eniId: string;
  readonly deviceNumber: number;
  /** 0 when IMDS has no `network-card` key. */
  readonly networkCard: number;
  readonly subnetId: string;
  readonly subnetCidr: string;
  readonly vpcId: string;
  readonly vpcCidrs: readonly string[];
  readonly securityGroupIds: readonly string[];
  /** The ENI's own address ("" when IMDS lists none). */
  readonly primaryIp: string;
  /** Secondary IPs as `a.b.c.d/32`, then /28 prefixes. */
  readonly cidrs: readonly string[];
}

/** What the daemon reads from IMDS. */
export interface ImdsPort {
  instance(): Promise<ImdsInstance>;
  /** Every attached ENI IMDS lists, by device number. */
  enis(): Promise<ImdsEni[]>;
  /** One ENI by MAC; null while IMDS does not (or no longer) show it attached. */
  eni(mac: string): Promise<ImdsEni | null>;
}

/** `ImdsPort` over an IMDSv2 client. */
export class HttpImdsApi implements ImdsPort {
  readonly #client: HttpImdsClient;

  constructor(client: HttpImdsClient) {
    this.#client = client;
  }

  async instance(): Promise<ImdsInstance> {
    const read = (path: string) => this.#required(path);
    const [instanceId, instanceType, availabilityZone, primaryMac, localIpv4] = await Promise.all([
      read("instance-id"),
      read("instance-type"),
      read("placement/availability-zone"),
      read("mac"),
      read("local-ipv4"),
    ]);
    const region = await this.#client.metadata("placement/region") ?? await this.#identityRegion();
    return { instanceId, instanceType, region, availabilityZone, primaryMac, localIpv4 };
  }

  async enis(): Promise<ImdsEni[]> {
    const listing = await this.#client.metadata("network/interfaces/macs/") ?? "";
    const macs = lines(listing).map((line) => line.replace(/\/$/, ""));
    const enis = await Promise.all(macs.map((mac) => this.eni(mac)));
    return enis.filter((eni) => eni !== null).sort((a, b) => a.deviceNumber - b.deviceNumber);
  }

  async eni(mac: string): Promise<ImdsEni | null> {
    const read = (key: string) => this.#client.metadata(`network/interfaces/macs/${mac}/${key}`);
    const [device, eniId, card, subnetId, subnetCidr, vpcId, vpcCidrs, groups, ipv4s, prefixes] =
      await Promise
        .all([
          read("device-number"),
          read("interface-id"),
          read("network-card"),
          read("subnet-id"),
          read("subnet-ipv4-cidr-block"),
          read("vpc-id"),
          read("vpc-ipv4-cidr-blocks"),
          read("security-group-ids"),
          read("local-ipv4s"),
          read("ipv4-prefix"),
        ]);
    // A MAC stays listed for a while after its detach, but its device number is gone (vpc-cni PR #194).
    if (device === null || eniId === null || !/^\d+$/.test(device.trim())) return null;
    const [primaryIp = "", ...secondaries] = lines(ipv4s ?? "");
    return {
      mac,
      eniId: eniId.trim(),
      deviceNumber: Number(device.trim()),
      networkCard: /^\d+$/.test(card?.trim() ?? "") ? Number(card!.trim()) : 0,
      subnetId: subnetId?.trim() ?? "",
      subnetCidr: subnetCidr?.trim() ?? "",
      vpcId: vpcId?.trim() ?? "",
      vpcCidrs: lines(vpcCidrs ?? ""),
      securityGroupIds: lines(groups ?? ""),
      primaryIp,
      cidrs: [...secondaries.map((ip) => `${ip}/32`), ...lines(prefixes ?? "")],
    };
  }

  async #required(path: string): Promise<string> {
    const value = await this.#client.metadata(path);
    if (value === null || value.trim() === "") {
      throw new RangeError(`Cannot read instance metadata "${path}": IMDS has no such key`);
    }
    return value.trim();
  }

  async #identityRegion(): Promise<string> {
    const document = await this.#client.get("/latest/dynamic/instance-identity/document");
    const region = (JSON.parse(document ?? "{}") as { region?: unknown }).region;
    if (typeof region !== "string" || region === "") {
      throw new RangeError("Cannot read the region from IMDS: no placement/region and no identity document");
    }
    return region;
  }
}

function lines(text: string): string[] {
  return text.split("\n").map((line) => line.trim()).filter((line) => line !== "");
}

/** What a new ENI must show in IMDS before the wait ends. */
export interface ImdsEniWanted {
  readonly mac: string;
  /** Secondary IPs and /28 prefixes it must list at least. */
  readonly minIps: number;
  readonly minPrefixes: number;
}

/** How long and how often to look. */
export interface ImdsWaitOptions {
  readonly timeoutMs: number;
  readonly backoff?: BackoffPolicy;
  readonly clock?: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Draws the jitter (default Math.random). */
  readonly random?: () => number;
}

/** Between looks at IMDS for a new ENI: 100 ms, 200 ms, then every 400 to 500 ms (IMDS is local; the reference starts at 100 ms too). */
export const IMDS_WAIT_BACKOFF: BackoffPolicy = { initialMs: 100, factor: 2, maxMs: 500, jitter: 0.15 };

/** What the wait saw last: the ENI (null if it never showed) and whether every address showed too. */
export interface ImdsWaitResult {
  readonly eni: ImdsEni | null;
  readonly complete: boolean;
  readonly waitedMs: number;
}

/** Looks at IMDS with back-off until the ENI shows with its addresses, or the time is up. */
export async function waitForImdsEni(
  imds: ImdsPort,
  wanted: ImdsEniWanted,
  options: ImdsWaitOptions,
): Promise<ImdsWaitResult> {
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? realSleep;
  const startMs = clock.now();
  let eni: ImdsEni | null = null;
  for (let attempt = 0;; attempt++) {
    eni = await imds.eni(wanted.mac);
    if (eni !== null) {
      const prefixes = eni.cidrs.filter((cidr) => !cidr.endsWith("/32")).length;
      const ips = eni.cidrs.length - prefixes;
      if (ips >= wanted.minIps && prefixes >= wanted.minPrefixes) {
        return { eni, complete: true, waitedMs: clock.now() - startMs };
      }
    }
    const leftMs = options.timeoutMs - (clock.now() - startMs);
    if (leftMs <= 0) return { eni, complete: false, waitedMs: clock.now() - startMs };
    await sleep(Math.min(leftMs, backoffMs(options.backoff ?? IMDS_WAIT_BACKOFF, attempt, options.random)));
  }
}
