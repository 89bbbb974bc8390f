/**
 * `FakeIpRunner`: an in-memory model of links, addresses, routes, rules and
 * neighbours per namespace, driven by the same command words the real runner
 * sends. It understands the subset of `ip` the plugin uses, answers queries in
 * `ip -j` shapes, and can fail chosen commands.
 *
 * @module
 */
import {
  EntryExistsError,
  EntryNotFoundError,
  type IpCommand,
  IpCommandError,
  type IpLineFailure,
  type IpRunner,
  type IpTarget,
  LinkNotFoundError,
  NetnsNotFoundError,
} from "../shared/ip_cmd.ts";
import type { IpSession, IpSessions } from "../cni/ip_session.ts";

/** One link in a fake namespace. */
export interface FakeLink {
  name: string;
  mac: string;
  mtu: number;
  up: boolean;
  /** The other end of a veth: namespace key and name. */
  peer?: { ns: string; name: string };
}

/** One fake namespace. `""` is the runner's own. */
export class FakeNetns {
  readonly links = new Map<string, FakeLink>();
  readonly addrs: { dev: string; cidr: string }[] = [];
  readonly routes: { dst: string; dev: string; via?: string; scope?: string }[] = [];
  readonly rules: { prio: number; from?: string; to?: string; table: string }[] = [];
  readonly neighs: { dst: string; lladdr: string; dev: string; permanent: boolean }[] = [];

  /** Whether anything but loopback-free emptiness is left (for leak checks). */
  isEmpty(): boolean {
    return this.links.size + this.addrs.length + this.routes.length + this.rules.length +
        this.neighs.length === 0;
  }
}

type Ctx = { ns: FakeNetns; key: string; command: string; index: number };

/** The fake runner. */
export class FakeIpRunner implements IpRunner, IpSessions {
  readonly namespaces = new Map<string, FakeNetns>([["", new FakeNetns()]]);
  /** Every command run, as "<netns or host>: <words>". */
  readonly history: string[] = [];
  /** Number of `ip` processes the real runner would have started. */
  execs = 0;
  /** Makes a command fail: return an Error to throw for it. */
  failWhen: ((command: string, netns: string) => Error | undefined) | undefined;

  /** The runner's own namespace. */
  get host(): FakeNetns {
    return this.namespaces.get("")!;
  }

  /** Creates a namespace at `path`. */
  addNetns(path: string): FakeNetns {
    const ns = new FakeNetns();
    this.namespaces.set(path, ns);
    return ns;
  }

  /** Removes a namespace; veth peers in other namespaces go with it, as in the kernel. */
  deleteNetns(path: string): void {
    const ns = this.namespaces.get(path);
    this.namespaces.delete(path);
    for (const link of ns?.links.values() ?? []) this.#dropPeer(link);
  }

  apply(commands: readonly IpCommand[], target: IpTarget = {}): Promise<void> {
    const failures = this.#run(commands, target, true);
    return failures[0] === undefined ? Promise.resolve() : Promise.reject(failures[0].error);
  }

  applyAll(commands: readonly IpCommand[], target: IpTarget = {}): Promise<readonly IpLineFailure[]> {
    try {
      return Promise.resolve(this.#run(commands, target, false));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A session runs each step at once, on to the end of it (`-force`); a
   * missing namespace fails every step, as `ip -n` does before any command.
   */
  open(target: IpTarget = {}): IpSession {
    this.execs++;
    const run = (commands: readonly IpCommand[]): readonly IpLineFailure[] => {
      if (commands.length === 0) return [];
      try {
        return this.#run(commands, target, false, false);
      } catch (error) {
        return [{ index: -1, error: error as IpLineFailure["error"] }];
      }
    };
    return {
      step: (commands) => Promise.resolve(run(commands)),
      end: (commands = []) => Promise.resolve(run(commands)),
      detach: (commands) => void run(commands),
    };
  }

  query(commands: readonly IpCommand[], target: IpTarget = {}): Promise<unknown[]> {
    this.execs++;
    try {
      const key = target.netns ?? "";
      const ns = this.#ns(key);
      return Promise.resolve(commands.map((words, index) => this.#show(ns, words, index)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #ns(key: string): FakeNetns {
    const ns = this.namespaces.get(key);
    if (ns === undefined) {
      throw new NetnsNotFoundError(`Cannot open network namespace "${key}"`, { command: "", index: -1 });
    }
    return ns;
  }

  #run(commands: readonly IpCommand[], target: IpTarget, stopAtFirst: boolean, exec = true): IpLineFailure[] {
    if (exec) this.execs++;
    const key = target.netns ?? "";
    const ns = this.#ns(key);
    const failures: IpLineFailure[] = [];
    for (const [index, words] of commands.entries()) {
      const command = words.join(" ");
      this.history.push(`${key || "host"}: ${command}`);
      try {
        const injected = this.failWhen?.(command, key);
        if (injected !== undefined) throw injected;
        this.#exec({ ns, key, command, index }, words);
      } catch (error) {
        const typed = error as IpLineFailure["error"];
        failures.push({ index, error: typed });
        if (stopAtFirst || words[0] === "neigh") break;
      }
    }
    return failures;
  }

  #exec(c: Ctx, w: IpCommand): void {
    const [object, verb] = w;
    const info = { command: c.command, index: c.index };
    const arg = (name: string): string | undefined => {
      const at = w.indexOf(name, 2);
      return at < 0 ? undefined : w[at + 1];
    };
    const needLink = (name: string | undefined): FakeLink => {
      const link = name === undefined ? undefined : c.ns.links.get(name);
      if (link === undefined) throw new LinkNotFoundError(`Cannot find device "${name}"`, info);
      return link;
    };
    if (object === "link" && verb === "add") return this.#addVeth(c, w);
    if (object === "link" && verb === "del") return this.#deleteLink(c.ns, needLink(w[2]));
    if (object === "link" && verb === "set" && arg("name") !== undefined) {
      return this.#rename(c, needLink(w[2]), arg("name")!);
    }
    if (object === "link" && verb === "set") return void (needLink(w[2]).up = w.includes("up"));
    if (object === "addr" && verb === "add") {
      needLink(arg("dev"));
      if (c.ns.addrs.some((a) => a.cidr === w[2] && a.dev === arg("dev"))) {
        throw new EntryExistsError("File exists", info);
      }
      return void c.ns.addrs.push({ dev: arg("dev")!, cidr: w[2]! });
    }
    if (object === "route") {
      const dst = w[2] === "default" ? "default" : w[2]!.replace(/\/32$/, "");
      const found = c.ns.routes.findIndex((r) => r.dst === dst);
      if (verb === "del") {
        if (found < 0) throw new EntryNotFoundError("RTNETLINK answers: No such process", info);
        return void c.ns.routes.splice(found, 1);
      }
      needLink(arg("dev"));
      if (verb === "add" && found >= 0) throw new EntryExistsError("RTNETLINK answers: File exists", info);
      if (found >= 0) c.ns.routes.splice(found, 1);
      const via = arg("via");
      const scope = arg("scope");
      return void c.ns.routes.push({
        dst,
        dev: arg("dev")!,
        ...(via ? { via } : {}),
        ...(scope ? { scope } : {}),
      });
    }
    if (object === "rule") {
      const from = arg("from")?.replace(/\/32$/, "");
      const to = arg("to")?.replace(/\/32$/, "");
      const prio = Number(arg("prio"));
      const found = c.ns.rules.findIndex((r) => r.prio === prio && r.from === from && r.to === to);
      if (verb === "del") {
        if (found < 0) throw new EntryNotFoundError("RTNETLINK answers: No such file or directory", info);
        return void c.ns.rules.splice(found, 1);
      }
      if (found >= 0) throw new EntryExistsError("RTNETLINK answers: File exists", info);
      const rule = { prio, table: arg("lookup") ?? "main", ...(from ? { from } : {}), ...(to ? { to } : {}) };
      return void c.ns.rules.push(rule);
    }
    if (object === "neigh" && verb === "replace") {
      needLink(arg("dev"));
      const kept = c.ns.neighs.filter((n) => !(n.dst === w[2] && n.dev === arg("dev")));
      c.ns.neighs.splice(0, c.ns.neighs.length, ...kept);
      return void c.ns.neighs.push({ dst: w[2]!, lladdr: arg("lladdr")!, dev: arg("dev")!, permanent: true });
    }
    throw new IpCommandError(`The fake does not understand "${c.command}"`, info);
  }

  #addVeth(c: Ctx, w: IpCommand): void {
    const info = { command: c.command, index: c.index };
    const peerAt = w.indexOf("peer");
    const own = w.slice(0, peerAt);
    const peer = w.slice(peerAt);
    const value = (words: IpCommand, name: string): string => words[words.indexOf(name) + 1] ?? "";
    const peerKey = peer.includes("netns") ? value(peer, "netns") : c.key;
    const peerNs = this.namespaces.get(peerKey);
    if (peerNs === undefined) throw new NetnsNotFoundError(`Invalid "netns" value "${peerKey}"`, info);
    const name = value(own, "name");
    const peerName = value(peer, "name");
    if (c.ns.links.has(name) || peerNs.links.has(peerName)) throw new EntryExistsError("File exists", info);
    const mtu = Number(value(own, "mtu") || 1500);
    c.ns.links.set(name, {
      name,
      mac: value(own, "address"),
      mtu,
      up: false,
      peer: { ns: peerKey, name: peerName },
    });
    peerNs.links.set(peerName, {
      name: peerName,
      mac: value(peer, "address"),
      mtu: Number(value(peer, "mtu") || 1500),
      up: false,
      peer: { ns: c.key, name },
    });
  }

  /** Renames a link; what refers to it by name (its peer, addresses, routes, neighbours) follows. */
  #rename(c: Ctx, link: FakeLink, name: string): void {
    if (c.ns.links.has(name)) throw new EntryExistsError("RTNETLINK answers: File exists", c);
    const old = link.name;
    c.ns.links.delete(old);
    link.name = name;
    c.ns.links.set(name, link);
    const peer = link.peer === undefined
      ? undefined
      : this.namespaces.get(link.peer.ns)?.links.get(link.peer.name);
    if (peer?.peer !== undefined) peer.peer = { ns: peer.peer.ns, name };
    for (const list of [c.ns.addrs, c.ns.routes, c.ns.neighs]) {
      for (const entry of list) if (entry.dev === old) entry.dev = name;
    }
  }

  #deleteLink(ns: FakeNetns, link: FakeLink): void {
    ns.links.delete(link.name);
    this.#forget(ns, link.name);
    this.#dropPeer(link);
  }

  #dropPeer(link: FakeLink): void {
    if (link.peer === undefined) return;
    const peerNs = this.namespaces.get(link.peer.ns);
    if (peerNs === undefined) return;
    peerNs.links.delete(link.peer.name);
    this.#forget(peerNs, link.peer.name);
  }

  /** What the kernel removes with a link: its addresses, routes and neighbours. */
  #forget(ns: FakeNetns, dev: string): void {
    const keep = <T extends { dev: string }>(list: T[]): void =>
      void list.splice(0, list.length, ...list.filter((e) => e.dev !== dev));
    keep(ns.addrs);
    keep(ns.routes);
    keep(ns.neighs);
  }

  #show(ns: FakeNetns, w: IpCommand, index: number): unknown {
    const [object] = w;
    const dev = w.includes("dev") ? w[w.indexOf("dev") + 1] : undefined;
    const info = { command: w.join(" "), index };
    const link = dev === undefined ? undefined : ns.links.get(dev);
    if (dev !== undefined && link === undefined) {
      throw new LinkNotFoundError(`Cannot find device "${dev}"`, info);
    }
    const linkJson = (l: FakeLink) => ({
      ifname: l.name,
      address: l.mac,
      mtu: l.mtu,
      flags: l.up ? ["UP"] : [],
      // `ip` names a veth peer in another namespace by that namespace's id.
      ...(l.peer !== undefined && this.namespaces.get(l.peer.ns) !== ns ? { link_netnsid: 0 } : {}),
    });
    if (object === "link") return [...ns.links.values()].filter((l) => l === link || !link).map(linkJson);
    if (object === "addr") {
      return [...ns.links.values()].filter((l) => l === link || !link).map((l) => ({
        ...linkJson(l),
        addr_info: ns.addrs.filter((a) => a.dev === l.name).map((a) => {
          const [local, bits] = a.cidr.split("/");
          return { family: "inet", local, prefixlen: Number(bits ?? 32) };
        }),
      }));
    }
    if (object === "route") {
      return ns.routes.filter((r) => !dev || r.dev === dev).map((r) => ({
        dst: r.dst,
        ...(dev ? {} : { dev: r.dev }),
        ...(r.via ? { gateway: r.via } : {}),
        ...(r.scope ? { scope: r.scope } : {}),
      }));
    }
    if (object === "neigh") {
      return ns.neighs.filter((n) => !dev || n.dev === dev).map((n) => ({
        dst: n.dst,
        lladdr: n.lladdr,
        state: n.permanent ? ["PERMANENT"] : ["REACHABLE"],
      }));
    }
    if (object === "rule") {
      return ns.rules.map((r) => ({
        priority: r.prio,
        src: r.from ?? "all",
        ...(r.to ? { dst: r.to } : {}),
        table: r.table,
      }));
    }
    throw new IpCommandError(`The fake cannot show "${info.command}"`, info);
  }
}

const _check: IpRunner & IpSessions = new FakeIpRunner();
