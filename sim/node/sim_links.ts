/**
 * Stand-in links for `aws-cni --daemon --simulate`: when the simulated cloud
 * attaches an ENI, a link with the ENI's MAC appears in the daemon's network
 * namespace so that `HostNetwork` finds it and configures it for real; when the
 * ENI is detached the link goes. A stand-in is a port-less bridge (this needs no
 * `dummy` module) tagged with the alias `aws-cni-sim`, and only links with that
 * alias are ever deleted, so a real NIC is never touched.
 *
 * @module
 */
import {
  CommandIpRunner,
  EntryExistsError,
  formatCidr,
  type IpCommand,
  type IpRunner,
  LinkNotFoundError,
  parseCidr,
} from "../../shared/mod.ts";
import { normalizeMac, parseAddrs, parseLinks } from "../../ipamd/node/host/mod.ts";

/** The alias that marks a stand-in link. */
export const SIM_LINK_ALIAS = "aws-cni-sim";

/** Where and how stand-ins are made. */
export interface SimLinkOptions {
  /** Default a `CommandIpRunner` in the caller's namespace. */
  readonly ip?: IpRunner;
  /** An address to put on the link, e.g. the primary ENI's `10.0.0.5/20`. */
  readonly address?: string;
}

/** A stand-in name for a device number: `simeni<n>` (short enough for IFNAMSIZ). */
export function simLinkName(deviceNumber: number): string {
  if (!Number.isInteger(deviceNumber) || deviceNumber < 0 || deviceNumber > 999) {
    throw new RangeError(`Invalid device number "${deviceNumber}"`);
  }
  return `simeni${deviceNumber}`;
}

/**
 * Makes a stand-in link `name` with `mac`, up, and returns its name. A link that
 * already has the MAC is reused as it is; a different link named `name` is an
 * `EntryExistsError`.
 */
export async function createSimLink(
  mac: string,
  name: string,
  options: SimLinkOptions = {},
): Promise<string> {
  const wanted = normalizeMac(mac);
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw new TypeError(`Invalid link name "${name}"`);
  const ip = options.ip ?? new CommandIpRunner();
  const [json] = await ip.query([["link", "show"]]);
  const links = parseLinks(json);
  const existing = links.find((link) => link.mac === wanted);
  const address = options.address === undefined ? undefined : checkAddress(options.address);
  if (existing !== undefined) {
    if (address !== undefined && existing.alias === SIM_LINK_ALIAS) {
      const [addrJson] = await ip.query([["addr", "show", "dev", existing.name]]);
      const has = parseAddrs(addrJson).some((a) => `${a.local}/${a.prefixLength}` === address);
      if (!has) await ip.apply([["addr", "add", address, "dev", existing.name]]);
    }
    return existing.name;
  }
  if (links.some((link) => link.name === name)) {
    throw new EntryExistsError(`Cannot create stand-in link "${name}": a link of that name exists`, {
      command: "",
      index: -1,
    });
  }
  const commands: IpCommand[] = [
    ["link", "add", "name", name, "address", wanted, "type", "bridge"],
    ["link", "set", "dev", name, "alias", SIM_LINK_ALIAS],
    ["link", "set", "dev", name, "up"],
    ...(address === undefined ? [] : [["addr", "add", address, "dev", name]]),
  ];
  await ip.apply(commands);
  return name;
}

/** Deletes the stand-in link with `mac`; true when one went, false when there was none of ours. */
export async function deleteSimLink(
  mac: string,
  options: Omit<SimLinkOptions, "address"> = {},
): Promise<boolean> {
  const wanted = normalizeMac(mac);
  const ip = options.ip ?? new CommandIpRunner();
  const [json] = await ip.query([["link", "show"]]);
  const link = parseLinks(json).find((l) => l.mac === wanted && l.alias === SIM_LINK_ALIAS);
  if (link === undefined) return false;
  const failures = await ip.applyAll([["link", "del", "dev", link.name]]);
  const first = failures[0];
  if (first !== undefined && !(first.error instanceof LinkNotFoundError)) throw first.error;
  return true;
}

/** `a.b.c.d/n` with any host part (an interface address, not a block). */
function checkAddress(address: string): string {
  const [ip = "", bits = ""] = address.split("/");
  formatCidr(parseCidr(`0.0.0.0/${bits}`));
  parseCidr(`${ip}/32`);
  return `${ip}/${bits}`;
}
