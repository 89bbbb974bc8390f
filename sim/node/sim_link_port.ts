/**
 * For `--daemon --simulate --host-network`: the EC2 port with stand-in links. When
 * the simulation attaches an ENI, a link with the ENI's MAC appears in the
 * daemon's network namespace, and it goes when the ENI is freed, so the host
 * setup runs for real on something that behaves like the ENI's NIC.
 *
 * @module
 */
import type { AddressRequest, AttachedEni, Ec2Port } from "../../ipamd/cloud/mod.ts";
import { createSimLink, deleteSimLink, simLinkName } from "./sim_links.ts";

/** Wraps `port` so attached ENIs have stand-in links. */
export class SimLinkPort implements Ec2Port {
  readonly #port: Ec2Port;
  readonly #macs = new Map<string, string>();

  constructor(port: Ec2Port) {
    this.#port = port;
  }

  /** Creates stand-ins for the ENIs attached now (the primary with its address). */
  async attachExisting(prefixBits: (eni: AttachedEni) => number): Promise<void> {
    for (const eni of await this.#port.describeNode()) {
      const address = eni.primary ? `${eni.primaryIp}/${prefixBits(eni)}` : undefined;
      await createSimLink(eni.mac, simLinkName(eni.deviceNumber), address === undefined ? {} : { address });
      this.#macs.set(eni.eniId, eni.mac);
    }
  }

  describeNode(): Promise<AttachedEni[]> {
    return this.#port.describeNode();
  }

  async createEni(request: AddressRequest): Promise<AttachedEni> {
    const eni = await this.#port.createEni(request);
    await createSimLink(eni.mac, simLinkName(eni.deviceNumber));
    this.#macs.set(eni.eniId, eni.mac);
    return eni;
  }

  assignAddresses(eniId: string, request: AddressRequest): Promise<string[]> {
    return this.#port.assignAddresses(eniId, request);
  }

  releaseAddresses(eniId: string, cidrs: readonly string[]): Promise<void> {
    return this.#port.releaseAddresses(eniId, cidrs);
  }

  async freeEni(eniId: string): Promise<void> {
    await this.#port.freeEni(eniId);
    const mac = this.#macs.get(eniId);
    this.#macs.delete(eniId);
    if (mac !== undefined) await deleteSimLink(mac);
  }
}
