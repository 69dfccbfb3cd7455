// Splits a byte stream into varint-length-prefixed frames (the it-length-prefixed format: an
// unsigned LEB128 length, then that many bytes). The length is checked against the limit as soon
// as its varint is complete, before any of the frame is buffered, so a peer cannot make us hold
// more than one limit's worth of bytes.
import { at } from '../invariant.js';

/** The stream is broken beyond repair: the caller must reset it (and count the problem). */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    message: string,
    /** True when the frame was refused for its size (announced or length field too long). */
    readonly oversize: boolean,
  ) {
    super(message);
  }
}

/** A 4-byte varint already encodes up to 256 MiB; more than 5 bytes is never a sane frame size. */
const MAX_VARINT_BYTES = 5;

export class FrameDecoder {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already consumed. */
  private offset = 0;
  /** Unconsumed bytes across all chunks. */
  private buffered = 0;
  /** Length of the frame whose header was read, or -1 while reading a header. */
  private need = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds one chunk; calls `out` for each complete frame, in order. A frame is a fresh copy or a
   * view of a chunk handed in here; the decoder never writes to either afterwards.
   * Throws FrameError on an oversize or malformed length; the decoder is then unusable.
   */
  push(chunk: Uint8Array, out: (frame: Uint8Array) => void): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.need < 0) {
        const len = this.readHeader();
        if (len === null) return;
        this.need = len;
      }
      if (this.buffered < this.need) return;
      const frame = this.take(this.need);
      this.need = -1;
      out(frame);
    }
  }

  /** Reads and consumes a complete length varint, or returns null (nothing consumed) if incomplete. */
  private readHeader(): number | null {
    let value = 0;
    let scale = 1;
    let ci = 0;
    let pos = this.offset;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      let chunk = this.chunks[ci];
      while (chunk !== undefined && pos >= chunk.length) {
        ci++;
        pos = 0;
        chunk = this.chunks[ci];
      }
      if (chunk === undefined) return null;
      const b = at(chunk, pos++, 'a byte below the chunk length');
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0 && i > 0) throw new FrameError(`malformed frame length: over-long varint`, false);
        this.skip(i + 1);
        if (value > this.maxFrameBytes) {
          throw new FrameError(`frame of ${value} bytes exceeds the limit of ${this.maxFrameBytes}`, true);
        }
        return value;
      }
      scale *= 128;
    }
    throw new FrameError(`frame length field longer than ${MAX_VARINT_BYTES} bytes`, true);
  }

  private skip(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const first = at(this.chunks, 0, 'skip stays within the buffered bytes');
      const avail = first.length - this.offset;
      if (n < avail) {
        this.offset += n;
        return;
      }
      n -= avail;
      this.chunks.shift();
      this.offset = 0;
    }
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.offset >= n) {
      // The common case: the whole frame sits in one chunk; hand out a view, no copy.
      const frame = first.subarray(this.offset, this.offset + n);
      this.skip(n);
      return frame;
    }
    const frame = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = at(this.chunks, 0, 'take stays within the buffered bytes');
      const part = Math.min(c.length - this.offset, n - filled);
      frame.set(c.subarray(this.offset, this.offset + part), filled);
      filled += part;
      this.skip(part);
    }
    return frame;
  }
}

/** The varint length prefix for `n` bytes (the encoding FrameDecoder reads). */
export function encodeLength(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}
