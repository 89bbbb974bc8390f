/**
 * A daemon start that fails late, once the socket serves and the endpoints and
 * host network job run, leaves nothing behind: no socket file, no listener, no
 * timer. Deno's resource and op sanitizers check the same from their side.
 */
import { equal, rejects } from "node:assert/strict";
import { ManualClock } from "../shared/clock.ts";
import { silentLogger } from "../shared/log.ts";
import { ManualTimers } from "../testing/manual_timers.ts";
import { FakeHostNetwork } from "../testing/fake_host_network.ts";
import { simulatedAccount } from "../testing/sim_account.ts";
import { parseIpamdConfig } from "../ipamd/config/config.ts";
import { startDaemon } from "../ipamd/daemon.ts";
import { NodeNetwork } from "../ipamd/node/node_network.ts";
import { FileCheckpointStore } from "../ipamd/pool/checkpoint.ts";

/** A port nobody listens on right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Timers that refuse one delay, so the start step setting it fails. */
class RefusingTimers extends ManualTimers {
  readonly #refusedMs: number;
  refused = false;

  constructor(clock: ManualClock, refusedMs: number) {
    super(clock);
    this.#refusedMs = refusedMs;
  }

  override after(ms: number, fn: () => void): () => void {
    if (ms !== this.#refusedMs) return super.after(ms, fn);
    this.refused = true;
    throw new Error("Cannot set a timer");
  }
}

async function refused(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return false;
  } catch (error) {
    return error instanceof Deno.errors.ConnectionRefused;
  }
}

Deno.test("startDaemon() that fails after the socket serves removes the socket, stops the listeners and timers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aws-cni-start-" });
  try {
    const [metrics, introspection] = [freePort(), freePort()];
    const config = parseIpamdConfig({
      AWS_VPC_K8S_CNI_BACKING_STORE: `${dir}/ipam.json`,
      METRICS_BIND_ADDRESS: `127.0.0.1:${metrics}`,
      INTROSPECTION_BIND_ADDRESS: `127.0.0.1:${introspection}`,
    }, { socket: `${dir}/ipamd.sock` });
    const { limits, ec2 } = simulatedAccount();
    const clock = new ManualClock(Date.now());
    // The queued-release drain's 2 s timer is set after the server serves: refuse it.
    const timers = new RefusingTimers(clock, 2_000);
    const host = new FakeHostNetwork();
    const network = new NodeNetwork(host, { config, vpcCidrs: ["10.0.0.0/16"], log: silentLogger });
    await rejects(
      startDaemon(config, {
        ec2: ec2(),
        limits,
        checkpoint: new FileCheckpointStore(config.checkpointPath),
        clock,
        timers,
        log: silentLogger,
        network,
        shutdownGraceMs: 1_000,
      }),
      /Cannot set a timer/,
    );
    equal(timers.refused, true, "the start got as far as the release queue's timer");
    equal(host.calls.setupHost, 1, "host networking was set up, so its refresh job had started");
    equal(timers.pending, 0, "no timer is left: not the host refresh, not the grace period");
    await rejects(Deno.lstat(config.socketPath), Deno.errors.NotFound);
    equal(await refused(metrics), true, "the metrics listener is closed");
    equal(await refused(introspection), true, "the introspection listener is closed");
    equal(
      JSON.parse(await Deno.readTextFile(`${dir}/ipam.json`)).allocations.length,
      0,
      "the checkpoint was written",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
