/**
 * A client HTTP/2 connection (RFC 9113) for gRPC unary calls: concurrent
 * request/response streams over one socket, with SETTINGS, PING, flow control
 * both ways, RST_STREAM and GOAWAY. It never sends GOAWAY: closing waits for
 * the streams in flight and then just closes the socket (Deno's nghttp2 can
 * abort a process that receives GOAWAY, denoland/deno#36788).
 *
 * @module
 */
import { H2Error, protocolError } from "./error.ts";
import {
  CLIENT_PREFACE,
  DEFAULT_WINDOW,
  encodeFrame,
  encodeSettings,
  encodeUint32Frame,
  ErrorCode,
  Flag,
  type Frame,
  framePayload,
  FrameReader,
  FrameType,
  MAX_WINDOW,
  readUint32,
  Setting,
} from "./frame.ts";
import { type HeaderBlock, HeaderBlockAssembler } from "./header_block.ts";
import { type HeaderList, HpackDecoder } from "./hpack.ts";
import { StreamSender } from "./sender.ts";
import { type H2Response, H2Stream } from "./stream.ts";
import { StreamTable } from "./stream_table.ts";
import { SocketWriter } from "./writer.ts";

/** Options of one request. */
export interface RequestOptions {
  /** Aborting resets the stream (CANCEL) and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** A larger response body resets the stream and rejects with a "too_large" `H2Error`. */
  readonly maxBodyBytes?: number;
}

/** Received DATA is returned to the peer's windows once this much has arrived. */
const WINDOW_UPDATE_THRESHOLD = Math.ceil(DEFAULT_WINDOW / 2);
const READ_BUFFER_BYTES = 64 * 1024;

function unavailable(message: string, cause?: unknown): H2Error {
  return new H2Error("unavailable", 0, message, { cause });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function expectLength(frame: Frame, length: number): void {
  if (frame.payload.length !== length) {
    throw protocolError(
      ErrorCode.FRAME_SIZE_ERROR,
      `Frame type ${frame.type} of ${frame.payload.length} bytes`,
    );
  }
}

/** One HTTP/2 connection; see the module doc. */
export class H2Connection {
  /** Resolves once the socket is closed and reading has stopped; never rejects. */
  readonly closed: Promise<void>;
  readonly #socket: Deno.Conn;
  readonly #writer: SocketWriter;
  readonly #sender: StreamSender;
  readonly #reader = new FrameReader();
  readonly #headerBlocks = new HeaderBlockAssembler();
  readonly #decoder = new HpackDecoder();
  readonly #streams = new StreamTable();
  #unackedBytes = 0;
  #sawServerPreface = false;
  #goingAway = false;
  #closing = false;
  #socketClosed = false;
  #failure: H2Error | undefined;

  /**
   * Connects to a Unix socket; failures reject with an "unavailable" `H2Error`,
   * except a path outside the permission set (`Deno.errors.NotCapable`, as is):
   * no retry can reach that one.
   */
  static async connect(path: string): Promise<H2Connection> {
    try {
      return new H2Connection(await Deno.connect({ transport: "unix", path }));
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      throw unavailable(messageOf(error), error);
    }
  }

  /** Starts HTTP/2 on a connected socket: sends the preface and our SETTINGS (push disabled). */
  constructor(socket: Deno.Conn) {
    this.#socket = socket;
    this.#writer = new SocketWriter(socket, (error) => this.#fail(unavailable(messageOf(error), error)));
    this.#sender = new StreamSender(this.#writer);
    this.#writer.write(CLIENT_PREFACE);
    this.#writer.write(encodeSettings([[Setting.ENABLE_PUSH, 0]]));
    this.closed = this.#readLoop();
  }

  /** Whether a new request may start here (no GOAWAY, close() or failure yet). */
  get isAvailable(): boolean {
    return this.#failure === undefined && !this.#goingAway && !this.#closing && !this.#socketClosed;
  }

  /** Sends a request with `body` (END_STREAM after it) and resolves with the whole response. */
  request(headers: HeaderList, body: Uint8Array, options: RequestOptions = {}): Promise<H2Response> {
    if (!this.isAvailable) {
      return Promise.reject(
        this.#failure ?? unavailable(`The connection is ${this.#goingAway ? "going away" : "closing"}`),
      );
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const stream = new H2Stream(headers, body, options.maxBodyBytes ?? Number.POSITIVE_INFINITY);
    if (signal !== undefined) {
      const onAbort = (): void => this.#cancel(stream, signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      stream.response.catch(() => {}).finally(() => signal.removeEventListener("abort", onAbort));
    }
    this.#streams.enqueue(stream);
    this.#startQueued();
    return stream.response;
  }

  /** Lets the streams in flight finish, then closes the socket; resolves when it is closed. */
  close(): Promise<void> {
    this.#closing = true;
    this.#closeIfDrained();
    return this.closed;
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    let failure: H2Error;
    try {
      for (;;) {
        const n = await this.#socket.read(buffer);
        if (n === null) {
          failure = unavailable("The connection was closed by the peer");
          break;
        }
        this.#reader.push(buffer.subarray(0, n));
        for (let frame = this.#reader.next(); frame !== undefined; frame = this.#reader.next()) {
          this.#onFrame(frame);
        }
      }
    } catch (error) {
      failure = error instanceof H2Error ? error : unavailable(messageOf(error), error);
    }
    this.#fail(failure);
    await this.#writer.idle();
  }

  /** Fails every stream and closes the socket, without a GOAWAY. */
  #fail(error: H2Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    for (const stream of this.#streams.takeAbove(0)) stream.fail(error);
    this.#writer.stop();
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

  #closeIfDrained(): void {
    if (!(this.#goingAway || this.#closing) || this.#streams.size > 0) return;
    // Let the last frames (an RST_STREAM, a WINDOW_UPDATE) go out first.
    this.#writer.idle().then(() => this.#closeSocket());
  }

  #startQueued(): void {
    const limit = this.#sender.maxConcurrentStreams;
    for (let stream = this.#streams.openNext(limit); stream; stream = this.#streams.openNext(limit)) {
      this.#sender.start(stream);
    }
    if (this.#streams.exhausted && !this.#goingAway) {
      this.#goingAway = true;
      const error = unavailable("Stream ids are exhausted on this connection");
      for (const stream of this.#streams.takeAbove(MAX_WINDOW)) stream.fail(error);
    }
  }

  /** Forgets an ended stream and lets a queued one start. */
  #remove(stream: H2Stream): void {
    this.#streams.remove(stream);
    this.#sender.forget(stream);
    this.#startQueued();
    this.#closeIfDrained();
  }

  /** END_STREAM received. A request still being sent is stopped: the response is all we need. */
  #finish(stream: H2Stream): void {
    if (stream.unsent.length > 0) {
      this.#writer.write(encodeUint32Frame(FrameType.RST_STREAM, stream.id, ErrorCode.CANCEL));
    }
    this.#remove(stream);
    stream.finish();
  }

  /** Resets a started stream with `code` and fails it with `error`. */
  #reset(stream: H2Stream, code: number, error: unknown): void {
    this.#writer.write(encodeUint32Frame(FrameType.RST_STREAM, stream.id, code));
    this.#remove(stream);
    stream.fail(error);
  }

  #cancel(stream: H2Stream, reason: unknown): void {
    if (stream.settled) return;
    if (stream.id !== 0) return this.#reset(stream, ErrorCode.CANCEL, reason);
    this.#streams.remove(stream); // still queued: nothing was sent
    stream.fail(reason);
    this.#closeIfDrained();
  }

  #onFrame(frame: Frame): void {
    if (!this.#sawServerPreface) {
      // The server's preface is a SETTINGS frame (RFC 9113 §3.4).
      if (frame.type !== FrameType.SETTINGS || frame.flags & Flag.ACK) {
        throw protocolError(
          ErrorCode.PROTOCOL_ERROR,
          `The server began with frame type ${frame.type}, not SETTINGS`,
        );
      }
      this.#sawServerPreface = true;
    }
    if (this.#headerBlocks.isOpen || frame.type === FrameType.CONTINUATION) {
      const block = this.#headerBlocks.take(frame);
      return block === undefined ? undefined : this.#onHeaderBlock(block);
    }
    switch (frame.type) {
      case FrameType.DATA:
        return this.#onData(frame);
      case FrameType.HEADERS: {
        this.#streamOf(frame);
        const block = this.#headerBlocks.take(frame);
        return block === undefined ? undefined : this.#onHeaderBlock(block);
      }
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

  /** The open stream of a stream frame; undefined once it ended; throws for stream 0 or an idle stream. */
  #streamOf(frame: Frame): H2Stream | undefined {
    if (this.#streams.isIdle(frame.streamId)) {
      throw protocolError(ErrorCode.PROTOCOL_ERROR, `Frame type ${frame.type} on stream ${frame.streamId}`);
    }
    return this.#streams.get(frame.streamId);
  }

  #expectConnectionFrame(frame: Frame): void {
    if (frame.streamId !== 0) {
      throw protocolError(ErrorCode.PROTOCOL_ERROR, `Frame type ${frame.type} on stream ${frame.streamId}`);
    }
  }

  #onData(frame: Frame): void {
    const stream = this.#streamOf(frame);
    const data = framePayload(frame);
    // Every DATA byte, padding included, uses the connection window, even on a stream we reset.
    this.#unackedBytes += frame.payload.length;
    if (this.#unackedBytes >= WINDOW_UPDATE_THRESHOLD) {
      this.#writer.write(encodeUint32Frame(FrameType.WINDOW_UPDATE, 0, this.#unackedBytes));
      this.#unackedBytes = 0;
    }
    if (stream === undefined) return;
    const problem = stream.receiveData(data);
    if (problem !== undefined) return this.#reset(stream, problem.code, problem);
    if (frame.flags & Flag.END_STREAM) return this.#finish(stream);
    stream.unackedBytes += frame.payload.length;
    if (stream.unackedBytes >= WINDOW_UPDATE_THRESHOLD) {
      this.#writer.write(encodeUint32Frame(FrameType.WINDOW_UPDATE, stream.id, stream.unackedBytes));
      stream.unackedBytes = 0;
    }
  }

  #onHeaderBlock({ streamId, block, endStream }: HeaderBlock): void {
    const fields = this.#decoder.decode(block); // even for an ended stream, to keep the table in step
    const stream = this.#streams.get(streamId);
    if (stream === undefined) return;
    const problem = stream.receiveHeaders(fields, endStream);
    if (problem !== undefined) this.#reset(stream, problem.code, problem);
    else if (endStream) this.#finish(stream);
  }

  #onRstStream(frame: Frame): void {
    expectLength(frame, 4);
    const stream = this.#streamOf(frame);
    if (stream === undefined) return;
    const code = readUint32(frame.payload);
    this.#remove(stream);
    stream.fail(
      new H2Error("reset", code, `Stream ${stream.id} was reset by the peer (HTTP/2 code ${code})`),
    );
  }

  #onSettings(frame: Frame): void {
    this.#expectConnectionFrame(frame);
    if (frame.flags & Flag.ACK) return expectLength(frame, 0);
    this.#sender.applySettings(frame.payload, this.#streams.open());
    this.#writer.write(encodeSettings([], true));
    this.#startQueued();
  }

  #onPing(frame: Frame): void {
    this.#expectConnectionFrame(frame);
    expectLength(frame, 8);
    if ((frame.flags & Flag.ACK) === 0) {
      this.#writer.write(encodeFrame(FrameType.PING, Flag.ACK, 0, frame.payload));
    }
  }

  /** Streams above the last one the peer will process fail as "unavailable"; the rest may finish. */
  #onGoaway(frame: Frame): void {
    this.#expectConnectionFrame(frame);
    if (frame.payload.length < 8) {
      throw protocolError(ErrorCode.FRAME_SIZE_ERROR, "GOAWAY shorter than 8 bytes");
    }
    const lastStreamId = readUint32(frame.payload) & MAX_WINDOW;
    const code = readUint32(frame.payload, 4);
    this.#goingAway = true;
    const error = unavailable(`The peer is going away (GOAWAY with HTTP/2 code ${code})`);
    for (const stream of this.#streams.takeAbove(lastStreamId)) {
      this.#sender.forget(stream);
      stream.fail(error);
    }
    this.#closeIfDrained();
  }

  #onWindowUpdate(frame: Frame): void {
    expectLength(frame, 4);
    const increment = readUint32(frame.payload) & MAX_WINDOW;
    if (frame.streamId === 0) return this.#sender.growConnectionWindow(increment);
    const stream = this.#streamOf(frame);
    if (stream === undefined) return;
    const problem = this.#sender.growStreamWindow(stream, increment);
    if (problem !== undefined) this.#reset(stream, problem.code, problem);
  }
}
