/**
 * Test helpers for the emulator: a simulated account with one running instance,
 * the emulator in front of it, and real SDK clients pointed at it; all closed by
 * `await using`. For tests only.
 *
 * @module
 */

import { EC2Client, type EC2ClientConfig } from "@aws-sdk/client-ec2";
import assert from "node:assert/strict";
import type { ManualClock } from "../shared/clock.ts";
import type { Ec2Simulation, Ec2SimulationOptions } from "../sim/ec2/simulation.ts";
import { simFixture } from "./ec2_sim_fixture.ts";
import { type Emulator, type EmulatorOptions, startEmulator } from "../sim/emulator/mod.ts";

/** A running emulator over a fresh simulation, with the instance it serves IMDS for. */
export interface EmulatorFixture extends AsyncDisposable {
  readonly sim: Ec2Simulation;
  /** The simulation's clock (a manual one unless `sim` options replaced it). */
  readonly clock: ManualClock;
  readonly instanceId: string;
  /** The instance's primary ENI (device 0). */
  readonly primaryEniId: string;
  readonly emulator: Emulator;
  /** An SDK client with `maxAttempts: 1`. */
  readonly ec2: EC2Client;
  /** Another SDK client (destroyed with the fixture). */
  client(config?: Partial<EC2ClientConfig>): EC2Client;
  /** A fresh IMDSv2 token. */
  imdsToken(ttlSeconds?: number): Promise<string>;
  /** GET an IMDS path with a token; resolves to status and body. */
  imds(path: string, token?: string): Promise<{ status: number; body: string }>;
}

/** Options of `emulatorFixture`. */
export interface FixtureOptions {
  readonly sim?: Partial<Ec2SimulationOptions>;
  readonly emulator?: Partial<Omit<EmulatorOptions, "sim" | "instanceId">>;
}

/**
 * Starts the emulator over `simFixture()` (subnets a, b, c; m5.large 3 ENIs x 10
 * IPv4; attach 2 s, detach 3 s on a manual clock) with an m5.large in subnet-a.
 */
export async function emulatorFixture(options: FixtureOptions = {}): Promise<EmulatorFixture> {
  const { sim, clock } = simFixture(options.sim);
  const launched = sim.launchInstance({ instanceType: "m5.large", subnetId: "subnet-a" });
  const emulator = await startEmulator({ sim, instanceId: launched.instanceId, ...options.emulator });
  const clients: EC2Client[] = [];
  const client = (config: Partial<EC2ClientConfig> = {}): EC2Client => {
    const created = new EC2Client({
      endpoint: emulator.ec2Endpoint,
      region: "us-west-2",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
      maxAttempts: 1,
      ...config,
    });
    clients.push(created);
    return created;
  };
  const imds = async (path: string, token?: string) => {
    const headers: Record<string, string> = token === undefined ? {} : { "x-aws-ec2-metadata-token": token };
    const response = await fetch(`${emulator.imdsEndpoint}${path}`, { headers });
    return { status: response.status, body: await response.text() };
  };
  return {
    sim,
    clock,
    instanceId: launched.instanceId,
    primaryEniId: launched.networkInterfaceId,
    emulator,
    ec2: client(),
    client,
    async imdsToken(ttlSeconds = 60) {
      const response = await fetch(`${emulator.imdsEndpoint}/latest/api/token`, {
        method: "PUT",
        headers: { "x-aws-ec2-metadata-token-ttl-seconds": String(ttlSeconds) },
      });
      const body = await response.text();
      assert.equal(response.status, 200, body);
      return body;
    },
    imds,
    async [Symbol.asyncDispose]() {
      for (const each of clients) each.destroy();
      await emulator.close();
    },
  };
}

/** Runs `call`, expecting an SDK service error; returns it. */
export async function sdkError(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    return error as SdkError;
  }
  assert.fail("expected the call to fail");
}

/** What an SDK service exception carries. */
export interface SdkError extends Error {
  readonly Code?: string;
  readonly $fault?: "client" | "server";
  readonly $metadata: {
    readonly httpStatusCode?: number;
    readonly requestId?: string;
    readonly attempts?: number;
  };
}

/** Asserts an SDK error's code (as `name` and `Code`) and HTTP status. */
export function assertServiceError(error: SdkError, code: string, httpStatus: number): void {
  assert.equal(error.name, code, error.message);
  assert.equal(error.Code, code);
  assert.equal(error.$metadata.httpStatusCode, httpStatus);
  assert.match(error.$metadata.requestId ?? "", /^[0-9a-f-]{36}$/);
}
