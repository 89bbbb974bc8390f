/**
 * `FakeHostNetwork`: an in-memory host for daemon tests. It keeps the last host
 * setup and the configured ENIs by device number, knows which MACs have a link
 * (all of them unless `links` is set), and can fail chosen calls. Tests look at
 * the state, not at the calls.
 *
 * @module
 */
import { LinkNotFoundError } from "../shared/ip_cmd.ts";
import { normalizeMac } from "../ipamd/node/host/ip_state.ts";
import type {
  EniSetup,
  EniSyncFailure,
  EniTeardown,
  HostNetworkPort,
  HostSetup,
} from "../ipamd/node/host/types.ts";

/** Which call failed. */
export type HostNetworkOp = "setupHost" | "setupEni" | "teardownEni" | "linkByMac";

/** The fake. */
export class FakeHostNetwork implements HostNetworkPort {
  /** The last `setupHost` input, or null before the first. */
  host: HostSetup | null = null;
  /** Configured secondary ENIs by device number. */
  readonly enis = new Map<number, EniSetup>();
  /** MAC to link name; when null every MAC has a link, named `link-<mac without colons>`. */
  links: Map<string, string> | null = null;
  /** How many times each op ran (successful or not). */
  readonly calls: Record<HostNetworkOp, number> = { setupHost: 0, setupEni: 0, teardownEni: 0, linkByMac: 0 };
  /** Return an Error to make a call fail. */
  failWhen: ((op: HostNetworkOp, subject: string) => Error | undefined) | undefined;

  setupHost(host: HostSetup): Promise<void> {
    this.calls.setupHost++;
    const injected = this.failWhen?.("setupHost", host.primaryIf);
    if (injected !== undefined) return Promise.reject(injected);
    this.host = host;
    return Promise.resolve();
  }

  async setupEni(eni: EniSetup): Promise<void> {
    this.calls.setupEni++;
    const injected = this.failWhen?.("setupEni", eni.mac);
    if (injected !== undefined) throw injected;
    if (eni.deviceNumber === 0) throw new RangeError("Cannot set up the primary ENI as a secondary ENI");
    await this.linkByMac(eni.mac);
    this.enis.set(eni.deviceNumber, eni);
  }

  teardownEni(eni: EniTeardown): Promise<void> {
    this.calls.teardownEni++;
    const injected = this.failWhen?.("teardownEni", String(eni.deviceNumber));
    if (injected !== undefined) return Promise.reject(injected);
    this.enis.delete(eni.deviceNumber);
    for (const [device, known] of this.enis) {
      if (known.primaryIp === eni.primaryIp) this.enis.delete(device);
    }
    return Promise.resolve();
  }

  async syncEnis(enis: readonly EniSetup[]): Promise<readonly EniSyncFailure[]> {
    const failures: EniSyncFailure[] = [];
    const secondaries = enis.filter((eni) => eni.deviceNumber !== 0);
    for (const eni of secondaries) {
      try {
        await this.setupEni(eni);
      } catch (error) {
        failures.push({ deviceNumber: eni.deviceNumber, error: error as Error });
      }
    }
    const keep = new Set(secondaries.map((eni) => eni.deviceNumber));
    for (const device of [...this.enis.keys()]) if (!keep.has(device)) this.enis.delete(device);
    return failures;
  }

  linkByMac(mac: string): Promise<string> {
    this.calls.linkByMac++;
    const wanted = normalizeMac(mac);
    const injected = this.failWhen?.("linkByMac", wanted);
    if (injected !== undefined) return Promise.reject(injected);
    const name = this.links === null ? `link-${wanted.replaceAll(":", "")}` : this.links.get(wanted);
    if (name === undefined) {
      return Promise.reject(
        new LinkNotFoundError(`Cannot find a link with MAC "${wanted}"`, { command: "", index: -1 }),
      );
    }
    return Promise.resolve(name);
  }
}

const _check: HostNetworkPort = new FakeHostNetwork();
