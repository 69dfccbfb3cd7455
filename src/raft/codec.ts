import { errorMessage } from '../errors.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  HardState,
  Membership,
  Message,
  NodeId,
  Snapshot,
  SnapshotMeta,
} from './types.js';

// The project's one binary encoding: the LevelDB log stores these bytes and the transport sends
// them, so a value means the same thing on disk and on the wire.
//
// Building blocks: unsigned LEB128 varints for non-negative safe integers (canonical only: the
// shortest form, at most 8 bytes, at most Number.MAX_SAFE_INTEGER), u8 for enums and flags,
// float64 little-endian for entry times, and varint-length-prefixed bytes and UTF-8 strings.
//
// Decoders never throw: they return a DecodeResult whose error names the value, the offset and
// the field. They also check what the TypeScript types cannot say (integer ranges, enum values,
// id sizes, a snapshot chunk inside its total), so whatever decodes is safe to hand on.
// Encoders throw a CodecError on a value the decoder would refuse, so nothing undecodable is ever
// written or sent.
//
// Byte fields of a decoded value (Entry.data, Snapshot.data, SnapshotChunk.chunk, proposal data)
// are subarrays of ONE private copy of the input, made the first time a byte field is read. The
// caller may reuse or overwrite its input buffer afterwards; keeping any one field keeps that copy
// (about the size of the input) alive. Values without byte fields copy nothing.

export type DecodeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** An encoder was handed a value that does not satisfy the codec's rules. */
export class CodecError extends RangeError {
  override readonly name = 'CodecError';
}

/** Version byte leading every encoded message; a receiver refuses versions it does not know. */
export const MESSAGE_FORMAT_VERSION = 2;
/** Version byte leading every encoded ConfChange: its bytes live in the replicated log forever. */
export const CONF_CHANGE_FORMAT_VERSION = 1;

export const MAX_ID_BYTES = 256;
/** Matches validate.ts, which counts UTF-16 code units. */
export const MAX_CTX_LENGTH = 1024;

const utf8Encoder = new TextEncoder();
// fatal: malformed UTF-8 is an error, not U+FFFD; ignoreBOM: a leading U+FEFF is data.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const ENTRY_TYPES: readonly EntryType[] = ['normal', 'conf'];
const CONF_CHANGE_TYPES: readonly ConfChange['type'][] = ['addVoter', 'addLearner', 'remove'];

const TAG = {
  vote: 1,
  voteResp: 2,
  app: 3,
  appResp: 4,
  heartbeat: 5,
  heartbeatResp: 6,
  snap: 7,
  snapResp: 8,
  prop: 9,
  readIndex: 10,
  readIndexResp: 11,
  timeoutNow: 12,
} as const satisfies Record<Message['type'], number>;

/** Smallest possible encoding of an entry body (term, type, time, proposer, empty data): bounds counts. */
const MIN_ENTRY_BODY = 1 + 1 + 8 + 2 + 1;
/** Smallest possible encoding of a NodeId: length byte and one byte. */
const MIN_ID = 2;

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

  get length(): number {
    return this.pos;
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
    // Ids and contexts are short ASCII: a plain loop beats a TextEncoder call on those.
    if (n < 128) {
      this.ensure(n + 1);
      const buf = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === n) {
        buf[this.pos] = n;
        this.pos = start + n;
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

// ---------------------------------------------------------------------------------------------
// Reader

/** Thrown inside a decode and turned into `{ ok: false }` at the exported boundary. */
class DecodeFailure extends Error {}

/** Bounds-checked reader over one input; every read names its field for the error message. */
export class Reader {
  private readonly src: Uint8Array;
  private own: Uint8Array | null = null;
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

  /** Length-prefixed bytes, as a subarray of the reader's private copy of the input. */
  bytes(field: string): Uint8Array {
    const at = this.pos;
    const n = this.varint(`${field} length`);
    if (n > this.remaining) this.truncated(at, `${field} (${n} bytes, ${this.remaining} left)`);
    if (!this.own) {
      // A plain Uint8Array even when the input is a Buffer, whose slice() would not copy.
      this.own = new Uint8Array(this.src.length);
      this.own.set(this.src);
    }
    const out = this.own.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(field: string, maxBytes: number): string {
    const at = this.pos;
    const n = this.varint(`${field} length`);
    if (n > maxBytes) this.fail(`${field} at byte ${at} is ${n} bytes (at most ${maxBytes})`);
    if (n > this.remaining) this.truncated(at, `${field} (${n} bytes, ${this.remaining} left)`);
    const src = this.src;
    const start = this.pos;
    this.pos += n;
    if (n <= 64) {
      let s = '';
      let i = start;
      for (; i < start + n; i++) {
        const c = src[i] as number;
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (i === start + n) return s;
    }
    try {
      return utf8Decoder.decode(src.subarray(start, start + n));
    } catch {
      return this.fail(`invalid UTF-8 in ${field} at byte ${at}`);
    }
  }

  id(field: string): NodeId {
    const at = this.pos;
    const s = this.string(field, MAX_ID_BYTES);
    if (s.length === 0) this.fail(`${field} at byte ${at} is empty`);
    return s;
  }

  ctx(field: string): string {
    const at = this.pos;
    const s = this.string(field, MAX_CTX_LENGTH * 3);
    if (s.length > MAX_CTX_LENGTH) this.fail(`${field} at byte ${at} is longer than ${MAX_CTX_LENGTH} characters`);
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

function decodeWith<T>(bytes: Uint8Array, what: string, read: (r: Reader) => T): DecodeResult<T> {
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

// ---------------------------------------------------------------------------------------------
// Field helpers shared by encoders and decoders

function writeId(w: Writer, id: NodeId, what: string): void {
  if (typeof id !== 'string' || id.length === 0) throw new CodecError(`${what} must be a non-empty string`);
  const n = w.string(id);
  if (n > MAX_ID_BYTES) throw new CodecError(`${what} is ${n} bytes (at most ${MAX_ID_BYTES})`);
}

function writeCtx(w: Writer, ctx: string, what: string): void {
  if (typeof ctx !== 'string' || ctx.length > MAX_CTX_LENGTH) throw new CodecError(`${what} must be a string of at most ${MAX_CTX_LENGTH} characters`);
  w.string(ctx);
}

function positive(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new CodecError(`${what} ${String(v)} must be a positive safe integer`);
}

function writeTime(w: Writer, t: number): void {
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new CodecError(`entry time ${String(t)} must be a finite number >= 0`);
  w.f64(t);
}

function readTime(r: Reader): number {
  const at = r.pos;
  const t = r.f64('time');
  if (!Number.isFinite(t) || t < 0) r.fail(`bad time ${String(t)} at byte ${at}`);
  return t;
}

function writeEntryType(w: Writer, t: EntryType): void {
  const code = ENTRY_TYPES.indexOf(t);
  if (code < 0) throw new CodecError(`unknown entry type ${String(t)}`);
  w.u8(code);
}

function readEntryType(r: Reader): EntryType {
  const at = r.pos;
  const code = r.u8('entry type');
  const t = ENTRY_TYPES[code];
  if (t === undefined) r.fail(`unknown entry type ${hex(code)} at byte ${at}`);
  return t;
}

function writeData(w: Writer, data: Uint8Array, what: string): void {
  if (!(data instanceof Uint8Array)) throw new CodecError(`${what} must be a Uint8Array`);
  w.bytes(data, what);
}

/** Entry without its index: in a batch or an append the index follows from the position. */
function writeEntryBody(w: Writer, e: Entry): void {
  positive(e.term, 'entry term');
  w.varint(e.term, 'entry term');
  writeEntryType(w, e.type);
  writeTime(w, e.time);
  writeId(w, e.proposer, 'entry proposer');
  writeData(w, e.data, 'entry data');
}

function readEntryBody(r: Reader, index: number): Entry {
  const at = r.pos;
  const term = r.varint('entry term');
  if (term < 1) r.fail(`entry ${index} has term 0 at byte ${at}`);
  const type = readEntryType(r);
  const time = readTime(r);
  const proposer = r.id('entry proposer');
  const data = r.bytes('entry data');
  return { index, term, type, time, proposer, data };
}

function entriesSize(entries: readonly { readonly data: Uint8Array }[]): number {
  let n = 16;
  for (const e of entries) n += e.data.length + 24 + ('proposer' in e && typeof e.proposer === 'string' ? e.proposer.length * 3 : 0);
  return n;
}

/** Contiguous entries after `prevIndex`: a count, then bodies. */
function writeEntryRun(w: Writer, prevIndex: number, entries: readonly Entry[]): void {
  w.varint(entries.length, 'entry count');
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k] as Entry;
    if (e.index !== prevIndex + 1 + k) {
      throw new CodecError(`entries are not contiguous: entry ${String(e.index)} at position ${k}, expected ${prevIndex + 1 + k}`);
    }
    writeEntryBody(w, e);
  }
}

function readEntryRun(r: Reader, prevIndex: number): Entry[] {
  const n = r.count('entry count', MIN_ENTRY_BODY);
  if (n > 0 && prevIndex + n > Number.MAX_SAFE_INTEGER) r.fail(`${n} entries after ${prevIndex} pass 2^53-1`);
  const out = new Array<Entry>(n);
  for (let k = 0; k < n; k++) out[k] = readEntryBody(r, prevIndex + 1 + k);
  return out;
}

function writeConfState(w: Writer, c: ConfState): void {
  checkConfIds(c);
  w.varint(c.voters.length, 'voter count');
  for (const v of c.voters) writeId(w, v, 'voter id');
  w.varint(c.learners.length, 'learner count');
  for (const l of c.learners) writeId(w, l, 'learner id');
}

function checkConfIds(c: ConfState): void {
  if (!Array.isArray(c.voters) || !Array.isArray(c.learners)) throw new CodecError('conf voters and learners must be arrays');
  const seen = new Set<string>();
  for (const id of [...c.voters, ...c.learners]) {
    if (seen.has(id)) throw new CodecError(`conf lists node ${id} twice`);
    seen.add(id);
  }
}

function readConfState(r: Reader): ConfState {
  const seen = new Set<string>();
  const list = (field: string): NodeId[] => {
    const n = r.count(`${field} count`, MIN_ID);
    const ids = new Array<NodeId>(n);
    for (let k = 0; k < n; k++) {
      const at = r.pos;
      const id = r.id(`${field} id`);
      if (seen.has(id)) r.fail(`conf lists node ${JSON.stringify(id)} twice (byte ${at})`);
      seen.add(id);
      ids[k] = id;
    }
    return ids;
  };
  const voters = list('voter');
  const learners = list('learner');
  return { voters, learners };
}

function writeSnapshotMeta(w: Writer, m: SnapshotMeta): void {
  positive(m.index, 'snapshot index');
  positive(m.term, 'snapshot term');
  w.varint(m.index, 'snapshot index');
  w.varint(m.term, 'snapshot term');
  writeConfState(w, m.conf);
}

function readSnapshotMeta(r: Reader): SnapshotMeta {
  const at = r.pos;
  const index = r.varint('snapshot index');
  const term = r.varint('snapshot term');
  if (index < 1 || term < 1) r.fail(`snapshot at byte ${at} has index ${index} term ${term} (both must be >= 1)`);
  const conf = readConfState(r);
  return { index, term, conf };
}

function confSize(c: ConfState): number {
  let n = 4;
  for (const id of c.voters) n += id.length * 3 + 2;
  for (const id of c.learners) n += id.length * 3 + 2;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Persisted types

/** A single varint (the storage format record uses it). */
export function encodeUint(v: number): Uint8Array {
  const w = new Writer(8);
  w.varint(v, 'value');
  return w.finish();
}

export function decodeUint(bytes: Uint8Array): DecodeResult<number> {
  return decodeWith(bytes, 'uint', (r) => r.varint('value'));
}

/** An entry with its index. */
export function encodeEntry(e: Entry): Uint8Array {
  const w = new Writer(e.data.length + 32);
  writeEntryTo(w, e);
  return w.finish();
}

/** Appends an entry with its index to `w` (storage builds many values in one buffer). */
export function writeEntryTo(w: Writer, e: Entry): void {
  positive(e.index, 'entry index');
  w.varint(e.index, 'entry index');
  writeEntryBody(w, e);
}

export function decodeEntry(bytes: Uint8Array): DecodeResult<Entry> {
  return decodeWith(bytes, 'entry', (r) => {
    const index = r.varint('entry index');
    if (index < 1) r.fail('index 0 is not a log index');
    return readEntryBody(r, index);
  });
}

/** A contiguous run of the log: count, first index (when not empty), then entries without their indexes. */
export function encodeEntries(entries: readonly Entry[]): Uint8Array {
  const w = new Writer(entriesSize(entries));
  const first = entries[0];
  if (!first) {
    w.varint(0, 'entry count');
    return w.finish();
  }
  positive(first.index, 'entry index');
  w.varint(entries.length, 'entry count');
  w.varint(first.index, 'first index');
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k] as Entry;
    if (e.index !== first.index + k) {
      throw new CodecError(`entries are not contiguous: entry ${String(e.index)} at position ${k}, expected ${first.index + k}`);
    }
    writeEntryBody(w, e);
  }
  return w.finish();
}

export function decodeEntries(bytes: Uint8Array): DecodeResult<Entry[]> {
  return decodeWith(bytes, 'entries', (r) => {
    const n = r.count('entry count', MIN_ENTRY_BODY);
    if (n === 0) return [];
    const first = r.varint('first index');
    if (first < 1) r.fail('index 0 is not a log index');
    if (first + n - 1 > Number.MAX_SAFE_INTEGER) r.fail(`${n} entries from ${first} pass 2^53-1`);
    const out = new Array<Entry>(n);
    for (let k = 0; k < n; k++) out[k] = readEntryBody(r, first + k);
    return out;
  });
}

/** term, then a vote flag (0 = null, 1 = an id follows), then commit. */
export function encodeHardState(hs: HardState): Uint8Array {
  const w = new Writer(32 + (hs.vote?.length ?? 0) * 3);
  w.varint(hs.term, 'term');
  if (hs.vote === null) {
    w.u8(0);
  } else {
    w.u8(1);
    writeId(w, hs.vote, 'vote');
  }
  w.varint(hs.commit, 'commit');
  return w.finish();
}

export function decodeHardState(bytes: Uint8Array): DecodeResult<HardState> {
  return decodeWith(bytes, 'hard state', (r) => {
    const term = r.varint('term');
    const vote = r.bool('vote flag') ? r.id('vote') : null;
    const commit = r.varint('commit');
    return { term, vote, commit };
  });
}

export function encodeConfState(c: ConfState): Uint8Array {
  const w = new Writer(confSize(c));
  writeConfState(w, c);
  return w.finish();
}

export function decodeConfState(bytes: Uint8Array): DecodeResult<ConfState> {
  return decodeWith(bytes, 'conf state', readConfState);
}

/** index (0 for the bootstrap membership), then the conf state. */
export function encodeMembership(m: Membership): Uint8Array {
  const w = new Writer(confSize(m.conf) + 10);
  w.varint(m.index, 'membership index');
  writeConfState(w, m.conf);
  return w.finish();
}

export function decodeMembership(bytes: Uint8Array): DecodeResult<Membership> {
  return decodeWith(bytes, 'membership', (r) => {
    const index = r.varint('membership index');
    const conf = readConfState(r);
    return { conf, index };
  });
}

export function encodeSnapshotMeta(m: SnapshotMeta): Uint8Array {
  const w = new Writer(confSize(m.conf) + 20);
  writeSnapshotMeta(w, m);
  return w.finish();
}

export function decodeSnapshotMeta(bytes: Uint8Array): DecodeResult<SnapshotMeta> {
  return decodeWith(bytes, 'snapshot meta', readSnapshotMeta);
}

/** Meta, then length-prefixed data. */
export function encodeSnapshot(s: Snapshot): Uint8Array {
  const w = new Writer(confSize(s.meta.conf) + s.data.length + 30);
  writeSnapshotTo(w, s);
  return w.finish();
}

export function writeSnapshotTo(w: Writer, s: Snapshot): void {
  writeSnapshotMeta(w, s.meta);
  writeData(w, s.data, 'snapshot data');
}

export function decodeSnapshot(bytes: Uint8Array): DecodeResult<Snapshot> {
  return decodeWith(bytes, 'snapshot', (r) => {
    const meta = readSnapshotMeta(r);
    const data = r.bytes('snapshot data');
    return { meta, data };
  });
}

/** Version byte, type byte, node id. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const code = CONF_CHANGE_TYPES.indexOf(cc.type);
  if (code < 0) throw new CodecError(`unknown conf change type ${String(cc.type)}`);
  const w = new Writer(3 + cc.node.length * 3);
  w.u8(CONF_CHANGE_FORMAT_VERSION);
  w.u8(code);
  writeId(w, cc.node, 'conf change node');
  return w.finish();
}

export function decodeConfChange(bytes: Uint8Array): DecodeResult<ConfChange> {
  return decodeWith(bytes, 'conf change', (r) => {
    const v = r.u8('format version');
    if (v !== CONF_CHANGE_FORMAT_VERSION) r.fail(`format version ${v} is not supported (expected ${CONF_CHANGE_FORMAT_VERSION})`);
    const code = r.u8('type');
    const type = CONF_CHANGE_TYPES[code];
    if (type === undefined) r.fail(`unknown type ${hex(code)} at byte 1`);
    const node = r.id('node');
    return { type, node };
  });
}

// ---------------------------------------------------------------------------------------------
// Messages: version byte, type tag, from, to, term, then the variant's fields in declaration order.
// Booleans are one byte (0 or 1), except vote/voteResp which pack theirs into a flags byte.

const VOTE_PRE = 1;
const VOTE_TRANSFER = 2;
const VOTE_REJECT = 2;

export function encodeMessage(m: Message): Uint8Array {
  const tag = TAG[m.type];
  if (tag === undefined) throw new CodecError(`unknown message type ${String(m.type)}`);
  let size = 16 + (m.from.length + m.to.length) * 3 + 40;
  if (m.type === 'app' || m.type === 'prop') size += entriesSize(m.entries);
  else if (m.type === 'snap') size += m.chunk.length + confSize(m.meta.conf) + 30;
  else if (m.type === 'heartbeat' || m.type === 'heartbeatResp' || m.type === 'readIndex' || m.type === 'readIndexResp') size += m.ctx.length * 3;
  const w = new Writer(size);
  w.u8(MESSAGE_FORMAT_VERSION);
  w.u8(tag);
  writeId(w, m.from, 'from');
  writeId(w, m.to, 'to');
  w.varint(m.term, 'term');
  switch (m.type) {
    case 'vote':
      w.u8((m.pre ? VOTE_PRE : 0) | (m.transfer ? VOTE_TRANSFER : 0));
      w.varint(m.lastIndex, 'lastIndex');
      w.varint(m.lastTerm, 'lastTerm');
      break;
    case 'voteResp':
      w.u8((m.pre ? VOTE_PRE : 0) | (m.reject ? VOTE_REJECT : 0));
      if (m.leader === '') w.u8(0);
      else writeId(w, m.leader, 'leader');
      break;
    case 'app':
      w.varint(m.prevIndex, 'prevIndex');
      w.varint(m.prevTerm, 'prevTerm');
      w.varint(m.commit, 'commit');
      writeEntryRun(w, m.prevIndex, m.entries);
      break;
    case 'appResp':
      w.varint(m.index, 'index');
      w.bool(m.reject);
      w.varint(m.hintIndex, 'hintIndex');
      w.varint(m.hintTerm, 'hintTerm');
      break;
    case 'heartbeat':
      w.varint(m.commit, 'commit');
      writeCtx(w, m.ctx, 'ctx');
      if (m.transferee === '') w.u8(0);
      else writeId(w, m.transferee, 'transferee');
      break;
    case 'heartbeatResp':
      writeCtx(w, m.ctx, 'ctx');
      writeTime(w, m.clock);
      break;
    case 'snap':
      writeSnapshotMeta(w, m.meta);
      w.varint(m.offset, 'offset');
      w.varint(m.total, 'total');
      if (m.offset + m.chunk.length > m.total) {
        throw new CodecError(`snapshot chunk at ${m.offset} of ${m.chunk.length} bytes passes its total ${m.total}`);
      }
      writeData(w, m.chunk, 'chunk');
      break;
    case 'snapResp':
      w.varint(m.index, 'index');
      w.varint(m.offset, 'offset');
      w.bool(m.reject);
      break;
    case 'prop':
      w.varint(m.entries.length, 'proposal count');
      for (const e of m.entries) {
        writeEntryType(w, e.type);
        writeData(w, e.data, 'proposal data');
      }
      break;
    case 'readIndex':
      writeCtx(w, m.ctx, 'ctx');
      break;
    case 'readIndexResp':
      writeCtx(w, m.ctx, 'ctx');
      w.varint(m.index, 'index');
      w.bool(m.reject);
      if (m.leader === '') w.u8(0);
      else writeId(w, m.leader, 'leader');
      break;
    case 'timeoutNow':
      break;
  }
  return w.finish();
}

function readFlags(r: Reader, allowed: number): number {
  const at = r.pos;
  const f = r.u8('flags');
  if ((f & ~allowed) !== 0) r.fail(`unknown flags ${hex(f)} at byte ${at}`);
  return f;
}

export function decodeMessage(bytes: Uint8Array): DecodeResult<Message> {
  return decodeWith(bytes, 'message', (r): Message => {
    const v = r.u8('format version');
    if (v !== MESSAGE_FORMAT_VERSION) r.fail(`format version ${v} is not supported (expected ${MESSAGE_FORMAT_VERSION})`);
    const tag = r.u8('type tag');
    if (tag < TAG.vote || tag > TAG.timeoutNow) r.fail(`unknown type tag ${hex(tag)}`);
    const from = r.id('from');
    const to = r.id('to');
    const term = r.varint('term');
    switch (tag) {
      case TAG.vote: {
        const f = readFlags(r, VOTE_PRE | VOTE_TRANSFER);
        const lastIndex = r.varint('lastIndex');
        const lastTerm = r.varint('lastTerm');
        return { type: 'vote', from, to, term, pre: (f & VOTE_PRE) !== 0, lastIndex, lastTerm, transfer: (f & VOTE_TRANSFER) !== 0 };
      }
      case TAG.voteResp: {
        const f = readFlags(r, VOTE_PRE | VOTE_REJECT);
        const leader = r.string('leader', MAX_ID_BYTES);
        return { type: 'voteResp', from, to, term, pre: (f & VOTE_PRE) !== 0, reject: (f & VOTE_REJECT) !== 0, leader };
      }
      case TAG.app: {
        const prevIndex = r.varint('prevIndex');
        const prevTerm = r.varint('prevTerm');
        const commit = r.varint('commit');
        const entries = readEntryRun(r, prevIndex);
        return { type: 'app', from, to, term, prevIndex, prevTerm, entries, commit };
      }
      case TAG.appResp: {
        const index = r.varint('index');
        const reject = r.bool('reject');
        const hintIndex = r.varint('hintIndex');
        const hintTerm = r.varint('hintTerm');
        return { type: 'appResp', from, to, term, index, reject, hintIndex, hintTerm };
      }
      case TAG.heartbeat: {
        const commit = r.varint('commit');
        const ctx = r.ctx('ctx');
        const transferee = r.string('transferee', MAX_ID_BYTES);
        return { type: 'heartbeat', from, to, term, commit, ctx, transferee };
      }
      case TAG.heartbeatResp: {
        const ctx = r.ctx('ctx');
        return { type: 'heartbeatResp', from, to, term, ctx, clock: readTime(r) };
      }
      case TAG.snap: {
        const meta = readSnapshotMeta(r);
        const offset = r.varint('offset');
        const total = r.varint('total');
        const at = r.pos;
        const chunk = r.bytes('chunk');
        if (offset + chunk.length > total) r.fail(`snapshot chunk at byte ${at}: offset ${offset} + ${chunk.length} bytes passes total ${total}`);
        return { type: 'snap', from, to, term, meta, offset, total, chunk };
      }
      case TAG.snapResp: {
        const index = r.varint('index');
        const offset = r.varint('offset');
        const reject = r.bool('reject');
        return { type: 'snapResp', from, to, term, index, offset, reject };
      }
      case TAG.prop: {
        const n = r.count('proposal count', 2);
        const entries = new Array<{ type: EntryType; data: Uint8Array }>(n);
        for (let k = 0; k < n; k++) {
          const type = readEntryType(r);
          entries[k] = { type, data: r.bytes('proposal data') };
        }
        return { type: 'prop', from, to, term, entries };
      }
      case TAG.readIndex:
        return { type: 'readIndex', from, to, term, ctx: r.ctx('ctx') };
      case TAG.readIndexResp: {
        const ctx = r.ctx('ctx');
        const index = r.varint('index');
        const reject = r.bool('reject');
        const leader = r.string('leader', MAX_ID_BYTES);
        return { type: 'readIndexResp', from, to, term, ctx, index, reject, leader };
      }
      default:
        return { type: 'timeoutNow', from, to, term };
    }
  });
}
