/**
 * One client stream: the request still to send and the response being
 * assembled (RFC 9113 §8.1: optional 1xx blocks, the final headers, DATA,
 * then trailers with END_STREAM; or a trailers-only HEADERS with END_STREAM).
 * The connection feeds it frames and acts on what it returns.
 *
 * @module
 */
import { concatBytes } from "../../../shared/mod.ts";
import { H2Error } from "./error.ts";
import { ErrorCode } from "./frame.ts";
import type { HeaderList } from "./hpack.ts";

/** A complete response. */
export interface H2Response {
  /** The final `:status`. */
  readonly status: number;
  /** The final response header block (for a trailers-only response, the only one). */
  readonly headers: HeaderList;
  /** The trailer block; empty for a trailers-only response. */
  readonly trailers: HeaderList;
  /** The DATA payloads, padding removed, concatenated. */
  readonly body: Uint8Array;
}

/** The first value of `name` in a header list. */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  return headers.find(([n]) => n === name)?.[1];
}

function malformed(why: string): H2Error {
  return new H2Error("protocol", ErrorCode.PROTOCOL_ERROR, `Malformed response: ${why}`);
}

/** A request stream and its response. */
export class H2Stream {
  /** Assigned when the stream starts (0 while queued). */
  id = 0;
  /** The request header block to send. */
  readonly requestHeaders: HeaderList;
  /** Request body bytes not yet sent. */
  unsent: Uint8Array;
  /** Bytes we may still send before a WINDOW_UPDATE. */
  sendWindow = 0;
  /** DATA bytes received and not yet returned to the peer by WINDOW_UPDATE. */
  unackedBytes = 0;
  /** Resolves with the response, or rejects with `H2Error` or the abort reason. */
  readonly response: Promise<H2Response>;
  #settled = false;
  #resolve!: (response: H2Response) => void;
  #reject!: (error: unknown) => void;
  readonly #maxBodyBytes: number;
  #status = 0;
  #headers: HeaderList | undefined;
  #trailers: HeaderList = [];
  #chunks: Uint8Array[] = [];
  #bodySize = 0;

  constructor(requestHeaders: HeaderList, body: Uint8Array, maxBodyBytes: number) {
    this.requestHeaders = requestHeaders;
    this.unsent = body;
    this.#maxBodyBytes = maxBodyBytes;
    this.response = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Whether the response promise is settled. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Takes a header block; returns the error to reset the stream with when it is out of place. */
  receiveHeaders(fields: HeaderList, endStream: boolean): H2Error | undefined {
    if (this.#headers !== undefined) {
      if (!endStream) return malformed("trailers without END_STREAM");
      this.#trailers = fields;
      return undefined;
    }
    const statusText = headerValue(fields, ":status") ?? "";
    if (!/^[1-5]\d\d$/.test(statusText)) return malformed(`":status" is "${statusText}"`);
    const status = Number(statusText);
    if (status < 200) return endStream ? malformed("1xx response with END_STREAM") : undefined;
    this.#status = status;
    this.#headers = fields;
    return undefined;
  }

  /** Takes DATA; returns the error to reset the stream with when it is out of place or too large. */
  receiveData(data: Uint8Array): H2Error | undefined {
    if (this.#headers === undefined) return malformed("DATA before the response headers");
    this.#bodySize += data.length;
    if (this.#bodySize > this.#maxBodyBytes) {
      return new H2Error("too_large", ErrorCode.CANCEL, `Response body exceeds ${this.#maxBodyBytes} bytes`);
    }
    if (data.length > 0) this.#chunks.push(data);
    return undefined;
  }

  /** Ends the response (END_STREAM received). */
  finish(): void {
    if (this.#settled) return;
    if (this.#headers === undefined) {
      this.fail(malformed("stream ended without response headers"));
      return;
    }
    const body = concatBytes(this.#chunks);
    this.#settled = true;
    this.#resolve({ status: this.#status, headers: this.#headers, trailers: this.#trailers, body });
  }

  /** Fails the response; later calls do nothing. */
  fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }
}
