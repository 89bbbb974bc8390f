/**
 * The AWS SDK's EC2 client as the adapter uses it: built with a per-request
 * timeout that fails the request (`throwOnRequestTimeout`) and without SDK
 * retries, so `RateBudget` holds the one retry policy. `Ec2Sender` sends each
 * request within the budget, and `cloudErrorFromSdk` is the one place an SDK
 * failure becomes a `CloudError`.
 *
 * @module
 */
import { EC2Client, type EC2ClientConfig, EC2ServiceException } from "./ec2_sdk_api.ts";
import { cloudErrorFromCode } from "./ec2_codes.ts";
import type { Ec2Action } from "./ec2_actions.ts";
import { CloudError } from "./errors.ts";
import type { CallShape, RateBudget } from "./rate_budget.ts";

/** Static credentials, for the emulator and tests; real nodes use the SDK's default chain. */
export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Where and how the client talks to EC2. */
export interface Ec2ClientSettings {
  readonly region: string;
  /** null or absent: the SDK's choice (AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, else the regional endpoint). */
  readonly endpoint?: string | null;
  /** Per request: connecting and answering each get this long. */
  readonly timeoutMs: number;
  /** Absent: the SDK's default credential chain. */
  readonly credentials?: StaticCredentials;
}

/** An EC2 client without SDK retries, whose requests fail after `timeoutMs`. */
export function createEc2Client(settings: Ec2ClientSettings): EC2Client {
  const config: EC2ClientConfig = {
    region: settings.region,
    maxAttempts: 1,
    requestHandler: {
      requestTimeout: settings.timeoutMs,
      connectionTimeout: settings.timeoutMs,
      throwOnRequestTimeout: true,
    },
    ...(settings.endpoint === undefined || settings.endpoint === null ? {} : { endpoint: settings.endpoint }),
    ...(settings.credentials === undefined ? {} : { credentials: { ...settings.credentials } }),
  };
  return new EC2Client(config);
}

/** Sends SDK requests within a `RateBudget`; every failure leaves as a `CloudError`. */
export class Ec2Sender {
  readonly client: EC2Client;
  readonly budget: RateBudget;

  constructor(client: EC2Client, budget: RateBudget) {
    this.client = client;
    this.budget = budget;
  }

  /** Runs `request` (one EC2 request of `action`) within the budget, translating its failures. */
  send<T>(action: Ec2Action, shape: CallShape, request: (client: EC2Client) => Promise<T>): Promise<T> {
    return this.budget.run(action, shape, async () => {
      try {
        return await request(this.client);
      } catch (error) {
        throw cloudErrorFromSdk(error, action);
      }
    });
  }

  /** Closes the client's connections. */
  close(): void {
    this.client.destroy();
  }
}

/** Transport failures: no answer, so no EC2 code. */
const TRANSPORT_ERRORS = new Set([
  "TimeoutError",
  "AbortError",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * The one translation of an SDK failure: EC2 error codes go through
 * `cloudErrorFromCode`; timeouts, broken connections and unreadable answers are
 * "unavailable"; anything else (a bug, a bad argument) is rethrown as it is.
 */
export function cloudErrorFromSdk(error: unknown, action: Ec2Action): CloudError {
  if (error instanceof CloudError) return error;
  if (error instanceof EC2ServiceException) {
    return cloudErrorFromCode(error.name, error.message, {
      ...(error.$metadata.httpStatusCode === undefined ? {} : { httpStatus: error.$metadata.httpStatusCode }),
      cause: error,
    });
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const name = !TRANSPORT_ERRORS.has(error.name) && typeof code === "string" && TRANSPORT_ERRORS.has(code)
      ? code
      : error.name;
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (TRANSPORT_ERRORS.has(name) || (status !== undefined && status >= 500) || isTransport(error)) {
      return new CloudError("unavailable", name, `EC2 ${action} got no usable answer: ${error.message}`, {
        cause: error,
      });
    }
    if (status !== undefined) {
      return cloudErrorFromCode(name, error.message, { httpStatus: status, cause: error });
    }
  }
  throw error;
}

/** A fetch or socket failure, or an answer the SDK could not parse. */
function isTransport(error: Error): boolean {
  return error instanceof TypeError && /fetch|network|socket|connect/i.test(error.message) ||
    /socket hang up|Deserialization error|connection/i.test(error.message);
}
