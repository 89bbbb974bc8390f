/**
 * The simulated cloud as a process of its own, standing in for the EC2
 * instance of one node: run it inside the node's network namespace, point the
 * daemon at the endpoints of the JSON line it prints once it serves, and turn
 * its faults through the control socket. SIGTERM or SIGINT stops it and removes
 * its links and namespaces. See flags.ts for the command line.
 *
 * @module
 */
import { createLogger, errorText, systemClock } from "../../shared/mod.ts";
import { CLOUD_USAGE, parseCloudArgs } from "./flags.ts";
import { startCloud } from "./cloud.ts";
import { serveControl } from "./control_server.ts";
import type { CloudReady } from "./protocol.ts";
import { VethLinks, type VpcSide } from "./veth_links.ts";

const encoder = new TextEncoder();
const say = (text: string) => void Deno.stderr.writeSync(encoder.encode(text));

async function main(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) return say(CLOUD_USAGE), 0;
  let options;
  try {
    options = parseCloudArgs(args);
  } catch (error) {
    say(`cloud: ${errorText(error)}\n${CLOUD_USAGE}`);
    return 2;
  }
  const log = createLogger(say, { level: "info", fields: { op: "cloud" } });
  const ownDir = options.controlPath === null ? await Deno.makeTempDir({ prefix: "aws-cni-cloud-" }) : null;
  const control = options.controlPath ?? `${ownDir}/control.sock`;
  let vpc: VpcSide | null = null;
  try {
    const cloud = await startCloud(options, {
      clock: systemClock,
      log,
      openLinks: !options.links ? null : async (routers) => {
        const links = await VethLinks.open({ vpcNetns: options.vpcNetns, routers });
        vpc = links.vpc;
        return links;
      },
    });
    let server;
    try {
      await removeStaleSocket(control);
      server = serveControl(cloud, control);
    } catch (error) {
      await cloud.close();
      throw error;
    }
    const side = vpc as VpcSide | null;
    const ready: CloudReady = {
      ...cloud.endpoints,
      control,
      vpcNetns: side?.netns ?? null,
      vpcHolderPid: side?.holderPid ?? null,
      pid: Deno.pid,
    };
    Deno.stdout.writeSync(encoder.encode(JSON.stringify(ready) + "\n"));
    log.info("simulated cloud serving", { ...cloud.endpoints, control });
    await new Promise<void>((resolve) => {
      const stop = () => {
        Deno.removeSignalListener("SIGTERM", stop);
        Deno.removeSignalListener("SIGINT", stop);
        resolve();
      };
      Deno.addSignalListener("SIGTERM", stop);
      Deno.addSignalListener("SIGINT", stop);
    });
    await server.shutdown();
    await cloud.close();
    log.info("simulated cloud stopped");
    return 0;
  } catch (error) {
    say(`cloud: cannot start: ${errorText(error)}\n`);
    return 1;
  } finally {
    if (ownDir !== null) await Deno.remove(ownDir, { recursive: true }).catch(() => {});
  }
}

/** A socket left by a cloud that was killed is removed; anything else there is refused by the bind. */
async function removeStaleSocket(path: string): Promise<void> {
  const info = await Deno.lstat(path).catch(() => null);
  if (info?.isSocket === true) await Deno.remove(path);
}

Deno.exit(await main(Deno.args));
