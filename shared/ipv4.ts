/**
 * IPv4 addresses as unsigned 32-bit numbers, and CIDR blocks over them.
 *
 * @module
 */

/** Parses dotted-quad text into a number, or throws a SyntaxError. */
export function parseIpv4(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4) throw new SyntaxError(`Cannot parse IPv4 address "${text}"`);
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) {
      throw new SyntaxError(`Cannot parse IPv4 address "${text}"`);
    }
    value = value * 256 + Number(part);
  }
  return value;
}

/** Formats a number as dotted-quad text. */
export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/** An IPv4 block: its first address and prefix length. */
export interface Ipv4Cidr {
  readonly base: number;
  readonly bits: number;
}

/** Parses `a.b.c.d/n`; the address must be the block's first address. */
export function parseCidr(text: string): Ipv4Cidr {
  const [address = "", bitsText = "", extra] = text.split("/");
  const bits = Number(bitsText);
  if (extra !== undefined || !/^[0-9]{1,2}$/.test(bitsText) || bits > 32) {
    throw new SyntaxError(`Cannot parse IPv4 CIDR "${text}"`);
  }
  const base = parseIpv4(address);
  if (base % cidrSize({ base: 0, bits }) !== 0) {
    throw new SyntaxError(`Cannot parse IPv4 CIDR "${text}": host bits are set`);
  }
  return { base, bits };
}

/** Formats a block as `a.b.c.d/n`. */
export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.base)}/${cidr.bits}`;
}

/** How many addresses a block spans. */
export function cidrSize(cidr: Ipv4Cidr): number {
  return 2 ** (32 - cidr.bits);
}

/** Whether `address` lies inside `cidr`. */
export function cidrContains(cidr: Ipv4Cidr, address: number): boolean {
  return address >= cidr.base && address < cidr.base + cidrSize(cidr);
}

/** Dotted-quad comparison in numeric order, for sorting. */
export function compareIpv4(a: string, b: string): number {
  return parseIpv4(a) - parseIpv4(b);
}
