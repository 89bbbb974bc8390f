/**
 * `HostNetwork`: ipamd's host-side setup in its own network namespace. Each call
 * reads the current state (`ip -j`, `iptables-save`), plans the difference with
 * the pure planners in `eni_plan.ts` and `iptables_rules.ts`, and applies only
 * that: one `ip -batch` for removals (tolerating entries the kernel already
 * dropped), one for additions, one `iptables-restore --noflush` for all tables.
 * Calling again with the same input changes nothing.
 *
 * @module
 */
import {
  CommandIpRunner,
  EntryNotFoundError,
  errorText,
  formatCidr,
  type IpCommand,
  type IpRunner,
  LinkNotFoundError,
  type Logger,
  parseCidr,
  parseIpv4,
  silentLogger,
  sleep,
} from "../../../shared/mod.ts";
import {
  type NetState,
  type Plan,
  planEni,
  planEniTeardown,
  planHostRules,
  staleEniDevices,
} from "./eni_plan.ts";
import { CommandIptables, type IptablesPort } from "./iptables_cmd.ts";
import { desiredRules, parseSave, planRestore, TABLES } from "./iptables_rules.ts";
import { normalizeMac, parseAddrs, parseLinks, parseRoutes, parseRules } from "./ip_state.ts";
import { type ProcSysPort, SysctlProcSys } from "./proc_sys.ts";
import type { EniSetup, EniSyncFailure, EniTeardown, HostNetworkPort, HostSetup } from "./types.ts";

/** The ports and knobs of a `HostNetwork`. */
export interface HostNetworkOptions {
  readonly ip?: IpRunner;
  readonly iptables?: IptablesPort;
  readonly procSys?: ProcSysPort;
  readonly log?: Logger;
  /** MTU of secondary ENIs that do not name one; default 9001. */
  readonly eniMtu?: number;
  /** Looks for a MAC this many times before giving up; default 5. */
  readonly linkAttempts?: number;
  /** Wait between looks; default 3000 ms. */
  readonly linkRetryMs?: number;
  /** For tests; default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

function normalizeCidrs(cidrs: readonly string[]): string[] {
  return [...new Set(cidrs.map((cidr) => formatCidr(parseCidr(cidr))))];
}

/** The real host network. */
export class HostNetwork implements HostNetworkPort {
  readonly #ip: IpRunner;
  readonly #iptables: IptablesPort;
  readonly #procSys: ProcSysPort;
  readonly #log: Logger;
  readonly #eniMtu: number;
  readonly #linkAttempts: number;
  readonly #linkRetryMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Calls run one at a time: each reads, plans and writes, and must not interleave with another. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: HostNetworkOptions = {}) {
    this.#ip = options.ip ?? new CommandIpRunner();
    this.#iptables = options.iptables ?? new CommandIptables();
    this.#procSys = options.procSys ?? new SysctlProcSys();
    this.#log = options.log ?? silentLogger;
    this.#eniMtu = options.eniMtu ?? 9001;
    this.#linkAttempts = Math.max(1, options.linkAttempts ?? 5);
    this.#linkRetryMs = options.linkRetryMs ?? 3000;
    this.#sleep = options.sleep ?? sleep;
  }

  setupHost(host: HostSetup): Promise<void> {
    return this.#serial(() => this.#setupHost(host));
  }

  setupEni(eni: EniSetup): Promise<void> {
    return this.#serial(() => this.#setupEni(eni));
  }

  teardownEni(eni: EniTeardown): Promise<void> {
    return this.#serial(() => this.#teardownEni(eni));
  }

  syncEnis(enis: readonly EniSetup[]): Promise<readonly EniSyncFailure[]> {
    return this.#serial(() => this.#syncEnis(enis));
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => {});
    return run;
  }

  async #setupHost(host: HostSetup): Promise<void> {
    parseIpv4(host.primaryIp);
    checkMtu(host.eniMtu);
    const [linkJson, rulesJson] = await this.#ip.query([
      ["link", "show", "dev", host.primaryIf],
      ["rule", "show"],
    ]);
    const link = parseLinks(linkJson)[0];
    if (link === undefined) {
      throw new LinkNotFoundError(`Cannot set up primary ENI "${host.primaryIf}": no such link`, {
        command: "",
        index: -1,
      });
    }
    const rules = planHostRules(parseRules(rulesJson), {
      fwmarkRule: host.nodePortSupport || !host.externalSnat,
      connmark: host.connmark,
      externalServiceCidrs: normalizeCidrs(host.externalServiceCidrs ?? []),
    });
    const mtu: IpCommand[] = link.mtu === host.eniMtu
      ? []
      : [["link", "set", "dev", host.primaryIf, "mtu", String(host.eniMtu)]];
    const changed = await this.#applyPlan({ remove: rules.remove, add: [...mtu, ...rules.add] });
    await this.#procSys.set(`net/ipv4/conf/${host.primaryIf}/rp_filter`, "2");
    const tablesChanged = await this.#applyIptables(host);
    if (changed + tablesChanged > 0) {
      this.#log.info("host network updated", { ifName: host.primaryIf, ipCommands: changed, tablesChanged });
    }
  }

  async #setupEni(eni: EniSetup): Promise<void> {
    const mtu = eni.mtu ?? this.#eniMtu;
    checkMtu(mtu);
    parseIpv4(eni.primaryIp);
    const subnetCidr = formatCidr(parseCidr(eni.subnetCidr));
    if (eni.deviceNumber === 0) throw new RangeError("Cannot set up the primary ENI as a secondary ENI");
    const name = await this.linkByMac(eni.mac);
    // `addr show` carries the link fields too; a `link show` earlier in the same batch would hide
    // the addresses (iproute2 keeps its link-only filter across batch lines).
    const [addrJson, routeJson, ruleJson] = await this.#ip.query([
      ["addr", "show", "dev", name],
      ["route", "show", "table", "all"],
      ["rule", "show"],
    ]);
    const link = parseLinks(addrJson)[0];
    if (link === undefined) {
      throw new LinkNotFoundError(`Cannot set up ENI "${eni.mac}": link "${name}" vanished`, {
        command: "",
        index: -1,
      });
    }
    const state = {
      addrs: parseAddrs(addrJson),
      routes: parseRoutes(routeJson),
      rules: parseRules(ruleJson),
    };
    const plan = planEni(state, link, { ...eni, subnetCidr, mtu });
    const changed = await this.#applyPlan(plan);
    if (changed > 0) {
      this.#log.info("ENI network updated", {
        eniId: eni.eniId,
        ifName: name,
        deviceNumber: eni.deviceNumber,
        ipCommands: changed,
      });
    }
  }

  async #teardownEni(eni: EniTeardown): Promise<void> {
    parseIpv4(eni.primaryIp);
    const plan = planEniTeardown(await this.#readState(), eni);
    const changed = await this.#applyPlan(plan);
    if (changed > 0) {
      this.#log.info("ENI network removed", { eniId: eni.eniId, deviceNumber: eni.deviceNumber });
    }
  }

  async #syncEnis(enis: readonly EniSetup[]): Promise<readonly EniSyncFailure[]> {
    const secondaries = enis.filter((eni) => eni.deviceNumber !== 0);
    const failures: EniSyncFailure[] = [];
    for (const eni of secondaries) {
      try {
        await this.#setupEni(eni);
      } catch (error) {
        const typed = error instanceof Error ? error : new Error(String(error));
        this.#log.warn("ENI network setup failed", {
          eniId: eni.eniId,
          deviceNumber: eni.deviceNumber,
          error: errorText(error),
        });
        failures.push({ deviceNumber: eni.deviceNumber, error: typed });
      }
    }
    const state = await this.#readState();
    for (const deviceNumber of staleEniDevices(state, secondaries.map((eni) => eni.deviceNumber))) {
      try {
        await this.#applyPlan(planEniTeardown(state, { deviceNumber }));
        this.#log.info("stale ENI network removed", { deviceNumber });
      } catch (error) {
        failures.push({ deviceNumber, error: error instanceof Error ? error : new Error(String(error)) });
      }
    }
    return failures;
  }

  async linkByMac(mac: string): Promise<string> {
    const wanted = normalizeMac(mac);
    for (let attempt = 1;; attempt++) {
      const [json] = await this.#ip.query([["link", "show"]]);
      const link = parseLinks(json).find((l) => l.mac === wanted);
      if (link !== undefined) return link.name;
      if (attempt >= this.#linkAttempts) {
        throw new LinkNotFoundError(`Cannot find a link with MAC "${wanted}" after ${attempt} attempts`, {
          command: "",
          index: -1,
        });
      }
      await this.#sleep(this.#linkRetryMs);
    }
  }

  async #readState(): Promise<NetState> {
    const [routeJson, ruleJson] = await this.#ip.query([["route", "show", "table", "all"], ["rule", "show"]]);
    return { addrs: [], routes: parseRoutes(routeJson), rules: parseRules(ruleJson) };
  }

  /** Runs removals (ignoring what is already gone), then additions; returns the number of commands. */
  async #applyPlan(plan: Plan): Promise<number> {
    const failures = await this.#ip.applyAll(plan.remove);
    const real = failures.find((f) => !(f.error instanceof EntryNotFoundError));
    if (real !== undefined) throw real.error;
    await this.#ip.apply(plan.add);
    return plan.remove.length + plan.add.length;
  }

  /** Writes every table whose rules differ in one `iptables-restore`; returns how many. */
  async #applyIptables(host: HostSetup): Promise<number> {
    const desired = desiredRules({
      ...host,
      vpcCidrs: normalizeCidrs(host.vpcCidrs),
      excludeSnatCidrs: normalizeCidrs(host.excludeSnatCidrs),
    });
    const blocks: string[] = [];
    for (const table of TABLES) {
      const current = parseSave(await this.#iptables.save(table), table);
      const block = planRestore(table, current, desired[table]);
      if (block !== null) blocks.push(block);
    }
    if (blocks.length > 0) await this.#iptables.restore(blocks.join(""));
    return blocks.length;
  }
}

function checkMtu(mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 9001) {
    throw new RangeError(`Invalid MTU "${mtu}": must be 576–9001`);
  }
}
