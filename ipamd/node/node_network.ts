/**
 * Keeps the node's host networking in step with the pool: host-wide SNAT and
 * connmark rules, and per-ENI links, tables and rules, set up at start, on every
 * new ENI, torn down when an ENI is freed, and re-applied now and then (another
 * tool may have flushed them). Failures are logged; the next refresh retries.
 *
 * @module
 */
import { errorText, type Logger, PeriodicJob, type Timers } from "../../shared/mod.ts";
import type { IpamdConfig } from "../config/mod.ts";
import type { HostNetworkPort } from "./host/mod.ts";

/** What the host setup needs to know of an ENI. */
export interface NodeEni {
  readonly eniId: string;
  readonly deviceNumber: number;
  readonly primary: boolean;
  readonly mac: string;
  readonly primaryIp: string;
  readonly subnetCidr: string;
}

/** How often host networking is re-applied, in case another tool flushed it. */
const REFRESH_MS = 60_000;

/** Host networking for one node. */
export class NodeNetwork {
  readonly #host: HostNetworkPort;
  readonly #config: IpamdConfig;
  readonly #vpcCidrs: readonly string[];
  readonly #log: Logger;

  constructor(
    host: HostNetworkPort,
    options: { config: IpamdConfig; vpcCidrs: readonly string[]; log: Logger },
  ) {
    this.#host = host;
    this.#config = options.config;
    this.#vpcCidrs = options.vpcCidrs;
    this.#log = options.log;
  }

  /**
   * Sets up the host for the ENIs `enis()` lists now, then again every minute on
   * `timers` until the returned job is disposed.
   */
  async maintain(enis: () => readonly NodeEni[], timers: Timers): Promise<PeriodicJob> {
    await this.refresh(enis());
    return new PeriodicJob(timers, () => this.refresh(enis()), {
      intervalMs: REFRESH_MS,
      onError: (error) => this.#log.error("host network refresh failed", { error: errorText(error) }),
    });
  }

  /** Sets up the host-wide rules and every secondary ENI. */
  async refresh(enis: readonly NodeEni[]): Promise<void> {
    const primary = enis.find((eni) => eni.primary);
    if (primary === undefined) return;
    const c = this.#config;
    try {
      await this.#host.setupHost({
        primaryIf: await this.#host.linkByMac(primary.mac),
        primaryIp: primary.primaryIp,
        vpcCidrs: this.#vpcCidrs,
        excludeSnatCidrs: c.excludeSnatCidrs,
        externalSnat: c.externalSnat,
        randomizeSnat: c.randomizeSnat,
        nodePortSupport: c.nodePortSupport,
        connmark: c.connmark,
        vethPrefix: c.vethPrefix,
        eniMtu: c.eniMtu,
        externalServiceCidrs: c.externalServiceCidrs,
      });
    } catch (error) {
      this.#log.error("host network setup failed", { error: errorText(error) });
    }
    for (const failure of await this.#host.syncEnis(enis.map((eni) => ({ ...eni, mtu: c.eniMtu })))) {
      this.#log.error("ENI network setup failed", {
        device: failure.deviceNumber,
        error: errorText(failure.error),
      });
    }
  }

  /** Sets up a just-attached ENI. */
  async added(eni: NodeEni): Promise<void> {
    try {
      await this.#host.setupEni({ ...eni, mtu: this.#config.eniMtu });
    } catch (error) {
      this.#log.error("ENI network setup failed", { eniId: eni.eniId, error: errorText(error) });
    }
  }

  /** Removes a freed ENI's table and rule. */
  async removed(eni: NodeEni): Promise<void> {
    try {
      await this.#host.teardownEni({
        deviceNumber: eni.deviceNumber,
        primaryIp: eni.primaryIp,
        eniId: eni.eniId,
      });
    } catch (error) {
      this.#log.error("ENI network teardown failed", { eniId: eni.eniId, error: errorText(error) });
    }
  }
}
