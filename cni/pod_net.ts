/**
 * The `ip` commands that wire and unwire one pod interface, as data. Nothing
 * here runs anything; cmd_add, cmd_del and cmd_check hand these lists to the
 * `IpRunner` as a few batches, or as the steps of two `ip` sessions (ADD: the pair and the
 * pod side that needs no address while ipamd answers, then the host route and rules and the
 * pod's address).
 *
 * Host side: veth `<prefix><sha1(ns.pod)[:11]>` with a random locally
 * administered MAC, route `<ip>/32 dev <veth> scope link`, rule `to <ip>
 * lookup main` prio 512, and for a secondary ENI rule `from <ip> lookup
 * <table>` prio 1536. Pod side: `<ip>/32`, `169.254.1.1 dev <if> scope link`,
 * `default via 169.254.1.1`, permanent neighbour 169.254.1.1 -> host veth MAC.
 *
 * @module
 */
import type { IpCommand } from "../shared/mod.ts";
import { MAIN_TABLE } from "./result.ts";

/** The pod's gateway: link-local, answered by the host veth's MAC through a permanent neighbour. */
export const POD_GATEWAY = "169.254.1.1";
/** Priority of the `to <pod ip> lookup main` rule. */
export const TO_POD_RULE_PRIORITY = 512;
/** Priority of the `from <pod ip> lookup <ENI table>` rule. */
export const FROM_POD_RULE_PRIORITY = 1536;

/** What decides the veth pair: everything but the address, so it can be made while ipamd answers. */
export interface PodPair {
  readonly hostVeth: string;
  readonly hostMac: string;
  readonly podMac: string;
  readonly ifName: string;
  /** Path of the pod's network namespace. */
  readonly netns: string;
  readonly mtu: number;
}

/** Everything that decides the commands for one pod interface. */
export interface PodWiring extends PodPair {
  readonly podIp: string;
  /** Table of the `from` rule; `MAIN_TABLE` means no rule (primary ENI). */
  readonly routeTable: number;
}

/** The table for an address on ENI `deviceNumber`: main for the primary, else ipamd's (or device + 1). */
export function routeTableFor(deviceNumber: number, routeTableId: number): number {
  if (deviceNumber <= 0) return MAIN_TABLE;
  return routeTableId > 0 && routeTableId !== MAIN_TABLE ? routeTableId : deviceNumber + 1;
}

/** Host veth name: prefix + the first 11 hex digits of sha1(`key`). */
export async function hostVethName(prefix: string, key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return prefix + hex.slice(0, 11);
}

/** The key hashed into the host veth name: "namespace.pod", or the container ID without Kubernetes args. */
export function hostVethKey(podNamespace: string, podName: string, containerId: string): string {
  return podNamespace !== "" && podName !== "" ? `${podNamespace}.${podName}` : containerId;
}

/** A random unicast, locally administered MAC from `fill` (crypto.getRandomValues in production). */
export function randomMac(fill: (bytes: Uint8Array) => void): string {
  const bytes = new Uint8Array(6);
  fill(bytes);
  bytes[0] = (bytes[0]! & 0xfc) | 0x02;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** A host veth of the same name that a stale sandbox left (run first in a `-force` batch; failure expected). */
export function staleLinkCommands(p: PodPair): IpCommand[] {
  return [["link", "del", p.hostVeth]];
}

/** The veth pair, its pod end created straight in the pod netns. */
export function pairSetupCommands(p: PodPair): IpCommand[] {
  const mtu = String(p.mtu);
  return [
    // deno-fmt-ignore
    ["link", "add", "name", p.hostVeth, "address", p.hostMac, "mtu", mtu, "type", "veth",
      "peer", "name", p.ifName, "address", p.podMac, "mtu", mtu, "netns", p.netns],
    ["link", "set", p.hostVeth, "up"],
  ];
}

/** Route and rules for the address that a stale sandbox or a failed DEL left (failures expected). */
export function staleAddressCommands(w: PodWiring): IpCommand[] {
  const ip = `${w.podIp}/32`;
  return [
    ["route", "del", ip],
    ["rule", "del", "to", ip, "prio", String(TO_POD_RULE_PRIORITY)],
    ["rule", "del", "from", ip, "prio", String(FROM_POD_RULE_PRIORITY)],
  ];
}

/** Host route to the pod and its rules (the `from` rule only for a secondary ENI). */
export function hostRouteCommands(w: PodWiring): IpCommand[] {
  const ip = `${w.podIp}/32`;
  const commands: IpCommand[] = [
    ["route", "replace", ip, "dev", w.hostVeth, "scope", "link"],
    ["rule", "add", "to", ip, "lookup", "main", "prio", String(TO_POD_RULE_PRIORITY)],
  ];
  if (w.routeTable !== MAIN_TABLE) {
    commands.push([
      "rule",
      "add",
      "from",
      ip,
      "lookup",
      String(w.routeTable),
      "prio",
      String(FROM_POD_RULE_PRIORITY),
    ]);
  }
  return commands;
}

/**
 * Pod-side setup that needs no address, run inside the pod netns while ipamd
 * picks one. The neighbour comes last: `ip` exits on its failure.
 */
export function podLinkCommands(p: PodPair): IpCommand[] {
  return [
    ["link", "set", p.ifName, "up"],
    ["route", "add", `${POD_GATEWAY}/32`, "dev", p.ifName, "scope", "link"],
    ["route", "add", "default", "via", POD_GATEWAY, "dev", p.ifName],
    ["neigh", "replace", POD_GATEWAY, "lladdr", p.hostMac, "dev", p.ifName, "nud", "permanent"],
  ];
}

/** The pod's address, once ipamd gave it. */
export function podAddressCommands(w: PodWiring): IpCommand[] {
  return [["addr", "add", `${w.podIp}/32`, "dev", w.ifName]];
}

/** Undoes `pairSetupCommands` and `hostRouteCommands` (rollback); deleting the host veth removes the pod end and its routes. */
export function hostUndoCommands(w: PodWiring): IpCommand[] {
  const ip = `${w.podIp}/32`;
  return [
    ["rule", "del", "to", ip, "prio", String(TO_POD_RULE_PRIORITY)],
    ...(w.routeTable === MAIN_TABLE
      ? []
      : [["rule", "del", "from", ip, "prio", String(FROM_POD_RULE_PRIORITY)]]),
    ["route", "del", ip, "dev", w.hostVeth],
    ["link", "del", w.hostVeth],
  ];
}

/**
 * Host teardown for DEL, by address only: the rules and the host route. The
 * host veth is not deleted by name (a new sandbox of the same pod may own that
 * name by now); it goes with the pod end.
 */
export function hostTeardownCommands(podIps: readonly string[]): IpCommand[] {
  return podIps.flatMap((podIp) => [
    ["rule", "del", "to", `${podIp}/32`, "prio", String(TO_POD_RULE_PRIORITY)],
    ["rule", "del", "from", `${podIp}/32`, "prio", String(FROM_POD_RULE_PRIORITY)],
    ["route", "del", `${podIp}/32`, "scope", "link"],
  ]);
}

/**
 * Pod teardown for DEL, inside the pod netns, in two steps: our end takes a
 * name of its own at once (so the pod's interface name is free again), then
 * deleting it removes the pair, which the kernel takes 15-30 ms to finish.
 */
export function podTeardownCommands(
  ifName: string,
  doomed: string,
): { rename: IpCommand[]; remove: IpCommand[] } {
  return { rename: [["link", "set", ifName, "name", doomed]], remove: [["link", "del", doomed]] };
}

/** A name for a pod end being deleted: "gone" and 8 random hex digits from `fill`. */
export function doomedName(fill: (bytes: Uint8Array) => void): string {
  const bytes = new Uint8Array(4);
  fill(bytes);
  return "gone" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
