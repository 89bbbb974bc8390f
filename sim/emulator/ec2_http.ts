/**
 * The EC2 Query protocol over HTTP in front of an `Ec2Simulation`: form-encoded
 * POST (or GET) with `Action` and `Version`, XML answers with request ids, and
 * EC2's error documents and HTTP statuses. Signatures are not checked; any
 * credentials do. Each call first waits out the simulation's latency knob for its
 * action, then may hang (transport knobs), then runs.
 *
 * @module
 */

import { type Ec2Action, Ec2SimError, type Ec2Simulation } from "../ec2/mod.ts";
import { type ActionContext, EC2_ACTIONS } from "./ec2_actions.ts";
import { Ec2TransportKnobs } from "./ec2_transport_knobs.ts";
import { errorDocument, successDocument } from "./ec2_xml.ts";
import { QueryParams } from "./query_params.ts";

/** The only API version the emulator speaks. */
export const EC2_API_VERSION = "2016-11-15";

/** Serves EC2 Query requests against one simulation. */
export class Ec2HttpHandler {
  /** Wire faults: calls that never answer. */
  readonly transport: Ec2TransportKnobs = new Ec2TransportKnobs();
  readonly #calls = new Map<Ec2Action, number>();
  readonly #sim: Ec2Simulation;
  readonly #context: ActionContext;
  readonly #closing = new AbortController();
  readonly #inFlight = new Set<Promise<Response>>();

  constructor(sim: Ec2Simulation) {
    this.#sim = sim;
    this.#context = { sim, createdByToken: new Map() };
  }

  /** Answers one HTTP request; never rejects. */
  handle(request: Request): Promise<Response> {
    const answer = this.#answer(request);
    this.#inFlight.add(answer);
    return answer.finally(() => this.#inFlight.delete(answer));
  }

  /** Calls received per action (every well-formed call, throttled, failed and hung ones too). */
  calls(): Partial<Record<Ec2Action, number>> {
    return Object.fromEntries(this.#calls);
  }

  /** Ends every waiting or hung call (answered 503); resolves once every call has its answer. */
  async release(): Promise<void> {
    this.#closing.abort();
    await Promise.all(this.#inFlight);
  }

  async #answer(request: Request): Promise<Response> {
    try {
      return await this.#handle(request);
    } catch (error) {
      if (error instanceof Ec2SimError) return errorResponse(error);
      const message = error instanceof Error ? error.message : String(error);
      return errorResponse(new Ec2SimError("InternalError", `The emulator failed: ${message}`));
    }
  }

  async #handle(request: Request): Promise<Response> {
    if (request.method !== "POST" && request.method !== "GET") {
      throw new Ec2SimError("MethodNotAllowed", `The HTTP method ${request.method} is not allowed`, {
        httpStatus: 405,
      });
    }
    const url = new URL(request.url);
    const body = request.method === "POST" ? await request.text() : "";
    const params = new QueryParams(url.search.slice(1), body);
    const action = checkAction(params);
    this.#calls.set(action, (this.#calls.get(action) ?? 0) + 1);
    const dryRun = params.boolean("DryRun");
    if (!await this.#wait(this.#sim.knobs.latencyMs(action))) throw unavailable();
    const hang = this.transport.draw(action);
    if (hang !== null && !hang.applied) throw await this.#hang();
    if (dryRun === true) this.#sim.dryRun(action);
    if (hang !== null) {
      try {
        EC2_ACTIONS[action](params, this.#context);
      } catch {
        // The action ran; its answer, an error or not, is lost with the response.
      }
      throw await this.#hang();
    }
    const answer = EC2_ACTIONS[action](params, this.#context);
    return xmlResponse(200, successDocument(action, answer), answer.requestId);
  }

  /** Waits `ms`; false when the emulator closed first. */
  #wait(ms: number): Promise<boolean> {
    const closing = this.#closing.signal;
    if (closing.aborted) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (elapsed: boolean) => {
        clearTimeout(timer);
        closing.removeEventListener("abort", onAbort);
        resolve(elapsed);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(true), ms);
      closing.addEventListener("abort", onAbort);
    });
  }

  /** Never answers while the emulator runs; resolves to the error sent once it closes. */
  async #hang(): Promise<Ec2SimError> {
    const closing = this.#closing.signal;
    if (!closing.aborted) {
      await new Promise((resolve) => closing.addEventListener("abort", resolve, { once: true }));
    }
    return unavailable();
  }
}

function checkAction(params: QueryParams): Ec2Action {
  const action = params.string("Action");
  if (action === undefined || action === "") {
    throw new Ec2SimError("MissingAction", "The request must contain the parameter Action");
  }
  const version = params.required("Version");
  if (version !== EC2_API_VERSION) {
    throw new Ec2SimError(
      "NoSuchVersion",
      `The requested version (${version}) of service AmazonEC2 is not served by this emulator (${EC2_API_VERSION})`,
    );
  }
  if (!Object.hasOwn(EC2_ACTIONS, action)) {
    throw new Ec2SimError("InvalidAction", `The action ${action} is not valid for this web service.`);
  }
  return action as Ec2Action;
}

function unavailable(): Ec2SimError {
  return new Ec2SimError("Unavailable", "The service is unavailable (the emulator is closing)");
}

function errorResponse(error: Ec2SimError): Response {
  const requestId = error.requestId === "" ? crypto.randomUUID() : error.requestId;
  return xmlResponse(
    error.httpStatus,
    errorDocument({ code: error.code, message: error.message, requestId }),
    requestId,
  );
}

function xmlResponse(status: number, body: string, requestId: string): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/xml;charset=UTF-8", "x-amzn-requestid": requestId },
  });
}
