/**
 * One client HTTP/2 connection (RFC 9113) that runs one request at a time,
 * which is all a gRPC unary client needs: the connection preface and
 * SETTINGS, a request as one HEADERS frame and at most one DATA frame, and
 * the response as HEADERS (+ CONTINUATION), DATA and trailers. It ACKs
 * SETTINGS and PING, gives back receive-window credit, sends only within the
 * peer's windows, resets an abandoned stream with CANCEL and stops taking
 * requests on GOAWAY. It never sends GOAWAY: closing just closes the socket
 * (Deno's nghttp2 can abort a process that receives GOAWAY, denoland/deno#36788).
 *
 * @module
 */
import { concatBytes } from "../../../shared/mod.ts";
import { H2Error, protocolError } from "./error.ts";
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  encodeFrame,
  encodeUint32Frame,
  ErrorCode,
  Flag,
  type Frame,
  framePayload,
  FrameReader,
  FrameType,
  MAX_FRAME_SIZE_LIMIT,
  MAX_WINDOW,
  readUint32,
  Setting,
} from "./frame.ts";
import { encodeHeaderBlock, type HeaderList, HpackDecoder } from "./hpack.ts";

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

/** Options of one request. */
export interface RequestOptions {
  /** Aborting resets the stream (CANCEL) and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** A larger response body resets the stream and rejects with a "too_large" `H2Error`. */
  readonly maxBodyBytes?: number;
}

/** The largest request body: one DATA frame of the size every peer accepts. */
export const MAX_REQUEST_BYTES = DEFAULT_MAX_FRAME_SIZE;

/** Received DATA is given back to the peer's windows once this much has arrived. */
const CREDIT_THRESHOLD = Math.ceil(DEFAULT_WINDOW / 2);
/** Larger header blocks are refused (ipamd's are a few hundred bytes). */
const MAX_HEADER_BLOCK_BYTES = 64 * 1024;
/** Our SETTINGS: SETTINGS_ENABLE_PUSH = 0. */
const CLIENT_SETTINGS = encodeFrame(
  FrameType.SETTINGS,
  0,
  0,
  Uint8Array.of(0, Setting.ENABLE_PUSH, 0, 0, 0, 0),
);

/** The first value of `name` in a header list. */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  return headers.find(([n]) => n === name)?.[1];
}

function unavailable(message: string, cause?: unknown): H2Error {
  return new H2Error("unavailable", 0, message, { cause });
}

/** A socket error as an "unavailable" `H2Error`. */
function lost(error: unknown): H2Error {
  return unavailable(error instanceof Error ? error.message : String(error), error);
}

function malformed(why: string): H2Error {
  return new H2Error("protocol", ErrorCode.PROTOCOL_ERROR, `Malformed response: ${why}`);
}

function expectLength(frame: Frame, length: number): void {
  if (frame.payload.length !== length) {
    throw protocolError(
      ErrorCode.FRAME_SIZE_ERROR,
      `Frame type ${frame.type} of ${frame.payload.length} bytes`,
    );
  }
}

/** The stream in flight and the response being assembled. */
interface Stream {
  readonly id: number;
  readonly maxBodyBytes: number;
  readonly resolve: (response: H2Response) => void;
  readonly reject: (error: unknown) => void;
  /** Whether our END_STREAM went out (else the body waits for window). */
  requestSent: boolean;
  sendWindow: number;
  /** DATA bytes received and not yet given back by WINDOW_UPDATE. */
  unacked: number;
  status: number;
  headers: HeaderList | undefined;
  trailers: HeaderList;
  chunks: Uint8Array[];
  size: number;
}

/** A header block waiting for its CONTINUATION frames. */
interface OpenBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly parts: Uint8Array[];
  size: number;
}

/** One HTTP/2 connection; see the module doc. */
export class H2Session {
  /** Resolves once the socket is closed and reading has stopped; never rejects. */
  readonly closed: Promise<void>;
  readonly #socket: Deno.Conn;
  readonly #reader = new FrameReader();
  readonly #decoder = new HpackDecoder();
  /** Settles when the bytes queued so far are written (or the connection failed). */
  #writing: Promise<void> = Promise.resolve();
  #queue: Uint8Array[] = [];
  #flushing = false;
  #nextId = 1;
  #stream: Stream | undefined;
  #block: OpenBlock | undefined;
  #sawSettings = false;
  /** The peer's SETTINGS_INITIAL_WINDOW_SIZE. */
  #initialWindow = DEFAULT_WINDOW;
  /** What we may still send on the connection. */
  #connectionWindow = DEFAULT_WINDOW;
  #onWindow: (() => void) | undefined;
  /** Connection DATA bytes received and not yet given back. */
  #unacked = 0;
  #goingAway = false;
  #closing = false;
  #socketClosed = false;
  #failure: H2Error | undefined;

  /**
   * Connects to a Unix socket; failures reject with an "unavailable" `H2Error`,
   * except a path outside the permission set (`Deno.errors.NotCapable`, as is):
   * no retry can reach that one.
   */
  static async connect(path: string): Promise<H2Session> {
    try {
      return new H2Session(await Deno.connect({ transport: "unix", path }));
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      throw lost(error);
    }
  }

  /** Starts HTTP/2 on a connected socket: the preface and our SETTINGS. */
  constructor(socket: Deno.Conn) {
    this.#socket = socket;
    this.#write(concatBytes([CLIENT_PREFACE, CLIENT_SETTINGS]));
    this.closed = this.#readLoop();
  }

  /** Whether a new request may start (no GOAWAY, close() or failure yet); one may still be in flight. */
  get isAvailable(): boolean {
    return this.#failure === undefined && !this.#goingAway && !this.#closing;
  }

  /**
   * Sends a request with `body` (at most `MAX_REQUEST_BYTES`) and resolves with
   * the whole response. One request at a time: a second one while the first is
   * in flight is a programming error.
   */
  request(headers: HeaderList, body: Uint8Array, options: RequestOptions = {}): Promise<H2Response> {
    if (!this.isAvailable) {
      return Promise.reject(
        this.#failure ?? unavailable(`The connection is ${this.#goingAway ? "going away" : "closing"}`),
      );
    }
    if (this.#stream !== undefined) throw new Error("H2Session runs one request at a time");
    if (body.length > MAX_REQUEST_BYTES) {
      throw new RangeError(
        `Cannot send a request body of ${body.length} bytes: at most ${MAX_REQUEST_BYTES}`,
      );
    }
    const block = encodeHeaderBlock(headers);
    if (block.length > DEFAULT_MAX_FRAME_SIZE) {
      throw new RangeError(
        `Cannot send a header block of ${block.length} bytes: at most ${DEFAULT_MAX_FRAME_SIZE}`,
      );
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const response = new Promise<H2Response>((resolve, reject) => {
      this.#stream = {
        id: this.#nextId,
        maxBodyBytes: options.maxBodyBytes ?? Number.POSITIVE_INFINITY,
        resolve,
        reject,
        requestSent: false,
        sendWindow: this.#initialWindow,
        unacked: 0,
        status: 0,
        headers: undefined,
        trailers: [],
        chunks: [],
        size: 0,
      };
    });
    const stream = this.#stream!;
    this.#nextId += 2;
    const onAbort = (): void => this.#reset(stream, ErrorCode.CANCEL, signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const flags = Flag.END_HEADERS | (body.length === 0 ? Flag.END_STREAM : 0);
    this.#write(encodeFrame(FrameType.HEADERS, flags, stream.id, block));
    if (body.length === 0) stream.requestSent = true;
    else void this.#sendBody(stream, body);
    return response.finally(() => signal?.removeEventListener("abort", onAbort));
  }

  /** Lets the request in flight finish, then closes the socket; resolves when it is closed. */
  close(): Promise<void> {
    this.#closing = true;
    this.#closeIfIdle();
    return this.closed;
  }

  /** Sends the body in one DATA frame with END_STREAM once both windows allow it. */
  async #sendBody(stream: Stream, body: Uint8Array): Promise<void> {
    while (Math.min(stream.sendWindow, this.#connectionWindow) < body.length) {
      await new Promise<void>((resolve) => this.#onWindow = resolve);
      if (this.#stream !== stream) return;
    }
    stream.sendWindow -= body.length;
    this.#connectionWindow -= body.length;
    stream.requestSent = true;
    this.#write(encodeFrame(FrameType.DATA, Flag.END_STREAM, stream.id, body));
  }

  #wakeSender(): void {
    const wake = this.#onWindow;
    this.#onWindow = undefined;
    wake?.();
  }

  /**
   * Queues bytes; the frames queued in one tick go out in one write (the
   * preface and the first request together). A failed write fails the connection.
   */
  #write(bytes: Uint8Array): void {
    this.#queue.push(bytes);
    if (this.#queue.length === 1 && !this.#flushing) this.#writing = this.#flush();
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      await Promise.resolve();
      while (this.#queue.length > 0 && !this.#socketClosed) {
        const bytes = concatBytes(this.#queue.splice(0));
        for (let offset = 0; offset < bytes.length;) {
          offset += await this.#socket.write(bytes.subarray(offset));
        }
      }
    } catch (error) {
      this.#fail(lost(error));
    } finally {
      this.#queue = [];
      this.#flushing = false;
    }
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(DEFAULT_MAX_FRAME_SIZE + 9);
    let failure: H2Error;
    try {
      for (;;) {
        const n = await this.#socket.read(buffer);
        if (n === null) {
          failure = unavailable(`The connection was closed by ${this.#socketClosed ? "us" : "the peer"}`);
          break;
        }
        this.#reader.push(buffer.subarray(0, n));
        for (let frame = this.#reader.next(); frame !== undefined; frame = this.#reader.next()) {
          this.#onFrame(frame);
        }
      }
    } catch (error) {
      failure = error instanceof H2Error ? error : lost(error);
    }
    this.#fail(failure);
  }

  /** Fails the stream in flight and closes the socket, without a GOAWAY. */
  #fail(error: H2Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    if (this.#stream !== undefined) this.#settle(this.#stream, error);
    this.#closeSocket();
  }

  #closeSocket(): void {
    if (this.#socketClosed) return;
    this.#socketClosed = true;
    try {
      this.#socket.close();
    } catch {
      // Already closed.
    }
  }

  #closeIfIdle(): void {
    if (!(this.#goingAway || this.#closing) || this.#stream !== undefined) return;
    // Let the last frames (an RST_STREAM, a WINDOW_UPDATE) go out first.
    this.#writing.then(() => this.#closeSocket());
  }

  /** Detaches the stream in flight; false when `stream` has ended already. */
  #end(stream: Stream): boolean {
    if (this.#stream !== stream) return false;
    this.#stream = undefined;
    this.#wakeSender();
    this.#closeIfIdle();
    return true;
  }

  /** Fails the stream in flight with `error`. */
  #settle(stream: Stream, error: unknown): void {
    if (this.#end(stream)) stream.reject(error);
  }

  /** Resets the stream in flight with `code` and fails it with `error`. */
  #reset(stream: Stream, code: number, error: unknown): void {
    if (this.#stream !== stream) return;
    this.#write(encodeUint32Frame(FrameType.RST_STREAM, stream.id, code));
    this.#settle(stream, error);
  }

  /** END_STREAM received. A request body still waiting for window is not needed any more. */
  #finish(stream: Stream): void {
    if (!stream.requestSent) {
      this.#write(encodeUint32Frame(FrameType.RST_STREAM, stream.id, ErrorCode.CANCEL));
    }
    const { status, headers = [], trailers } = stream;
    if (this.#end(stream)) stream.resolve({ status, headers, trailers, body: concatBytes(stream.chunks) });
  }

  #onFrame(frame: Frame): void {
    if (!this.#sawSettings) {
      // The server's preface is a SETTINGS frame (RFC 9113 §3.4).
      if (frame.type !== FrameType.SETTINGS || frame.flags & Flag.ACK) {
        throw protocolError(
          ErrorCode.PROTOCOL_ERROR,
          `The server began with frame type ${frame.type}, not SETTINGS`,
        );
      }
      this.#sawSettings = true;
    }
    if (this.#block !== undefined || frame.type === FrameType.CONTINUATION) {
      return this.#onContinuation(frame);
    }
    switch (frame.type) {
      case FrameType.DATA:
        return this.#onData(frame);
      case FrameType.HEADERS:
        return this.#onHeaders(frame);
      case FrameType.RST_STREAM:
        return this.#onRstStream(frame);
      case FrameType.SETTINGS:
        return this.#onSettings(frame);
      case FrameType.PING:
        return this.#onPing(frame);
      case FrameType.GOAWAY:
        return this.#onGoaway(frame);
      case FrameType.WINDOW_UPDATE:
        return this.#onWindowUpdate(frame);
      case FrameType.PUSH_PROMISE:
        throw protocolError(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE although push is disabled");
      default:
        return; // PRIORITY and extension frames are ignored (RFC 9113 §5.5)
    }
  }

  /** The stream of a stream frame while in flight; undefined once it ended; throws for stream 0 or an idle stream. */
  #streamOf(frame: Frame): Stream | undefined {
    const id = frame.streamId;
    if (id === 0 || id % 2 === 0 || id >= this.#nextId) {
      throw protocolError(ErrorCode.PROTOCOL_ERROR, `Frame type ${frame.type} on stream ${id}`);
    }
    return this.#stream?.id === id ? this.#stream : undefined;
  }

  #expectConnectionFrame(frame: Frame): void {
    if (frame.streamId !== 0) {
      throw protocolError(ErrorCode.PROTOCOL_ERROR, `Frame type ${frame.type} on stream ${frame.streamId}`);
    }
  }

  #onData(frame: Frame): void {
    const stream = this.#streamOf(frame);
    const data = framePayload(frame);
    // Every DATA byte, padding included, uses the connection window, even on a stream that ended.
    this.#unacked += frame.payload.length;
    if (this.#unacked >= CREDIT_THRESHOLD) {
      this.#write(encodeUint32Frame(FrameType.WINDOW_UPDATE, 0, this.#unacked));
      this.#unacked = 0;
    }
    if (stream === undefined) return;
    if (stream.headers === undefined) {
      return this.#reset(stream, ErrorCode.PROTOCOL_ERROR, malformed("DATA before the response headers"));
    }
    stream.size += data.length;
    if (stream.size > stream.maxBodyBytes) {
      const error = new H2Error(
        "too_large",
        ErrorCode.CANCEL,
        `Response body exceeds ${stream.maxBodyBytes} bytes`,
      );
      return this.#reset(stream, ErrorCode.CANCEL, error);
    }
    if (data.length > 0) stream.chunks.push(data);
    if (frame.flags & Flag.END_STREAM) return this.#finish(stream);
    stream.unacked += frame.payload.length;
    if (stream.unacked >= CREDIT_THRESHOLD) {
      this.#write(encodeUint32Frame(FrameType.WINDOW_UPDATE, stream.id, stream.unacked));
      stream.unacked = 0;
    }
  }

  #onHeaders(frame: Frame): void {
    this.#streamOf(frame);
    const fragment = framePayload(frame);
    const endStream = (frame.flags & Flag.END_STREAM) !== 0;
    this.#block = { streamId: frame.streamId, endStream, parts: [], size: 0 };
    this.#addFragment(frame, fragment);
  }

  #onContinuation(frame: Frame): void {
    const open = this.#block;
    if (frame.type !== FrameType.CONTINUATION || open?.streamId !== frame.streamId) {
      throw protocolError(
        ErrorCode.PROTOCOL_ERROR,
        open === undefined
          ? `CONTINUATION on stream ${frame.streamId} without HEADERS`
          : `Frame type ${frame.type} inside the header block of stream ${open.streamId}`,
      );
    }
    this.#addFragment(frame, frame.payload);
  }

  #addFragment(frame: Frame, fragment: Uint8Array): void {
    const open = this.#block!;
    open.parts.push(fragment);
    open.size += fragment.length;
    if (open.size > MAX_HEADER_BLOCK_BYTES) {
      throw protocolError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `Header block exceeds ${MAX_HEADER_BLOCK_BYTES} bytes`,
      );
    }
    if ((frame.flags & Flag.END_HEADERS) === 0) return;
    this.#block = undefined;
    // Decoded even for a stream that ended, to keep the dynamic table in step.
    const fields = this.#decoder.decode(concatBytes(open.parts));
    const stream = this.#stream?.id === open.streamId ? this.#stream : undefined;
    if (stream !== undefined) this.#onHeaderBlock(stream, fields, open.endStream);
  }

  /** Response headers (after any 1xx blocks), or trailers with END_STREAM (RFC 9113 §8.1). */
  #onHeaderBlock(stream: Stream, fields: HeaderList, endStream: boolean): void {
    if (stream.headers !== undefined) {
      if (!endStream) {
        return this.#reset(stream, ErrorCode.PROTOCOL_ERROR, malformed("trailers without END_STREAM"));
      }
      stream.trailers = fields;
      return this.#finish(stream);
    }
    const statusText = headerValue(fields, ":status") ?? "";
    if (!/^[1-5]\d\d$/.test(statusText)) {
      return this.#reset(stream, ErrorCode.PROTOCOL_ERROR, malformed(`":status" is "${statusText}"`));
    }
    const status = Number(statusText);
    if (status < 200) {
      if (endStream) this.#reset(stream, ErrorCode.PROTOCOL_ERROR, malformed("1xx response with END_STREAM"));
      return;
    }
    stream.status = status;
    stream.headers = fields;
    if (endStream) this.#finish(stream);
  }

  #onRstStream(frame: Frame): void {
    expectLength(frame, 4);
    const stream = this.#streamOf(frame);
    if (stream === undefined) return;
    const code = readUint32(frame.payload);
    this.#settle(
      stream,
      new H2Error("reset", code, `Stream ${stream.id} was reset by the peer (HTTP/2 code ${code})`),
    );
  }

  #onSettings(frame: Frame): void {
    this.#expectConnectionFrame(frame);
    if (frame.flags & Flag.ACK) return expectLength(frame, 0);
    if (frame.payload.length % 6 !== 0) {
      throw protocolError(ErrorCode.FRAME_SIZE_ERROR, `SETTINGS of ${frame.payload.length} bytes`);
    }
    const view = new DataView(frame.payload.buffer, frame.payload.byteOffset, frame.payload.byteLength);
    for (let i = 0; i < frame.payload.length; i += 6) {
      const [id, value] = [view.getUint16(i), view.getUint32(i + 2)];
      if (id === Setting.ENABLE_PUSH && value > 1) {
        throw protocolError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH of ${value}`);
      } else if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) {
          throw protocolError(ErrorCode.FLOW_CONTROL_ERROR, `Initial window of ${value}`);
        }
        if (this.#stream !== undefined) this.#stream.sendWindow += value - this.#initialWindow;
        this.#initialWindow = value;
      } else if (
        id === Setting.MAX_FRAME_SIZE && (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_FRAME_SIZE_LIMIT)
      ) {
        throw protocolError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE of ${value}`);
      }
    }
    this.#write(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
    this.#wakeSender();
  }

  #onPing(frame: Frame): void {
    this.#expectConnectionFrame(frame);
    expectLength(frame, 8);
    if ((frame.flags & Flag.ACK) === 0) this.#write(encodeFrame(FrameType.PING, Flag.ACK, 0, frame.payload));
  }

  /** A stream above the last one the peer will process fails as "unavailable"; one below may finish. */
  #onGoaway(frame: Frame): void {
    this.#expectConnectionFrame(frame);
    if (frame.payload.length < 8) {
      throw protocolError(ErrorCode.FRAME_SIZE_ERROR, "GOAWAY shorter than 8 bytes");
    }
    const lastStreamId = readUint32(frame.payload) & MAX_WINDOW;
    const code = readUint32(frame.payload, 4);
    this.#goingAway = true;
    const stream = this.#stream;
    if (stream !== undefined && stream.id > lastStreamId) {
      this.#settle(stream, unavailable(`The peer is going away (GOAWAY with HTTP/2 code ${code})`));
    }
    this.#closeIfIdle();
  }

  #onWindowUpdate(frame: Frame): void {
    expectLength(frame, 4);
    const increment = readUint32(frame.payload) & MAX_WINDOW;
    if (frame.streamId === 0) {
      if (increment === 0 || this.#connectionWindow + increment > MAX_WINDOW) {
        throw protocolError(ErrorCode.FLOW_CONTROL_ERROR, `Connection WINDOW_UPDATE of ${increment}`);
      }
      this.#connectionWindow += increment;
      return this.#wakeSender();
    }
    const stream = this.#streamOf(frame);
    if (stream === undefined) return;
    if (increment === 0 || stream.sendWindow + increment > MAX_WINDOW) {
      const error = protocolError(ErrorCode.FLOW_CONTROL_ERROR, `Stream WINDOW_UPDATE of ${increment}`);
      return this.#reset(stream, ErrorCode.FLOW_CONTROL_ERROR, error);
    }
    stream.sendWindow += increment;
    this.#wakeSender();
  }
}
