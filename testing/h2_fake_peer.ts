/**
 * Test helper: an HTTP/2 server on a Unix socket that the test scripts byte
 * by byte, built from our own frame and HPACK code. Each accepted connection
 * is a `FakePeer` that reads the client's preface and frames and writes
 * whatever the test says.
 *
 * @module
 */
import { tempDir } from "./rpc_sockets.ts";
import {
  CLIENT_PREFACE,
  encodeFrame,
  Flag,
  type Frame,
  FrameReader,
  FrameType,
} from "../cni/rpc/h2/frame.ts";
import { encodeHeaderBlock, type HeaderList, HpackDecoder } from "../cni/rpc/h2/hpack.ts";

/** A SETTINGS frame with `[id, value]` pairs. */
export function encodeSettings(settings: readonly (readonly [number, number])[]): Uint8Array {
  const payload = new Uint8Array(6 * settings.length);
  const view = new DataView(payload.buffer);
  settings.forEach(([id, value], i) => {
    view.setUint16(6 * i, id);
    view.setUint32(6 * i + 2, value);
  });
  return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
}

/** The `[id, value]` pairs of a SETTINGS payload. */
export function readSettings(payload: Uint8Array): [number, number][] {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: [number, number][] = [];
  for (let i = 0; i + 6 <= payload.length; i += 6) out.push([view.getUint16(i), view.getUint32(i + 2)]);
  return out;
}

/** A request as the fake server received it. */
export interface ReceivedRequest {
  readonly streamId: number;
  readonly headers: HeaderList;
  readonly body: Uint8Array;
}

/** The server side of one connection. */
export class FakePeer {
  readonly #conn: Deno.Conn;
  readonly #reader = new FrameReader();
  readonly #decoder = new HpackDecoder();
  readonly #frames: Frame[] = [];
  readonly #log: Frame[] = [];
  #waiters: (() => void)[] = [];
  #settingsSent = 0;
  #eof = false;
  #preface = new Uint8Array(0);
  /** Resolves when the client has closed its side. */
  readonly done: Promise<void>;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.done = this.#read();
  }

  async #read(): Promise<void> {
    const buffer = new Uint8Array(65_536);
    let preface = new Uint8Array(0);
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        let chunk = buffer.subarray(0, n);
        if (preface.length < CLIENT_PREFACE.length) {
          const take = Math.min(CLIENT_PREFACE.length - preface.length, chunk.length);
          preface = Uint8Array.from([...preface, ...chunk.subarray(0, take)]);
          chunk = chunk.subarray(take);
        }
        this.#reader.push(chunk);
        for (let f = this.#reader.next(); f !== undefined; f = this.#reader.next()) {
          this.#frames.push(f);
          this.#log.push(f);
        }
        this.#wakeAll();
      }
    } catch {
      // Closed by the test.
    }
    this.#eof = true;
    this.#preface = preface;
    this.#wakeAll();
  }

  #wakeAll(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves when more frames arrive or the client closes. */
  #nextFrames(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Whether the client began with the exact connection preface (known once it closed). */
  get sawPreface(): boolean {
    return this.#preface.join() === CLIENT_PREFACE.join();
  }

  /** Whether the client closed the connection. */
  get closedByClient(): boolean {
    return this.#eof;
  }

  /** Every frame received so far, taken or not. */
  get received(): readonly Frame[] {
    return this.#log;
  }

  /** Waits for (and removes) the first received frame matching `match`; undefined at EOF. */
  async take(match: (frame: Frame) => boolean): Promise<Frame | undefined> {
    for (;;) {
      const at = this.#frames.findIndex(match);
      if (at >= 0) return this.#frames.splice(at, 1)[0];
      if (this.#eof) return undefined;
      await this.#nextFrames();
    }
  }

  /** Waits for the next complete request: HEADERS (+ CONTINUATION) and DATA up to END_STREAM. */
  async request(): Promise<ReceivedRequest> {
    const first = await this.take((f) => f.type === FrameType.HEADERS);
    if (first === undefined) throw new Error("The client closed before sending a request");
    const id = first.streamId;
    const parts = [first.payload];
    let end = (first.flags & Flag.END_HEADERS) !== 0;
    while (!end) {
      const next = await this.take((f) => f.type === FrameType.CONTINUATION && f.streamId === id);
      if (next === undefined) throw new Error("The client closed inside a header block");
      parts.push(next.payload);
      end = (next.flags & Flag.END_HEADERS) !== 0;
    }
    const headers = this.#decoder.decode(Uint8Array.from(parts.flatMap((p) => [...p])));
    const body: number[] = [];
    let ended = (first.flags & Flag.END_STREAM) !== 0;
    while (!ended) {
      const data = await this.take((f) => f.type === FrameType.DATA && f.streamId === id);
      if (data === undefined) throw new Error("The client closed inside a request body");
      body.push(...data.payload);
      ended = (data.flags & Flag.END_STREAM) !== 0;
    }
    return { streamId: id, headers, body: Uint8Array.from(body) };
  }

  /** Writes raw bytes, `chunkSize` at a time (1 = byte by byte) with a pause between chunks. */
  async write(bytes: Uint8Array, chunkSize = bytes.length): Promise<void> {
    for (let offset = 0; offset < bytes.length; offset += chunkSize) {
      const chunk = bytes.subarray(offset, offset + chunkSize);
      for (let done = 0; done < chunk.length;) done += await this.#conn.write(chunk.subarray(done));
      if (chunkSize < bytes.length) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  /** Writes one frame. */
  frame(type: number, flags: number, streamId: number, payload?: Uint8Array): Promise<void> {
    return this.write(encodeFrame(type, flags, streamId, payload));
  }

  /** Writes a SETTINGS frame and waits until the client has ACKed every SETTINGS sent so far. */
  async settings(settings: readonly (readonly [number, number])[] = []): Promise<void> {
    this.#settingsSent++;
    await this.write(encodeSettings(settings));
    const isAck = (f: Frame): boolean => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0;
    while (this.#log.filter(isAck).length < this.#settingsSent && !this.#eof) await this.#nextFrames();
  }

  /** Writes a header block in one HEADERS frame. */
  headers(streamId: number, headers: HeaderList, endStream = false): Promise<void> {
    const flags = Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0);
    return this.frame(FrameType.HEADERS, flags, streamId, encodeHeaderBlock(headers));
  }

  /**
   * Writes a whole response: headers (status 200), the body in DATA frames of
   * at most 16 KiB (ignoring flow control), then the trailers.
   */
  async respond(
    streamId: number,
    body: Uint8Array,
    trailers: HeaderList = [["grpc-status", "0"]],
  ): Promise<void> {
    await this.headers(streamId, [[":status", "200"], ["content-type", "application/grpc"]]);
    for (let offset = 0; offset < body.length; offset += 16_384) {
      await this.frame(FrameType.DATA, 0, streamId, body.subarray(offset, offset + 16_384));
    }
    await this.headers(streamId, trailers, true);
  }

  /** Closes the connection from the server side. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** A listening fake server; disposing closes it, its connections and the temp dir. */
export interface FakeServer extends AsyncDisposable {
  readonly socketPath: string;
  /** Resolves with the next accepted connection, once the server's preface (empty SETTINGS) is sent and ACKed. */
  accept(options?: { readonly preface: boolean }): Promise<FakePeer>;
  /** How many connections were accepted. */
  readonly accepted: number;
}

/** Starts a fake server in a fresh temp dir. */
export async function startFakeServer(): Promise<FakeServer> {
  const dir = await tempDir();
  const socketPath = `${dir.path}/fake.sock`;
  const listener = Deno.listen({ transport: "unix", path: socketPath });
  const peers: FakePeer[] = [];
  return {
    socketPath,
    get accepted() {
      return peers.length;
    },
    async accept(options = { preface: true }) {
      const peer = new FakePeer(await listener.accept());
      peers.push(peer);
      if (options.preface) await peer.settings();
      return peer;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const peer of peers) peer.close();
      await Promise.all(peers.map((peer) => peer.done));
      await dir[Symbol.asyncDispose]();
    },
  };
}
