/**
 * Joins a HEADERS frame and its CONTINUATION frames into one header block
 * (RFC 9113 §4.3): nothing else may come between them on the connection.
 *
 * @module
 */
import { protocolError } from "./error.ts";
import { ErrorCode, Flag, type Frame, framePayload, FrameType } from "./frame.ts";

/** A complete header block. */
export interface HeaderBlock {
  readonly streamId: number;
  readonly block: Uint8Array;
  readonly endStream: boolean;
}

/** Larger header blocks are refused (ours and ipamd's are a few hundred bytes). */
const MAX_HEADER_BLOCK_BYTES = 256 * 1024;

/** Collects header blocks frame by frame. */
export class HeaderBlockAssembler {
  #open: { streamId: number; endStream: boolean; parts: Uint8Array[]; size: number } | undefined;

  /** Takes any frame; returns a block once END_HEADERS arrives. Throws `H2Error` on a misplaced frame. */
  take(frame: Frame): HeaderBlock | undefined {
    const open = this.#open;
    if (frame.type === FrameType.HEADERS && open === undefined) {
      const fragment = framePayload(frame);
      const endStream = (frame.flags & Flag.END_STREAM) !== 0;
      this.#open = { streamId: frame.streamId, endStream, parts: [fragment], size: 0 };
      return this.#add(frame, fragment);
    }
    if (frame.type === FrameType.CONTINUATION && open?.streamId === frame.streamId) {
      return this.#add(frame, frame.payload);
    }
    throw protocolError(
      ErrorCode.PROTOCOL_ERROR,
      open === undefined
        ? `CONTINUATION on stream ${frame.streamId} without HEADERS`
        : `Frame type ${frame.type} inside the header block of stream ${open.streamId}`,
    );
  }

  /** Whether a block is waiting for CONTINUATION frames. */
  get isOpen(): boolean {
    return this.#open !== undefined;
  }

  #add(frame: Frame, fragment: Uint8Array): HeaderBlock | undefined {
    const open = this.#open!;
    if (frame.type === FrameType.CONTINUATION) open.parts.push(fragment);
    open.size += fragment.length;
    if (open.size > MAX_HEADER_BLOCK_BYTES) {
      throw protocolError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `Header block exceeds ${MAX_HEADER_BLOCK_BYTES} bytes`,
      );
    }
    if ((frame.flags & Flag.END_HEADERS) === 0) return undefined;
    this.#open = undefined;
    let block = open.parts[0]!;
    if (open.parts.length > 1) {
      block = new Uint8Array(open.size);
      let offset = 0;
      for (const part of open.parts) {
        block.set(part, offset);
        offset += part.length;
      }
    }
    return { streamId: open.streamId, block, endStream: open.endStream };
  }
}
