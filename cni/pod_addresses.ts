/**
 * The pod addresses a DEL without prevResult can still find in the namespaces
 * (an ADD that was killed or never answered): the /32 IPv4 addresses on the pod
 * interface, else, when the pod side was never configured, the /32 routes via
 * the interface's host-side peer. With them DEL removes the host rules even when
 * ipamd cannot be asked which address the pod held.
 *
 * @module
 */
import type { VerbContext } from "./deps.ts";

type Json = Record<string, unknown>;

function rows(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter((v): v is Json => typeof v === "object" && v !== null) : [];
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** The pod interface's addresses as the namespaces show them; [] when nothing can be read. */
export async function addressesFromInterfaces(
  ctx: Pick<VerbContext, "env" | "deps" | "log">,
): Promise<string[]> {
  const { env, deps } = ctx;
  try {
    if (env.netns === "" || (await deps.checkNetns(env.netns)).problem !== undefined) return [];
    const [addr] = await deps.ip.query([["addr", "show", "dev", env.ifName]], { netns: env.netns });
    const link = rows(addr)[0];
    const own = rows(link?.["addr_info"])
      .filter((a) => a["family"] === "inet" && a["prefixlen"] === 32 && IPV4.test(String(a["local"])))
      .map((a) => String(a["local"]));
    if (own.length > 0) return own;
    const peer = link?.["link_index"];
    if (typeof peer !== "number") return [];
    const [links, routes] = await deps.ip.query([["link", "show"], ["route", "show", "table", "main"]]);
    const hostVeth = rows(links).find((l) => l["ifindex"] === peer)?.["ifname"];
    if (typeof hostVeth !== "string") return [];
    return rows(routes)
      .filter((r) => r["dev"] === hostVeth && r["scope"] === "link" && IPV4.test(String(r["dst"])))
      .map((r) => String(r["dst"]));
  } catch (error) {
    // The interface or namespace is gone (nothing to clean up there), or `ip` failed: DEL goes on without.
    ctx.log.debug("cannot read the pod's addresses from its interfaces", { error: String(error) });
    return [];
  }
}
