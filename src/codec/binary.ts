// A small hand-written binary codec: a growable Writer and a bounds-checked Reader, for the few
// formats that do not come from a schema (src/proto/*.proto, compiled with protons):
// - the scheduler's snapshot (src/scheduler/snapshot-codec.ts): columnar, run-length, canonical
//   (equal states give equal bytes, which the simulator hashes to compare replicas), and the
//   largest value meshrun writes; protobuf has no run-length form and does not promise one
//   encoding per value;
// - the node's cluster snapshot (src/node/cluster-state.ts), which wraps the scheduler's and is
//   canonical for the same reason;
// - the store's format record (src/storage/keys.ts): one varint, a layout that never changes.
//
// Building blocks: unsigned LEB128 varints for non-negative safe integers (canonical only: the
// shortest form, at most 8 bytes, at most Number.MAX_SAFE_INTEGER), u8 for enums and flags,
// float64 little-endian, and varint-length-prefixed bytes and UTF-8 strings.
//
// Readers never throw out of decodeWith: it returns a DecodeResult whose error names the value,
// the offset and the field. Writers throw a CodecError on a value the reader would refuse.
//
// Byte fields a Reader returns (span) are views of its input, not copies.
import { errorMessage } from '../errors.js';
import { at } from '../invariant.js';

export type DecodeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** An encoder was handed a value that does not satisfy the codec's rules. */
export class CodecError extends RangeError {
  override readonly name = 'CodecError';
}

/** Node ids (libp2p peer ids in production) are at most this many UTF-8 bytes. */
export const MAX_ID_BYTES = 256;

const utf8Encoder = new TextEncoder();
// fatal: malformed UTF-8 is an error, not U+FFFD; ignoreBOM: a leading U+FEFF is data.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Writer

/** A growable output buffer. Size it close to the final length: growing copies everything. */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(capacity = 64) {
    this.buf = new Uint8Array(Math.max(16, capacity));
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }

  /** A non-negative safe integer; `what` names it in the error when it is not one. */
  varint(v: number, what: string): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new CodecError(`${what} ${String(v)} is not a non-negative safe integer`);
    this.ensure(8);
    this.putVarint(v);
  }

  /** Capacity must already be there: string() writes its length after reserving room. */
  private putVarint(v: number): void {
    const buf = this.buf;
    let p = this.pos;
    if (v < 0x80000000) {
      while (v >= 0x80) {
        buf[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
    } else {
      while (v >= 0x80) {
        buf[p++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
    }
    buf[p++] = v;
    this.pos = p;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** Bytes without a length prefix. */
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array, what: string): void {
    this.varint(b.length, `${what} length`);
    this.raw(b);
  }

  /**
   * Length-prefixed UTF-8; returns the byte length. Lone surrogates become U+FFFD, as with any
   * TextEncoder, so such a string does not round-trip (ids and contexts are ASCII in practice).
   */
  string(s: string): number {
    const n = s.length;
    if (n < 128) {
      this.ensure(n + 1);
      if (putShortAscii(this.buf, this.pos, s)) {
        this.pos += n + 1;
        return n;
      }
    }
    const max = n * 3;
    const width = varintSize(max);
    this.ensure(width + max);
    const { written } = utf8Encoder.encodeInto(s, this.buf.subarray(this.pos + width, this.pos + width + max));
    const need = varintSize(written);
    if (need < width) this.buf.copyWithin(this.pos + need, this.pos + width, this.pos + width + written);
    this.putVarint(written);
    this.pos += written;
    return written;
  }

  /** The bytes written so far: a view of the internal buffer, valid until the next write. */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * Writes `s` (under 128 UTF-16 units, room for length + 1 bytes at `at`) as a one-byte length and
 * its characters when it is all ASCII, and says whether it was: ids, names and contexts are short
 * ASCII, and a plain loop beats a TextEncoder call on those. Both writers (this one and
 * codec/proto.ts's) start with it.
 */
export function putShortAscii(buf: Uint8Array, at: number, s: string): boolean {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return false;
    buf[at + 1 + i] = c;
  }
  buf[at] = n;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Reader

/** Thrown inside a decode and turned into `{ ok: false }` at the exported boundary. */
class DecodeFailure extends Error {}

/** Bounds-checked reader over one input; every read names its field for the error message. */
export class Reader {
  private readonly src: Uint8Array;
  private view: DataView | null = null;
  pos = 0;

  constructor(
    src: Uint8Array,
    /** Names the value being decoded in error messages, e.g. 'entry'. */
    readonly what: string,
  ) {
    this.src = src;
  }

  get remaining(): number {
    return this.src.length - this.pos;
  }

  fail(problem: string): never {
    throw new DecodeFailure(`${this.what}: ${problem}`);
  }

  private truncated(at: number, field: string): never {
    this.fail(`truncated at byte ${at} reading ${field}`);
  }

  u8(field: string): number {
    const b = this.src[this.pos];
    if (b === undefined) this.truncated(this.pos, field);
    this.pos++;
    return b;
  }

  bool(field: string): boolean {
    const at = this.pos;
    const b = this.u8(field);
    if (b > 1) this.fail(`bad ${field} ${hex(b)} at byte ${at} (expected 0 or 1)`);
    return b === 1;
  }

  varint(field: string): number {
    const src = this.src;
    const start = this.pos;
    let b = src[start];
    if (b === undefined) this.truncated(start, field);
    if (b < 0x80) {
      this.pos = start + 1;
      return b;
    }
    let value = b & 0x7f;
    let scale = 128;
    let p = start + 1;
    for (;;) {
      b = src[p++];
      if (b === undefined) this.truncated(start, field);
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0) this.fail(`over-long varint at byte ${start} reading ${field}`);
        if (value > Number.MAX_SAFE_INTEGER) this.fail(`${field} at byte ${start} exceeds 2^53-1`);
        this.pos = p;
        return value;
      }
      scale *= 128;
      if (p - start >= 8) this.fail(`varint longer than 8 bytes at byte ${start} reading ${field}`);
    }
  }

  f64(field: string): number {
    if (this.remaining < 8) this.truncated(this.pos, field);
    if (!this.view) this.view = new DataView(this.src.buffer, this.src.byteOffset, this.src.byteLength);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /**
   * Length-prefixed bytes as a view of the input itself, not a copy: valid while the input is.
   * A caller that keeps them copies them (the app state in a cluster snapshot); one that decodes
   * them at once with a codec that copies what it keeps need not (a job spec in the scheduler's).
   */
  span(field: string): Uint8Array {
    const at = this.pos;
    const n = this.varint(`${field} length`);
    if (n > this.remaining) this.truncated(at, `${field} (${n} bytes, ${this.remaining} left)`);
    const out = this.src.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(field: string, maxBytes: number): string {
    const stringAt = this.pos;
    const n = this.varint(`${field} length`);
    if (n > maxBytes) this.fail(`${field} at byte ${stringAt} is ${n} bytes (at most ${maxBytes})`);
    if (n > this.remaining) this.truncated(stringAt, `${field} (${n} bytes, ${this.remaining} left)`);
    const src = this.src;
    const start = this.pos;
    this.pos += n;
    if (n <= 64) {
      let s = '';
      let i = start;
      for (; i < start + n; i++) {
        const c = at(src, i, 'a byte inside the string read');
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (i === start + n) return s;
    }
    try {
      return utf8Decoder.decode(src.subarray(start, start + n));
    } catch {
      return this.fail(`invalid UTF-8 in ${field} at byte ${stringAt}`);
    }
  }

  /** A non-empty string of at most `maxBytes` (a node id: 256). */
  id(field: string, maxBytes = MAX_ID_BYTES): string {
    const at = this.pos;
    const s = this.string(field, maxBytes);
    if (s.length === 0) this.fail(`${field} at byte ${at} is empty`);
    return s;
  }

  /** A count of items each at least `minSize` bytes: refuses counts the input cannot hold. */
  count(field: string, minSize: number): number {
    const at = this.pos;
    const n = this.varint(field);
    if (n * minSize > this.remaining) this.fail(`${field} ${n} at byte ${at} cannot fit in the ${this.remaining} bytes left`);
    return n;
  }

  end(): void {
    if (this.pos !== this.src.length) this.fail(`trailing ${this.src.length - this.pos} bytes`);
  }
}

/**
 * Runs `read` over `bytes` and requires it to consume them all; never throws. Errors start with
 * `what` (e.g. 'cluster snapshot: truncated at byte 9 reading time').
 */
export function decodeWith<T>(bytes: Uint8Array, what: string, read: (r: Reader) => T): DecodeResult<T> {
  if (!(bytes instanceof Uint8Array)) return { ok: false, error: `${what}: input is not a Uint8Array` };
  const r = new Reader(bytes, what);
  try {
    const value = read(r);
    r.end();
    return { ok: true, value };
  } catch (err) {
    if (err instanceof DecodeFailure) return { ok: false, error: err.message };
    // Only a bug in this file can get here; still, decoding must not throw.
    return { ok: false, error: `${what}: ${errorMessage(err)}` };
  }
}
