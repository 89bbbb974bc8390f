/**
 * A test "node" for the plugin: a namespace with two links standing in for
 * ENIs (dummy links when the kernel has them, bridges otherwise), private
 * mounts on aws-cni's own directories (`createNodeMounts`), a fake ipamd served
 * by the real gRPC server (`startRpcServer`) on the default socket path there,
 * and a way to exec `dist/aws-cni` inside the node exactly as a runtime does,
 * with its own narrow permission set and default paths.
 *
 * @module
 */
import { addNetworkReplyCodec, delNetworkReplyCodec } from "../shared/rpc/codec.ts";
import type {
  AddNetworkReply,
  AddNetworkRequest,
  DelNetworkReply,
  DelNetworkRequest,
  IpAllocationMetadata,
} from "../shared/rpc/messages.ts";
import { HealthStatus, ServingStatus } from "../ipamd/rpc/health.ts";
import { type CniBackend, type RpcServer, startRpcServer } from "../ipamd/rpc/server.ts";
import { RpcError } from "../ipamd/rpc/errors.ts";
import { Status } from "../shared/rpc/status.ts";
import { createNetns, createNodeMounts, type Netns, type NodeMounts, run, type RunResult } from "./netns.ts";

/** The built plugin. */
export const PLUGIN = new URL("../dist/aws-cni", import.meta.url).pathname;

/** An in-memory ipamd: device 0 hands out 10.0.0.10-99, device 1 10.0.1.10-99. */
export class MemoryBackend implements CniBackend {
  readonly free: IpAllocationMetadata[] = [];
  readonly held = new Map<string, IpAllocationMetadata>();
  readonly releases: DelNetworkRequest[] = [];
  /** Hand out only device-1 addresses while set. */
  secondaryOnly = false;

  constructor() {
    for (const device of [0, 1]) {
      for (let i = 10; i < 100; i++) {
        this.free.push({
          ipv4Addr: `10.0.${device}.${i}`,
          ipv6Addr: "",
          deviceNumber: device,
          routeTableId: device === 0 ? 254 : device + 1,
        });
      }
    }
  }

  addNetwork(request: AddNetworkRequest): Promise<AddNetworkReply> {
    const key = `${request.containerId}/${request.ifName}`;
    let held = this.held.get(key);
    if (held === undefined) {
      const at = this.free.findIndex((a) => !this.secondaryOnly || a.deviceNumber > 0);
      if (at < 0) return Promise.reject(new RpcError(Status.RESOURCE_EXHAUSTED, "no free address"));
      held = this.free.splice(at, 1)[0]!;
      this.held.set(key, held);
    }
    return Promise.resolve(addNetworkReplyCodec.create({ success: true, ipAllocations: [held] }));
  }

  delNetwork(request: DelNetworkRequest): Promise<DelNetworkReply> {
    this.releases.push(request);
    const key = `${request.containerId}/${request.ifName}`;
    const held = this.held.get(key);
    this.held.delete(key);
    if (held !== undefined) this.free.push(held);
    return Promise.resolve(delNetworkReplyCodec.create({ success: true, ipAllocations: held ? [held] : [] }));
  }
}

/** The plugin's default socket and log (cni/netconf.ts), as the node sees them. */
const SOCKET = "/var/run/aws-node/ipamd.sock";
const PLUGIN_LOG = "/var/log/aws-routed-eni/plugin.log";

/** A node namespace, its mounts and fake ipamd; disposing removes all of them. */
export interface TestNode extends AsyncDisposable {
  readonly netns: Netns;
  /** The node's private /run/aws-node, /var/log/aws-routed-eni and /etc/cni/net.d. */
  readonly mounts: NodeMounts;
  /** ipamd's socket as the plugin sees it (reach it from here through `mounts.outside`). */
  readonly socketPath: string;
  /** The plugin's log file, as this process reads it. */
  readonly logFile: string;
  readonly backend: MemoryBackend;
  /** The running server, or undefined after `stopIpamd`. */
  server: RpcServer | undefined;
  stopIpamd(): Promise<void>;
  /** Creates a pod namespace that is removed with the node (or earlier by its own dispose). */
  pod(label: string): Promise<Netns>;
  /** Execs `dist/aws-cni` inside the node with `env` and `stdin`, like a runtime. */
  plugin(env: Record<string, string>, stdin: string): Promise<RunResult>;
  /** A netconf for this node (the default socket and log, named explicitly). */
  netconf(fields?: Record<string, unknown>): Record<string, unknown>;
}

async function addEni(netns: Netns, name: string, cidr: string): Promise<void> {
  try {
    await netns.ip(`link add ${name} type dummy`);
  } catch {
    await netns.ip(`link add ${name} type bridge`);
  }
  await netns.ip(`addr add ${cidr} dev ${name}`, `link set ${name} up`);
}

/** Builds a node: eth0 = 10.0.0.5/24 (device 0), eth1 = 10.0.1.5/24 (device 1, table 2). */
export async function createNode(): Promise<TestNode> {
  const stack = new AsyncDisposableStack();
  try {
    const mounts = stack.use(await createNodeMounts());
    const netns = stack.use(await createNetns("node", mounts));
    await addEni(netns, "eth0", "10.0.0.5/24");
    await addEni(netns, "eth1", "10.0.1.5/24");
    await netns.ip("route add 10.0.1.0/24 dev eth1 table 2");
    const backend = new MemoryBackend();
    const health = new HealthStatus({ "": ServingStatus.SERVING });
    let server: RpcServer | undefined = await startRpcServer({
      socketPath: mounts.outside(SOCKET),
      backend,
      health,
    });
    const stopIpamd = async (): Promise<void> => {
      await server?.close(1000);
      server = undefined;
    };
    stack.defer(stopIpamd);
    const pods = stack.use(new AsyncDisposableStack());
    const moved = stack.move();
    const node: TestNode = {
      netns,
      mounts,
      socketPath: SOCKET,
      logFile: mounts.outside(PLUGIN_LOG),
      backend,
      get server() {
        return server;
      },
      stopIpamd,
      pod: async (label) => pods.use(await createNetns(label)),
      plugin: (env, stdin) => netns.exec(PLUGIN, [], { stdin, env: pluginEnv(env), clearEnv: true }),
      netconf: (fields = {}) => ({
        cniVersion: "1.0.0",
        name: "aws-cni",
        type: "aws-cni",
        ipamdSocket: SOCKET,
        pluginLogFile: PLUGIN_LOG,
        pluginLogLevel: "debug",
        ...fields,
      }),
      [Symbol.asyncDispose]: () => moved.disposeAsync(),
    };
    return node;
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}

/** The env a runtime gives a plugin: CNI_* plus what Deno itself needs. */
export function pluginEnv(cni: Record<string, string>): Record<string, string> {
  const keep: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "DENO_NO_UPDATE_CHECK", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) keep[name] = value;
  }
  return { ...keep, ...cni };
}

/** Whether `dist/aws-cni` exists (it comes from `make build`). */
export async function pluginBuilt(): Promise<boolean> {
  const result = await run("test", ["-x", PLUGIN]);
  return result.code === 0;
}
