/**
 * Test fixture for the SDK adapter: the EC2 + IMDS emulator over `simFixture()`
 * (manual clock), one launched instance, and the real adapter stack pointed at it
 * over HTTP: IMDS client, request budget, SDK client, `Ec2Requests` and
 * `SdkEc2Port`. Every wait sleeps on the manual clock, so attaches, detaches,
 * back-offs and bucket refills take no real time. For tests only.
 *
 * @module
 */
import type { EC2Client } from "../ipamd/cloud/ec2_sdk_api.ts";
import { type Clock, type ManualClock, systemClock } from "../shared/clock.ts";
import { type Logger, silentLogger } from "../shared/log.ts";
import type { Ec2Simulation, Ec2SimulationOptions } from "../sim/ec2/simulation.ts";
import { simFixture } from "./ec2_sim_fixture.ts";
import { SdkEc2Port, type SdkEc2PortOptions } from "../ipamd/cloud/ec2_sdk.ts";
import { createEc2Client, Ec2Sender } from "../ipamd/cloud/ec2_sdk_client.ts";
import { SdkEniDirectory } from "../ipamd/cloud/ec2_sdk_directory.ts";
import { Ec2Requests } from "../ipamd/cloud/ec2_sdk_requests.ts";
import { type Emulator, type EmulatorOptions, startEmulator } from "../sim/emulator/mod.ts";
import { HttpImdsClient } from "../ipamd/cloud/imds.ts";
import { HttpImdsApi } from "../ipamd/cloud/imds_api.ts";
import { RateBudget, type RateBudgetOptions } from "../ipamd/cloud/rate_budget.ts";

/** The adapter stack over an emulated account. */
export interface SdkFixture extends AsyncDisposable {
  readonly sim: Ec2Simulation;
  /** The simulation's manual clock (unused with `realTime`). */
  readonly clock: ManualClock;
  readonly emulator: Emulator;
  readonly instanceId: string;
  readonly primaryEniId: string;
  readonly primaryMac: string;
  readonly imds: HttpImdsApi;
  readonly budget: RateBudget;
  readonly client: EC2Client;
  readonly requests: Ec2Requests;
  readonly directory: SdkEniDirectory;
  readonly port: SdkEc2Port;
  /** Sleeps on the manual clock (on real timers with `realTime`). */
  sleep(ms: number): Promise<void>;
}

/** What to change from the defaults. */
export interface SdkFixtureOptions {
  readonly sim?: Partial<Ec2SimulationOptions>;
  readonly emulator?: Partial<Omit<EmulatorOptions, "sim" | "instanceId">>;
  readonly budget?: Partial<Omit<RateBudgetOptions, "clock" | "sleep">>;
  readonly port?: Partial<Omit<SdkEc2PortOptions, "node" | "clock" | "sleep">>;
  /** Default 30 000 (the emulator's transport hangs end at close). */
  readonly timeoutMs?: number;
  readonly pageSize?: number;
  readonly log?: Logger;
  /** Run everything (simulation, waits, buckets) on the wall clock and real timers. */
  readonly realTime?: boolean;
}

/**
 * An m5.large (3 ENIs × 10 IPv4) in subnet-a (10.0.1.0/24) with security group
 * `sg-node`, attach 2 s and detach 3 s, behind the emulator, with the adapter on top.
 */
export async function sdkFixture(options: SdkFixtureOptions = {}): Promise<SdkFixture> {
  const { sim, clock } = simFixture(
    options.realTime === true ? { clock: systemClock, ...options.sim } : options.sim,
  );
  const launched = sim.launchInstance({
    instanceType: "m5.large",
    subnetId: "subnet-a",
    securityGroups: ["sg-node"],
  });
  const emulator = await startEmulator({ sim, instanceId: launched.instanceId, ...options.emulator });
  const sleep = options.realTime === true
    ? (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
    : (ms: number): Promise<void> => {
      clock.advance(ms);
      return Promise.resolve();
    };
  const time: Clock = options.realTime === true ? systemClock : clock;
  const imds = new HttpImdsApi(new HttpImdsClient({ endpoint: emulator.imdsEndpoint, clock: time, sleep }));
  const budget = new RateBudget({ clock: time, sleep, random: () => 0.5, ...options.budget });
  const client = createEc2Client({
    region: "us-west-2",
    endpoint: emulator.ec2Endpoint,
    timeoutMs: options.timeoutMs ?? 30_000,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
  });
  const sender = new Ec2Sender(client, budget);
  const requests = new Ec2Requests(sender);
  const directory = new SdkEniDirectory(
    sender,
    options.pageSize === undefined ? {} : { pageSize: options.pageSize },
  );
  const port = new SdkEc2Port(requests, imds, {
    node: {
      instanceId: launched.instanceId,
      subnetId: "subnet-a",
      subnetCidr: "10.0.1.0/24",
      securityGroupIds: ["sg-node"],
    },
    clock: time,
    sleep,
    log: options.log ?? silentLogger,
    ...options.port,
  });
  return {
    sim,
    clock,
    emulator,
    instanceId: launched.instanceId,
    primaryEniId: launched.networkInterfaceId,
    primaryMac: launched.macAddress,
    imds,
    budget,
    client,
    requests,
    directory,
    port,
    sleep,
    async [Symbol.asyncDispose]() {
      client.destroy();
      await emulator.close();
    },
  };
}
