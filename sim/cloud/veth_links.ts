/**
 * ENI links as an instance sees them: when an ENI is attached, a NIC with its
 * MAC appears in the node's network namespace; when it is detached, the NIC
 * goes. Here each NIC is one end of a veth pair (MTU 9001, up, with carrier);
 * the other end sits on a bridge in a namespace of the cloud's own, the "VPC
 * side", which holds each subnet's router address. The primary ENI's link also
 * gets its address and a default route via the router, as DHCP gives them.
 * Only links this object made are ever deleted; deleting the VPC side's
 * namespace takes every link with it.
 *
 * @module
 */
import { CommandIpRunner, type IpCommand, type IpRunner, LinkNotFoundError } from "../../shared/mod.ts";

/** One ENI's link to plug. */
export interface EniLink {
  readonly mac: string;
  readonly deviceIndex: number;
  /** `a.b.c.d/n` for the primary ENI (DHCP's lease); none for the others. */
  readonly address?: string;
  /** The default route's router, with `address`. */
  readonly gateway?: string;
}

/** A plugged link. */
export interface PluggedLink {
  readonly name: string;
  readonly mac: string;
  readonly deviceIndex: number;
}

/** The port the hot-plugging drives. */
export interface EniLinks {
  /** Makes the link of an ENI; returns its name. */
  plug(link: EniLink): Promise<string>;
  /** Removes the link with `mac` (if this object made it). */
  unplug(mac: string): Promise<void>;
  /** Removes every link, and the VPC side when it made it. */
  close(): Promise<void>;
}

/** The MTU of every ENI (EC2's jumbo frames). */
export const ENI_MTU = 9001;

/** The node-side name of device `n`: `eth<n>`, as on an instance. */
export function eniLinkName(deviceIndex: number): string {
  if (!Number.isSafeInteger(deviceIndex) || deviceIndex < 0 || deviceIndex > 9999) {
    throw new RangeError(`Invalid device index "${deviceIndex}"`);
  }
  return `eth${deviceIndex}`;
}

/** The VPC-side name of the peer of `mac`: `v` and the MAC's 12 hex digits. */
function peerName(mac: string): string {
  return `v${mac.toLowerCase().replaceAll(":", "")}`;
}

/** The name `ip` knows a given namespace by: it must be under /run/netns. */
function netnsName(path: string): string {
  const match = /^(?:\/var)?\/run\/netns\/([^/]+)$/.exec(path);
  if (match === null) {
    throw new RangeError(`Cannot use "${path}" as the VPC side: expected a namespace under /run/netns`);
  }
  return match[1]!;
}

/** Where the VPC side is: a namespace file and, when the cloud made it, the process holding it. */
export interface VpcSide {
  /** `/proc/<pid>/ns/net` or a given path. */
  readonly netns: string;
  /** The holder process's pid when the cloud made the namespace, else null. */
  readonly holderPid: number | null;
}

/** How to open the links. */
export interface VethLinksOptions {
  /** A namespace to use as the VPC side; default: a new one, held by a process that ends with this one. */
  readonly vpcNetns?: string | null;
  /** Router addresses (`a.b.c.d/n`, one per subnet) for the VPC side's bridge. */
  readonly routers: readonly string[];
  /** The node's namespace, under /run/netns; default: this process's own. */
  readonly nodeNetns?: string;
  /** Default: `ip` run by this process. */
  readonly ip?: IpRunner;
}

const BRIDGE = "vpc0";

/** Links made of veth pairs between this namespace (the node) and the VPC side. */
export class VethLinks implements EniLinks {
  readonly vpc: VpcSide;
  readonly #ip: IpRunner;
  readonly #node: { readonly netns?: string };
  readonly #holder: Deno.ChildProcess | null;
  readonly #plugged = new Map<string, PluggedLink>();

  private constructor(
    vpc: VpcSide,
    ip: IpRunner,
    node: string | undefined,
    holder: Deno.ChildProcess | null,
  ) {
    this.vpc = vpc;
    this.#ip = ip;
    this.#node = node === undefined ? {} : { netns: node };
    this.#holder = holder;
  }

  /** Makes (or enters) the VPC side and its bridge with the routers' addresses. */
  static async open(options: VethLinksOptions): Promise<VethLinks> {
    const ip = options.ip ?? new CommandIpRunner();
    let holder: Deno.ChildProcess | null = null;
    let netns = options.vpcNetns ?? null;
    if (netns !== null) netnsName(netns);
    if (netns === null) {
      // The holder says when it runs in its namespace, and lives as long as this process: a cloud that is
      // killed takes its VPC side, and so its links, along.
      const watch = `echo ready && while kill -0 ${Deno.pid} 2>/dev/null; do sleep 1; done`;
      holder = new Deno.Command("unshare", {
        args: ["--net", "sh", "-c", watch],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      netns = `/proc/${holder.pid}/ns/net`;
    }
    if (options.nodeNetns !== undefined) netnsName(options.nodeNetns);
    const links = new VethLinks({ netns, holderPid: holder?.pid ?? null }, ip, options.nodeNetns, holder);
    try {
      if (holder !== null) await links.#holderReady();
      await ip.apply([
        ["link", "set", "dev", "lo", "up"],
        ["link", "add", "name", BRIDGE, "mtu", String(ENI_MTU), "type", "bridge"],
        ["link", "set", "dev", BRIDGE, "up"],
        ...options.routers.map((router): IpCommand => ["addr", "add", router, "dev", BRIDGE]),
      ], { netns });
    } catch (error) {
      await links.close();
      throw error;
    }
    return links;
  }

  /** The links plugged now. */
  plugged(): PluggedLink[] {
    return [...this.#plugged.values()];
  }

  async plug(link: EniLink): Promise<string> {
    const mac = link.mac.toLowerCase();
    const known = this.#plugged.get(mac);
    if (known !== undefined) return known.name;
    const name = eniLinkName(link.deviceIndex);
    const peer = peerName(mac);
    const target = this.vpc.holderPid === null ? netnsName(this.vpc.netns) : String(this.vpc.holderPid);
    await this.#ip.apply([
      [
        ...["link", "add", "name", name, "address", mac, "mtu", String(ENI_MTU), "type", "veth"],
        ...["peer", "name", peer, "mtu", String(ENI_MTU), "netns", target],
      ],
    ], this.#node);
    this.#plugged.set(mac, { name, mac, deviceIndex: link.deviceIndex });
    await this.#ip.apply([["link", "set", "dev", peer, "master", BRIDGE, "up"]], { netns: this.vpc.netns });
    await this.#ip.apply([
      ["link", "set", "dev", name, "up"],
      ...(link.address === undefined ? [] : [["addr", "add", link.address, "dev", name]]),
      ...(link.gateway === undefined ? [] : [["route", "add", "default", "via", link.gateway, "dev", name]]),
    ], this.#node);
    return name;
  }

  async unplug(mac: string): Promise<void> {
    const link = this.#plugged.get(mac.toLowerCase());
    if (link === undefined) return;
    this.#plugged.delete(link.mac);
    // Deleting either end deletes the pair; the VPC side's end is surely ours.
    const failures = await this.#ip.applyAll([["link", "del", "dev", peerName(link.mac)]], {
      netns: this.vpc.netns,
    });
    const failed = failures[0]?.error;
    if (failed !== undefined && !(failed instanceof LinkNotFoundError)) throw failed;
  }

  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const link of this.plugged()) await this.unplug(link.mac).catch((error) => errors.push(error));
    if (this.#holder !== null) {
      try {
        this.#holder.kill("SIGKILL");
      } catch {
        // already gone
      }
      await this.#holder.status;
    } else {
      await this.#ip.applyAll([["link", "del", "dev", BRIDGE]], { netns: this.vpc.netns });
    }
    if (errors.length > 0) throw new AggregateError(errors, "Cannot remove every ENI link");
  }

  /** Resolves once the holder runs in its own namespace; throws with its stderr when it could not. */
  async #holderReady(): Promise<void> {
    const holder = this.#holder!;
    const reader = holder.stdout.getReader();
    const first = await reader.read();
    reader.releaseLock();
    if (new TextDecoder().decode(first.value ?? new Uint8Array()).includes("ready")) {
      holder.stdout.cancel().catch(() => {});
      holder.stderr.cancel().catch(() => {});
      return;
    }
    const text = (await new Response(holder.stderr).text().catch(() => "")).trim();
    await holder.status;
    throw new Error(`Cannot make the VPC side's network namespace: ${text || "unshare failed"}`);
  }
}
