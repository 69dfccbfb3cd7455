// The glue between protons' generated code (src/proto/*.ts, from the .proto schemas beside them)
// and meshrun's codecs: a strict reader the generated decoders run on, a fast writer the generated
// encoders run on (see ProtoWriter), and the checks every codec makes on what the schema cannot
// say. The schemas' layouts and field types come from the generated code alone; nothing here
// knows a message.
//
// The generated decoders take any object with protons-runtime's Reader interface. The one here is
// stricter than protons-runtime's own, so that whatever decodes is safe to hold:
// - a field number the schema does not know is refused, not skipped (these bytes live in the
//   replicated log: every replica must read them the same way, and a newer layout is refused
//   rather than half-understood);
// - strings must be well-formed UTF-8 (protons-runtime's decoder turns anything into some string);
// - varints are at most 10 bytes, 32-bit ones at most 5 and below 2^32, bools 0 or 1;
// - a 64-bit integer comes back as a number, exact up to 2^53 - 1; the codecs check each such
//   field against its bound with the field's name, and decodeProto refuses any larger value that
//   a codec did not (so an unsafe number never gets out);
// - bytes fields are subarrays of ONE private copy of the input, made at the first bytes field:
//   the caller may reuse its input buffer afterwards.
// Decoding is deterministic but not canonical: fields may come in any order, a repeated singular
// field takes its last value, and a value may have several encodings. Nothing depends on
// canonical bytes here: replicas keep the log's bytes as they are, and the snapshots that are
// compared by hash keep their own canonical codec (see codec/binary.ts).
import { MaxLengthError, type Codec, type DecodeOptions, type Reader, type Writer } from 'protons-runtime';
import { CodecError, putShortAscii, type DecodeResult } from './binary.js';
import { errorMessage } from '../errors.js';
import { at } from '../invariant.js';

/** A decoder found something it refuses; turned into `{ ok: false }` by decodeProto. */
class ProtoDecodeError extends Error {}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Strings a reader remembers (see ProtoReader.string). */
const RECENT = 4;
const EMPTY_INPUT = new Uint8Array(0);

function fail(problem: string): never {
  throw new ProtoDecodeError(problem);
}

/** protons-runtime's Reader interface over one input, with the rules in this file's header. */
export class ProtoReader implements Reader {
  buf: Uint8Array;
  pos = 0;
  len: number;
  /** Set when a 64-bit integer above 2^53 - 1 was read. */
  unsafe = false;
  /** The last 32-bit varint read: the tag, when the generated code then calls skipType. */
  private last = 0;
  /** The last enum read (see int32). */
  enumTag = 0;
  enumAt = 0;
  enumValue = 0;
  private own: Uint8Array | null = null;
  private view: DataView | null = null;
  /** The last RECENT strings read, and where their bytes are (see string). */
  private readonly recentStart = [0, 0, 0, 0];
  private readonly recentLength = [-1, -1, -1, -1];
  private readonly recentString = ['', '', '', ''];
  private recentNext = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.len = buf.length;
  }

  /** Points the reader at a new input, forgetting everything about the last one. */
  reset(buf: Uint8Array): this {
    this.buf = buf;
    this.len = buf.length;
    this.pos = 0;
    this.unsafe = false;
    this.last = 0;
    this.own = null;
    this.view = null;
    const lengths = this.recentLength;
    for (let k = 0; k < RECENT; k++) lengths[k] = -1;
    return this;
  }

  /** Lets go of the input (and of the private copy of it). */
  release(): void {
    this.buf = EMPTY_INPUT;
    this.len = 0;
    this.own = null;
    this.view = null;
  }

  private truncated(at: number, what: string): never {
    return fail(`truncated at byte ${at} reading ${what}`);
  }

  uint32(): number {
    const buf = this.buf;
    const start = this.pos;
    let b = buf[start];
    if (b === undefined) this.truncated(start, 'a varint');
    if (b < 0x80) {
      this.pos = start + 1;
      this.last = b;
      return b;
    }
    let value = b & 0x7f;
    let shift = 7;
    let p = start + 1;
    for (;;) {
      b = buf[p++];
      if (b === undefined) this.truncated(start, 'a varint');
      if (shift === 28) {
        if (b > 0x0f) fail(`varint at byte ${start} is above 2^32 - 1`);
        value += b * 2 ** 28;
        break;
      }
      value |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
    }
    this.pos = p;
    this.last = value;
    return value;
  }

  /** Only enums are int32 here: the tag and offset name the field if protons refuses the value. */
  int32(): number {
    this.enumTag = this.last;
    this.enumAt = this.pos;
    const v = this.uint32() | 0;
    this.enumValue = v;
    return v;
  }

  sint32(): number {
    const v = this.uint32();
    return (v >>> 1) ^ -(v & 1);
  }

  bool(): boolean {
    const at = this.pos;
    const v = this.uint32();
    if (v > 1) fail(`bool at byte ${at} is ${v} (expected 0 or 1)`);
    return v === 1;
  }

  /** An unsigned varint of up to 10 bytes as a number (exact up to 2^53 - 1). */
  private varint64(): number {
    const buf = this.buf;
    const start = this.pos;
    let b = buf[start];
    if (b === undefined) this.truncated(start, 'a varint');
    if (b < 0x80) {
      this.pos = start + 1;
      return b;
    }
    let value = b & 0x7f;
    let scale = 128;
    let p = start + 1;
    for (;;) {
      b = buf[p++];
      if (b === undefined) this.truncated(start, 'a varint');
      value += (b & 0x7f) * scale;
      if (b < 0x80) break;
      if (p - start >= 10) fail(`varint at byte ${start} is longer than 10 bytes`);
      scale *= 128;
    }
    this.pos = p;
    if (value > Number.MAX_SAFE_INTEGER) this.unsafe = true;
    return value;
  }

  uint64Number(): number {
    return this.varint64();
  }

  int64Number(): number {
    // Negative int64s take 10 bytes and come out above 2^63: refused as unsafe.
    return this.varint64();
  }

  sint64Number(): number {
    const start = this.pos;
    const z = this.varint64();
    if (z <= Number.MAX_SAFE_INTEGER) return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    // Flagged unsafe already; decoded exactly so that an error message shows the right value.
    let big = 0n;
    for (let p = this.pos - 1; p >= start; p--) big = (big << 7n) | BigInt(at(this.buf, p, 'a byte of the varint just read') & 0x7f);
    return Number((big >> 1n) ^ -(big & 1n));
  }

  fixed32(): number {
    if (this.pos + 4 > this.len) this.truncated(this.pos, 'a fixed32');
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    const byte = (k: number) => at(b, p + k, 'a byte of the four checked above');
    return (byte(0) | (byte(1) << 8) | (byte(2) << 16)) + byte(3) * 2 ** 24;
  }

  sfixed32(): number {
    return this.fixed32() | 0;
  }

  private dataView(): DataView {
    if (!this.view) this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.view;
  }

  float(): number {
    if (this.pos + 4 > this.len) this.truncated(this.pos, 'a float');
    const v = this.dataView().getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.len) this.truncated(this.pos, 'a double');
    const v = this.dataView().getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  private span(what: string): number {
    const at = this.pos;
    const n = this.uint32();
    if (n > this.len - this.pos) this.truncated(at, `${what} (${n} bytes, ${this.len - this.pos} left)`);
    return n;
  }

  bytes(): Uint8Array {
    const n = this.span('bytes');
    if (!this.own) {
      // A plain Uint8Array even when the input is a Buffer, whose slice() would not copy.
      this.own = new Uint8Array(this.len);
      this.own.set(this.buf);
    }
    const out = this.own.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const stringAt = this.pos;
    const n = this.span('a string');
    if (n === 0) return '';
    const buf = this.buf;
    const start = this.pos;
    this.pos += n;
    // The entries of an append name a handful of proposers over and over: a string with the
    // bytes of one of the last few is that string, found by comparing instead of decoding.
    for (let k = 0; k < RECENT; k++) {
      if (this.recentLength[k] !== n) continue;
      const other = at(this.recentStart, k, 'a recent string slot');
      let i = 0;
      while (i < n && buf[start + i] === buf[other + i]) i++;
      if (i === n) return at(this.recentString, k, 'a recent string slot of this length');
    }
    let s: string | undefined;
    // Ids, names and contexts are short ASCII: a plain loop beats a TextDecoder call on those.
    if (n <= 64) {
      let t = '';
      let i = start;
      for (; i < start + n; i++) {
        const c = at(buf, i, 'a byte inside the string read');
        if (c >= 0x80) break;
        t += String.fromCharCode(c);
      }
      if (i === start + n) s = t;
    }
    if (s === undefined) {
      try {
        s = utf8Decoder.decode(buf.subarray(start, start + n));
      } catch {
        return fail(`invalid UTF-8 in the string at byte ${stringAt}`);
      }
    }
    const k = this.recentNext;
    this.recentStart[k] = start;
    this.recentLength[k] = n;
    this.recentString[k] = s;
    this.recentNext = (k + 1) % RECENT;
    return s;
  }

  skip(length?: number): void {
    if (length === undefined) {
      this.varint64();
      return;
    }
    if (length > this.len - this.pos) this.truncated(this.pos, `${length} bytes to skip`);
    this.pos += length;
  }

  /** Called by the generated decoders for a field number they do not know: refused. */
  skipType(wireType: number): void {
    fail(`unknown field ${this.last >>> 3} (wire type ${wireType}) before byte ${this.pos}`);
  }

  private unsupported(): never {
    return fail('a field type meshrun does not use');
  }

  int64(): bigint {
    return this.unsupported();
  }
  int64String(): string {
    return this.unsupported();
  }
  uint64(): bigint {
    return this.unsupported();
  }
  uint64String(): string {
    return this.unsupported();
  }
  sint64(): bigint {
    return this.unsupported();
  }
  sint64String(): string {
    return this.unsupported();
  }
  fixed64(): bigint {
    return this.unsupported();
  }
  fixed64Number(): number {
    return this.unsupported();
  }
  fixed64String(): string {
    return this.unsupported();
  }
  sfixed64(): bigint {
    return this.unsupported();
  }
  sfixed64Number(): number {
    return this.unsupported();
  }
  sfixed64String(): string {
    return this.unsupported();
  }
}

/**
 * Decodes `bytes` as `codec`'s message, then turns it into the caller's type with `convert`, which
 * checks what the schema cannot say and throws `fail(...)` on a problem. Never throws: errors
 * start with `what` ('message: term 4294967297 is above 4294967296').
 */
export function decodeProto<P, T>(
  codec: Codec<P>,
  bytes: Uint8Array,
  what: string,
  convert: (value: P) => T,
  opts?: DecodeOptions<P>,
): DecodeResult<T> {
  if (!(bytes instanceof Uint8Array)) return { ok: false, error: `${what}: input is not a Uint8Array` };
  // One reader serves every decode (a small message's decode is a few hundred nanoseconds, and
  // building a reader was a good part of them); a decode inside a decode gets its own.
  const reader = sharedReaderBusy ? new ProtoReader(bytes) : sharedReader.reset(bytes);
  const shared = reader === sharedReader;
  if (shared) sharedReaderBusy = true;
  try {
    const value = convert(codec.decode(reader, undefined, opts));
    // Every 64-bit field has a named bound in `convert`; this is the net under a forgotten one.
    if (reader.unsafe) fail('an integer above 2^53 - 1');
    return { ok: true, value };
  } catch (err) {
    if (err instanceof ProtoDecodeError) return { ok: false, error: `${what}: ${err.message}` };
    if (err instanceof MaxLengthError) {
      const field = /field "([^"]+)"/.exec(err.message)?.[1] ?? 'a list';
      return { ok: false, error: `${what}: too many ${field}` };
    }
    if (err instanceof Error && err.message === 'Invalid enum value') {
      return {
        ok: false,
        error: `${what}: unknown value ${reader.enumValue} of enum field ${reader.enumTag >>> 3} at byte ${reader.enumAt}`,
      };
    }
    // Anything else would be a bug here or in the generated code: still not thrown.
    return { ok: false, error: `${what}: ${errorMessage(err)}` };
  } finally {
    if (shared) {
      sharedReaderBusy = false;
      sharedReader.release();
    }
  }
}

const sharedReader = new ProtoReader(EMPTY_INPUT);
let sharedReaderBusy = false;

// ---------------------------------------------------------------------------------------------
// Writing

const utf8Encoder = new TextEncoder();

/** Bytes of the varint for an unsigned 32-bit `v`. */
function varint32Size(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/**
 * Bytes reserved for the length of a nested message at each depth: the size the last one there
 * needed. The messages at one depth are alike (an append's entries), so the guess is nearly
 * always right and the body rarely moves.
 */
const lengthGuess = new Uint8Array(64).fill(1);

/**
 * protons-runtime's Writer interface over one contiguous, growable buffer. protons-runtime's own
 * writer queues an object per field and copies everything at the end; this one writes in place
 * and, for a nested message, reserves its length's bytes up front (see lengthGuess), which made
 * encoding a 64-entry append about twice as fast. Strings go through TextEncoder, so a lone
 * surrogate becomes U+FFFD (well-formed UTF-8, which the reader above insists on) rather than
 * the bytes of the surrogate.
 */
export class ProtoWriter implements Writer {
  len = 0;
  private buf: Uint8Array;
  private view: DataView;
  /** Start of each open nested message's body, and the bytes reserved for its length. */
  private starts: number[] = [];
  private reserved: number[] = [];
  private depth = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(Math.max(16, capacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Empties the writer for reuse. */
  clear(): this {
    this.len = 0;
    this.depth = 0;
    return this;
  }

  get capacity(): number {
    return this.buf.length;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Capacity must be there already. */
  private put32(v: number): void {
    const buf = this.buf;
    let p = this.len;
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.len = p;
  }

  /** A non-negative safe integer; capacity must be there already. */
  private putNumber(v: number): void {
    if (v < 0x80000000) return this.put32(v);
    const buf = this.buf;
    let p = this.len;
    while (v >= 0x80) {
      buf[p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[p++] = v;
    this.len = p;
  }

  private putBig(v: bigint): this {
    let u = BigInt.asUintN(64, v);
    this.ensure(10);
    const buf = this.buf;
    let p = this.len;
    while (u >= 0x80n) {
      buf[p++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    buf[p++] = Number(u);
    this.len = p;
    return this;
  }

  uint32(value: number): this {
    // Tags and short lengths: one byte.
    if (value >= 0 && value < 0x80 && this.len < this.buf.length) {
      this.buf[this.len++] = value;
      return this;
    }
    this.ensure(5);
    this.put32(value >>> 0);
    return this;
  }

  int32(value: number): this {
    // A negative int32 is sign-extended to 64 bits, as protobuf says.
    return value < 0 ? this.putBig(BigInt(value | 0)) : this.uint32(value);
  }

  sint32(value: number): this {
    return this.uint32(((value << 1) ^ (value >> 31)) >>> 0);
  }

  uint64Number(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new CodecError(`${String(value)} is not a non-negative safe integer`);
    this.ensure(8);
    this.putNumber(value);
    return this;
  }

  int64Number(value: number): this {
    if (!Number.isSafeInteger(value)) throw new CodecError(`${String(value)} is not a safe integer`);
    return value < 0 ? this.putBig(BigInt(value)) : this.uint64Number(value);
  }

  sint64Number(value: number): this {
    if (!Number.isSafeInteger(value)) throw new CodecError(`${String(value)} is not a safe integer`);
    // Zigzag in floating point is exact up to 2^52 in magnitude; beyond that, in bigint.
    if (Math.abs(value) > 2 ** 52) return this.sint64(BigInt(value));
    return this.uint64Number(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  uint64(value: bigint): this {
    return this.putBig(value);
  }

  int64(value: bigint): this {
    return this.putBig(value);
  }

  sint64(value: bigint): this {
    return this.putBig((value << 1n) ^ (value >> 63n));
  }

  uint64String(value: string): this {
    return this.uint64(BigInt(value));
  }

  int64String(value: string): this {
    return this.int64(BigInt(value));
  }

  sint64String(value: string): this {
    return this.sint64(BigInt(value));
  }

  bool(value: boolean): this {
    this.ensure(1);
    this.buf[this.len++] = value ? 1 : 0;
    return this;
  }

  fixed32(value: number): this {
    this.ensure(4);
    this.view.setUint32(this.len, value >>> 0, true);
    this.len += 4;
    return this;
  }

  sfixed32(value: number): this {
    return this.fixed32(value);
  }

  fixed64(value: bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.len, BigInt.asUintN(64, value), true);
    this.len += 8;
    return this;
  }

  fixed64Number(value: number): this {
    return this.fixed64(BigInt(value));
  }

  fixed64String(value: string): this {
    return this.fixed64(BigInt(value));
  }

  sfixed64(value: bigint): this {
    return this.fixed64(value);
  }

  sfixed64Number(value: number): this {
    return this.fixed64(BigInt(value));
  }

  sfixed64String(value: string): this {
    return this.fixed64(BigInt(value));
  }

  float(value: number): this {
    this.ensure(4);
    this.view.setFloat32(this.len, value, true);
    this.len += 4;
    return this;
  }

  double(value: number): this {
    this.ensure(8);
    this.view.setFloat64(this.len, value, true);
    this.len += 8;
    return this;
  }

  bytes(value: Uint8Array): this {
    const n = value.length;
    this.ensure(5 + n);
    this.put32(n);
    this.buf.set(value, this.len);
    this.len += n;
    return this;
  }

  string(value: string): this {
    const n = value.length;
    if (n < 128) {
      this.ensure(n + 1);
      if (putShortAscii(this.buf, this.len, value)) {
        this.len += n + 1;
        return this;
      }
    }
    const max = n * 3;
    const width = varint32Size(max);
    this.ensure(width + max);
    const at = this.len + width;
    const { written } = utf8Encoder.encodeInto(value, this.buf.subarray(at, at + max));
    const need = varint32Size(written);
    if (need < width) this.buf.copyWithin(this.len + need, at, at + written);
    this.put32(written);
    this.len += written;
    return this;
  }

  fork(): this {
    const depth = this.depth++;
    const r = lengthGuess[depth] ?? 1;
    this.ensure(r);
    this.len += r;
    this.starts[depth] = this.len;
    this.reserved[depth] = r;
    return this;
  }

  reset(): this {
    if (this.depth === 0) {
      this.len = 0;
      return this;
    }
    const depth = --this.depth;
    this.len = at(this.starts, depth, 'a fork being reset') - at(this.reserved, depth, 'a fork being reset');
    return this;
  }

  ldelim(): this {
    const depth = --this.depth;
    const start = at(this.starts, depth, 'a fork being closed');
    const r = at(this.reserved, depth, 'a fork being closed');
    const n = this.len - start;
    const need = varint32Size(n);
    if (depth < lengthGuess.length) lengthGuess[depth] = need;
    if (need !== r) {
      if (need > r) this.ensure(need - r);
      this.buf.copyWithin(start - r + need, start, this.len);
      this.len += need - r;
    }
    const end = this.len;
    this.len = start - r;
    this.put32(n);
    this.len = end;
    return this;
  }

  /** The bytes written so far: a view of the internal buffer, valid until the next write. */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** Encodings up to this size are written into one reused writer and copied out. */
const SCRATCH_BYTES = 256 << 10;
let scratch = new ProtoWriter(16 << 10);
const ENCODE_OPTIONS = { lengthDelimited: false } as const;

/**
 * Encodings of at most CARVED_BYTES that go out at once (see encodeProto's `transient`) are carved
 * out of a shared block of BLOCK_BYTES: allocating an array of its own cost a small message's
 * encoding about a third of its time. A block is freed once none of its pieces is referenced.
 */
const BLOCK_BYTES = 64 << 10;
const CARVED_BYTES = 4 << 10;
let block = new Uint8Array(BLOCK_BYTES);
let blockUsed = 0;

/**
 * Encodes `value` as `codec`'s message into a Uint8Array of exactly its bytes. `sizeHint`: about
 * the encoded size; past SCRATCH_BYTES the writer is sized by it and its buffer returned as it is.
 * `transient`: the bytes are sent or copied at once, not kept (a Raft message), so a small
 * encoding may share its ArrayBuffer with others (see BLOCK_BYTES); otherwise the result has an
 * ArrayBuffer of its own, with no slack to keep alive.
 */
export function encodeProto<P>(codec: Codec<P>, value: Partial<P>, sizeHint = 0, transient = false): Uint8Array {
  if (sizeHint > SCRATCH_BYTES) {
    const w = new ProtoWriter(sizeHint);
    codec.encode(value, w, ENCODE_OPTIONS);
    return w.finish();
  }
  const w = scratch.clear();
  codec.encode(value, w, ENCODE_OPTIONS);
  const bytes = w.finish();
  const n = bytes.length;
  let out: Uint8Array;
  if (transient && n <= CARVED_BYTES) {
    if (blockUsed + n > BLOCK_BYTES) {
      block = new Uint8Array(BLOCK_BYTES);
      blockUsed = 0;
    }
    out = block.subarray(blockUsed, blockUsed + n);
    out.set(bytes);
    blockUsed += (n + 7) & ~7;
  } else {
    out = bytes.slice();
  }
  // An unexpectedly large value is not kept alive through the scratch writer.
  if (w.capacity > SCRATCH_BYTES) scratch = new ProtoWriter(16 << 10);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the codecs. Decoders call the `read*` ones (which throw a ProtoDecodeError
// naming the field), encoders the `write*` ones (which throw a CodecError).

/** UTF-8 length of `s` (lone surrogates count 3, as TextEncoder writes U+FFFD for them). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

/** Whether `s` is at most `max` UTF-8 bytes, without measuring short strings. */
export function fitsBytes(s: string, max: number): boolean {
  if (s.length * 3 <= max) return true;
  if (s.length > max) return false;
  return utf8Length(s) <= max;
}

/** A whole number in [min, max]; `field` names it in the error. */
export function readInt(v: number, field: string, max: number, min = 0): number {
  if (!(v >= min && v <= max)) fail(`${field} ${v} is ${v < min ? 'below' : 'above'} ${v < min ? min : max}`);
  return v;
}

export function readText(s: string, field: string, maxBytes: number): string {
  if (!fitsBytes(s, maxBytes)) fail(`${field} is ${utf8Length(s)} bytes (at most ${maxBytes})`);
  return s;
}

export function readNonEmpty(s: string, field: string, maxBytes: number): string {
  if (s === '') fail(`${field} is empty`);
  return readText(s, field, maxBytes);
}

export { fail as decodeFail };

export function writeInt(v: number, field: string, max: number, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    const range = min === 0 && max === Number.MAX_SAFE_INTEGER ? 'a non-negative safe integer' : `an integer in [${min}, ${max}]`;
    throw new CodecError(`${field} ${String(v)} is not ${range}`);
  }
  return v;
}

export function writeText(s: string, field: string, maxBytes: number): string {
  if (typeof s !== 'string') throw new CodecError(`${field} must be a string`);
  if (!fitsBytes(s, maxBytes)) throw new CodecError(`${field} is ${utf8Length(s)} bytes (at most ${maxBytes})`);
  return s;
}

export function writeNonEmpty(s: string, field: string, maxBytes: number): string {
  if (s === '') throw new CodecError(`${field} is empty`);
  return writeText(s, field, maxBytes);
}

export function writeBytes(b: Uint8Array, field: string): Uint8Array {
  if (!(b instanceof Uint8Array)) throw new CodecError(`${field} must be a Uint8Array`);
  return b;
}
