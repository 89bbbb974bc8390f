/**
 * The sending half of a client connection: the peer's SETTINGS, and request
 * streams sent within them: HEADERS split into CONTINUATION frames at the
 * peer's frame size, and DATA within both flow-control windows, sent again
 * as WINDOW_UPDATEs and SETTINGS open the windows.
 *
 * @module
 */
import { H2Error, protocolError } from "./error.ts";
import {
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  encodeFrame,
  ErrorCode,
  Flag,
  FrameType,
  MAX_FRAME_SIZE_LIMIT,
  MAX_WINDOW,
  readSettings,
  Setting,
} from "./frame.ts";
import { encodeHeaderBlock } from "./hpack.ts";
import type { H2Stream } from "./stream.ts";
import type { SocketWriter } from "./writer.ts";

/** Sends request streams; see the module doc. */
export class StreamSender {
  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS (unlimited until it says otherwise). */
  maxConcurrentStreams = Number.POSITIVE_INFINITY;
  readonly #writer: SocketWriter;
  #initialWindow = DEFAULT_WINDOW;
  #maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  /** The connection's send window. */
  #window = DEFAULT_WINDOW;
  /** Started streams with body left to send. */
  readonly #blocked = new Set<H2Stream>();

  constructor(writer: SocketWriter) {
    this.#writer = writer;
  }

  /** Sends a new stream's HEADERS and as much of its body as the windows allow. */
  start(stream: H2Stream): void {
    stream.sendWindow = this.#initialWindow;
    const block = encodeHeaderBlock(stream.requestHeaders);
    const max = this.#maxFrameSize;
    let flags = stream.unsent.length === 0 ? Flag.END_STREAM : 0;
    let type: number = FrameType.HEADERS;
    for (let offset = 0; offset === 0 || offset < block.length; offset += max) {
      if (offset + max >= block.length) flags |= Flag.END_HEADERS;
      this.#writer.write(encodeFrame(type, flags, stream.id, block.subarray(offset, offset + max)));
      type = FrameType.CONTINUATION;
      flags = 0;
    }
    if (stream.unsent.length === 0) return;
    this.#blocked.add(stream);
    this.#sendData(stream);
  }

  /** Stops sending a stream's body (it ended or was reset). */
  forget(stream: H2Stream): void {
    this.#blocked.delete(stream);
  }

  /** Applies a SETTINGS payload to `streams` (the open ones) and sends what it unblocks. */
  applySettings(payload: Uint8Array, streams: Iterable<H2Stream>): void {
    for (const [id, value] of readSettings(payload)) {
      if (id === Setting.ENABLE_PUSH && value > 1) {
        throw protocolError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH of ${value}`);
      } else if (id === Setting.MAX_CONCURRENT_STREAMS) {
        this.maxConcurrentStreams = value;
      } else if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) {
          throw protocolError(ErrorCode.FLOW_CONTROL_ERROR, `Initial window of ${value}`);
        }
        for (const stream of streams) stream.sendWindow += value - this.#initialWindow;
        this.#initialWindow = value;
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_FRAME_SIZE_LIMIT) {
          throw protocolError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE of ${value}`);
        }
        this.#maxFrameSize = value;
      }
    }
    this.#sendAll();
  }

  /** A connection WINDOW_UPDATE; throws `H2Error` for an increment of 0 or an overflow. */
  growConnectionWindow(increment: number): void {
    if (increment === 0 || this.#window + increment > MAX_WINDOW) {
      throw protocolError(ErrorCode.FLOW_CONTROL_ERROR, `Connection WINDOW_UPDATE of ${increment}`);
    }
    this.#window += increment;
    this.#sendAll();
  }

  /** A stream WINDOW_UPDATE; returns the error to reset the stream with when it is invalid. */
  growStreamWindow(stream: H2Stream, increment: number): H2Error | undefined {
    if (increment === 0 || stream.sendWindow + increment > MAX_WINDOW) {
      return protocolError(ErrorCode.FLOW_CONTROL_ERROR, `Stream WINDOW_UPDATE of ${increment}`);
    }
    stream.sendWindow += increment;
    if (this.#blocked.has(stream)) this.#sendData(stream);
    return undefined;
  }

  #sendAll(): void {
    for (const stream of this.#blocked) this.#sendData(stream);
  }

  /** Sends as much of the body as both windows allow; END_STREAM goes with the last byte. */
  #sendData(stream: H2Stream): void {
    while (stream.unsent.length > 0) {
      const n = Math.min(stream.unsent.length, stream.sendWindow, this.#window, this.#maxFrameSize);
      if (n <= 0) return;
      const chunk = stream.unsent.subarray(0, n);
      stream.unsent = stream.unsent.subarray(n);
      stream.sendWindow -= n;
      this.#window -= n;
      const flags = stream.unsent.length === 0 ? Flag.END_STREAM : 0;
      this.#writer.write(encodeFrame(FrameType.DATA, flags, stream.id, chunk));
    }
    this.#blocked.delete(stream);
  }
}
