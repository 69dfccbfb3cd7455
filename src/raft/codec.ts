import { CodecError, decodeWith, MAX_ID_BYTES, Writer, type DecodeResult } from '../codec/binary.js';
import { decodeFail as fail, decodeProto, encodeProto, fitsBytes, readInt, utf8Length, writeBytes, writeInt } from '../codec/proto.js';
import { at } from '../invariant.js';
import * as pb from '../proto/raft.js';
import {
  MAX_INDEX,
  MAX_TERM,
  type ConfChange,
  type ConfState,
  type Entry,
  type EntryType,
  type HardState,
  type Membership,
  type Message,
  type NodeId,
  type Snapshot,
  type SnapshotMeta,
} from './types.js';

// The wire and disk form of meshrun's Raft: the LevelDB log stores these bytes and the transport
// sends them, so a value means the same thing on disk and on the wire. The layout is the schema in
// src/proto/raft.proto, compiled by protons; this file maps it to the types of ./types.ts.
//
// Decoders never throw: they return a DecodeResult whose error names the value and the field.
// Besides what the schema says they check what it cannot: ids are 1..256 UTF-8 bytes, contexts at
// most 1024 characters, terms at most MAX_TERM and indexes at most MAX_INDEX (and entry and
// snapshot terms and indexes at least 1), times finite and >= 0, no node twice in a conf, a
// snapshot chunk inside its total, a run of entries contiguous and inside MAX_INDEX, every enum
// value known and every message with exactly one body (see codec/proto.ts for what its reader
// refuses: unknown fields, malformed UTF-8, integers above 2^53 - 1). Whatever decodes is safe to
// hand on. Encoders throw a CodecError on a value the decoder would refuse, so nothing
// undecodable is ever written or sent.
//
// Messages carry no version byte: a peer that speaks another layout is refused by those checks
// (an unknown field, a missing body). The store's format version (storage/keys.ts) covers what
// is on disk.
//
// Byte fields of a decoded value (Entry.data, Snapshot.data, SnapshotChunk.chunk, proposal data)
// are subarrays of ONE private copy of the input, made the first time a byte field is read. The
// caller may reuse or overwrite its input buffer afterwards; keeping any one field keeps that copy
// (about the size of the input) alive. Values without byte fields copy nothing, and an empty byte
// field is one shared empty array.

export { CodecError, MAX_ID_BYTES, type DecodeResult } from '../codec/binary.js';

/** Matches validate.ts, which counts UTF-16 code units. */
export const MAX_CTX_LENGTH = 1024;

/** Fewest bytes an entry that decodes can take in a list (tag, length, term, proposer): bounds counts. */
const MIN_LISTED_ENTRY = 7;
/** Fewest bytes of one id in a conf list (tag, length, one byte). */
const MIN_LISTED_ID = 3;

/** Entries an input of `bytes` could hold: protons' decoder stops at the first one past that. */
function entriesLimits(bytes: Uint8Array): { limits: { entries: number } } {
  return { limits: { entries: Math.ceil(inputLength(bytes) / MIN_LISTED_ENTRY) } };
}

/** The length of an input to decode; 0 for a value that is not bytes (JavaScript callers), which decodeProto then refuses. */
function inputLength(bytes: unknown): number {
  return bytes instanceof Uint8Array ? bytes.length : 0;
}

const MESSAGE_LIMITS = { limits: { app: { entries: 0 }, prop: { entries: 0 } } };

/** Byte fields are absent when empty (see raft.proto); they decode to this. */
const EMPTY = new Uint8Array(0);
const CONF_CHANGE_OUT: Readonly<Record<ConfChange['type'], pb.ConfChangeType>> = {
  addVoter: pb.ConfChangeType.ADD_VOTER,
  addLearner: pb.ConfChangeType.ADD_LEARNER,
  remove: pb.ConfChangeType.REMOVE,
};
const CONF_CHANGE_IN: Readonly<Record<pb.ConfChangeType, ConfChange['type']>> = {
  ADD_VOTER: 'addVoter',
  ADD_LEARNER: 'addLearner',
  REMOVE: 'remove',
};

// ---------------------------------------------------------------------------------------------
// Checks on the way in (decoders): each throws, through codec/proto's `fail`, naming the field.

function readId(s: string, field: string): NodeId {
  if (s === '') fail(`${field} is empty`);
  if (!fitsBytes(s, MAX_ID_BYTES)) fail(`${field} is ${utf8Length(s)} bytes (at most ${MAX_ID_BYTES})`);
  return s;
}

/** '' (none) or an id. */
function readOptionalId(s: string, field: string): string {
  return s === '' ? s : readId(s, field);
}

function readCtx(s: string, field: string): string {
  if (s.length > MAX_CTX_LENGTH) fail(`${field} is longer than ${MAX_CTX_LENGTH} characters`);
  return s;
}

const readTerm = (v: number, field: string): number => readInt(v, field, MAX_TERM);
const readIndex = (v: number, field: string): number => readInt(v, field, MAX_INDEX);

function readTime(t: number, field: string): number {
  if (!Number.isFinite(t) || t < 0) fail(`bad ${field} ${String(t)}`);
  return t;
}

/** The entry's own fields, checked; the caller gives it its index. */
function checkEntryIn(e: pb.RunEntry, index: number): void {
  if (e.term < 1) fail(`entry ${index} has term 0`);
  readTerm(e.term, `entry ${index} term`);
  readTime(e.time, `entry ${index} time`);
  readId(e.proposer, `entry ${index} proposer`);
}

function entryIn(e: pb.Entry): Entry {
  if (e.index < 1) fail('index 0 is not a log index');
  const index = readIndex(e.index, 'entry index');
  checkEntryIn(e, index);
  return { index, term: e.term, type: e.type, time: e.time, proposer: e.proposer, data: e.data ?? EMPTY };
}

/**
 * Run entries, the first at `first`. A decoded run entry already has Entry's other fields under
 * the same names (EntryType's values are the same strings): it is checked and completed in place
 * rather than copied, as a long append decodes thousands of them a second. (Data first, then the
 * index: every entry ends up with the same shape.)
 */
function runIn(list: readonly pb.RunEntry[], first: number): Entry[] {
  const n = list.length;
  if (n > 0 && first + n - 1 > MAX_INDEX) fail(`${n} entries from index ${first} pass ${MAX_INDEX}`);
  for (let k = 0; k < n; k++) {
    const e = list[k] as pb.RunEntry & { index?: number };
    checkEntryIn(e, first + k);
    e.data ??= EMPTY;
    e.index = first + k;
  }
  return list as Entry[];
}

function confIn(c: pb.ConfState | undefined): ConfState {
  if (c === undefined) return { voters: [], learners: [] };
  const seen = new Set<string>();
  const check = (ids: string[], field: string): string[] => {
    for (const id of ids) {
      readId(id, field);
      if (seen.has(id)) fail(`conf lists node ${JSON.stringify(id)} twice`);
      seen.add(id);
    }
    return ids;
  };
  return { voters: check(c.voters, 'voter id'), learners: check(c.learners, 'learner id') };
}

function metaIn(m: pb.SnapshotMeta | undefined): SnapshotMeta {
  if (m === undefined) return fail('snapshot meta is missing');
  if (m.index < 1 || m.term < 1) fail(`snapshot has index ${m.index} term ${m.term} (both must be >= 1)`);
  return { index: readIndex(m.index, 'snapshot index'), term: readTerm(m.term, 'snapshot term'), conf: confIn(m.conf) };
}

// ---------------------------------------------------------------------------------------------
// Checks on the way out (encoders): each throws a CodecError naming the field.

function idOut(id: NodeId, field: string): NodeId {
  if (typeof id !== 'string' || id.length === 0) throw new CodecError(`${field} must be a non-empty string`);
  if (!fitsBytes(id, MAX_ID_BYTES)) throw new CodecError(`${field} is ${utf8Length(id)} bytes (at most ${MAX_ID_BYTES})`);
  return id;
}

function optionalIdOut(id: string, field: string): string {
  return id === '' ? id : idOut(id, field);
}

function ctxOut(ctx: string, field: string): string {
  if (typeof ctx !== 'string' || ctx.length > MAX_CTX_LENGTH)
    throw new CodecError(`${field} must be a string of at most ${MAX_CTX_LENGTH} characters`);
  return ctx;
}

const termOut = (v: number, field: string): number => writeInt(v, field, MAX_TERM);
const indexOut = (v: number, field: string): number => writeInt(v, field, MAX_INDEX);
const positiveTermOut = (v: number, field: string): number => writeInt(v, field, MAX_TERM, 1);
const positiveIndexOut = (v: number, field: string): number => writeInt(v, field, MAX_INDEX, 1);

function timeOut(t: number, field: string): number {
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new CodecError(`${field} ${String(t)} must be a finite number >= 0`);
  return t;
}

/** Checked at run time too: a JavaScript caller can pass any string. */
function entryTypeOut(t: EntryType): pb.EntryType {
  switch (t) {
    case 'normal':
      return pb.EntryType.normal;
    case 'conf':
      return pb.EntryType.conf;
    default:
      throw new CodecError(`unknown entry type ${String(t)}`);
  }
}

/** Absent when empty (see raft.proto). */
function dataOut(b: Uint8Array, field: string): Uint8Array | undefined {
  return writeBytes(b, field).length === 0 ? undefined : b;
}

/** Checks `e` for the encoder; returns its data. */
function checkEntryOut(e: Entry): Uint8Array {
  positiveTermOut(e.term, 'entry term');
  entryTypeOut(e.type);
  if (typeof e.time !== 'number' || !Number.isFinite(e.time) || e.time < 0)
    throw new CodecError(`entry time ${String(e.time)} must be a finite number >= 0`);
  idOut(e.proposer, 'entry proposer');
  return writeBytes(e.data, 'entry data');
}

/**
 * A run, checked: the entries themselves go to RunEntry's encoder, which reads the fields it has
 * (an entry's index is not one of them; -0 as a time is written as 0).
 */
function runOut(entries: readonly Entry[], first: number): pb.RunEntry[] {
  for (let k = 0; k < entries.length; k++) {
    const e = at(entries, k, 'an entry of the run being encoded');
    if (e.index !== first + k) {
      throw new CodecError(`entries are not contiguous: entry ${String(e.index)} at position ${k}, expected ${first + k}`);
    }
    checkEntryOut(e);
  }
  if (entries.length > 0) indexOut(first + entries.length - 1, 'last entry index');
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- no copy: an Entry's type strings are pb.EntryType's values
  return entries as Entry[] as pb.RunEntry[];
}

/** Array.isArray without its type guard (which would widen a readonly string[] to any[]). */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}

function confOut(c: ConfState): pb.ConfState {
  if (!isList(c.voters) || !isList(c.learners)) throw new CodecError('conf voters and learners must be arrays');
  const seen = new Set<string>();
  for (const [ids, field] of [
    [c.voters, 'voter id'],
    [c.learners, 'learner id'],
  ] as const) {
    for (const id of ids) {
      idOut(id, field);
      if (seen.has(id)) throw new CodecError(`conf lists node ${id} twice`);
      seen.add(id);
    }
  }
  return { voters: c.voters as string[], learners: c.learners as string[] };
}

function metaOut(m: SnapshotMeta): pb.SnapshotMeta {
  return { index: positiveIndexOut(m.index, 'snapshot index'), term: positiveTermOut(m.term, 'snapshot term'), conf: confOut(m.conf) };
}

function confSize(c: ConfState): number {
  let n = 8;
  for (const id of c.voters) n += id.length * 3 + 2;
  for (const id of c.learners) n += id.length * 3 + 2;
  return n;
}

/** Upper bound on the encoded size of `entries` besides their data and proposers. */
function entriesSize(entries: readonly { readonly data: Uint8Array; readonly proposer?: string }[]): number {
  let n = 16;
  for (const e of entries) n += e.data.length + 32 + (e.proposer === undefined ? 0 : e.proposer.length * 3);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Persisted types

/** A single varint (the storage format record, whose layout never changes: see storage/keys.ts). */
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
  const data = checkEntryOut(e);
  const value: pb.Entry = {
    index: positiveIndexOut(e.index, 'entry index'),
    term: e.term,
    type: entryTypeOut(e.type),
    time: e.time,
    proposer: e.proposer,
  };
  if (data.length > 0) value.data = data;
  return encodeProto(pb.Entry.codec(), value, e.data.length + 32 + e.proposer.length * 3);
}

export function decodeEntry(bytes: Uint8Array): DecodeResult<Entry> {
  return decodeProto(pb.Entry.codec(), bytes, 'entry', entryIn);
}

/** A contiguous run of the log: the first index (when not empty), then entries without their indexes. */
export function encodeEntries(entries: readonly Entry[]): Uint8Array {
  const first = entries[0];
  if (!first) return encodeProto(pb.Entries.codec(), { firstIndex: 0, entries: [] }, 0);
  const firstIndex = positiveIndexOut(first.index, 'entry index');
  return encodeProto(pb.Entries.codec(), { firstIndex, entries: runOut(entries, firstIndex) }, entriesSize(entries));
}

export function decodeEntries(bytes: Uint8Array): DecodeResult<Entry[]> {
  return decodeProto(
    pb.Entries.codec(),
    bytes,
    'entries',
    (s) => {
      if (s.entries.length === 0) {
        if (s.firstIndex !== 0) fail(`first index ${s.firstIndex} of an empty run`);
        return [];
      }
      if (s.firstIndex < 1) fail('index 0 is not a log index');
      return runIn(s.entries, readIndex(s.firstIndex, 'first index'));
    },
    entriesLimits(bytes),
  );
}

export function encodeHardState(hs: HardState): Uint8Array {
  const value: pb.HardState = { term: termOut(hs.term, 'term'), commit: indexOut(hs.commit, 'commit') };
  if (hs.vote !== null) value.vote = idOut(hs.vote, 'vote');
  return encodeProto(pb.HardState.codec(), value, 32 + (hs.vote?.length ?? 0) * 3);
}

export function decodeHardState(bytes: Uint8Array): DecodeResult<HardState> {
  return decodeProto(pb.HardState.codec(), bytes, 'hard state', (h) => ({
    term: readTerm(h.term, 'term'),
    vote: h.vote === undefined ? null : readId(h.vote, 'vote'),
    commit: readIndex(h.commit, 'commit'),
  }));
}

export function encodeConfState(c: ConfState): Uint8Array {
  return encodeProto(pb.ConfState.codec(), confOut(c), confSize(c));
}

export function decodeConfState(bytes: Uint8Array): DecodeResult<ConfState> {
  const n = Math.ceil(inputLength(bytes) / MIN_LISTED_ID);
  return decodeProto(pb.ConfState.codec(), bytes, 'conf state', confIn, { limits: { voters: n, learners: n } });
}

/** index (0 for the bootstrap membership), then the conf state. */
export function encodeMembership(m: Membership): Uint8Array {
  return encodeProto(pb.Membership.codec(), { index: indexOut(m.index, 'membership index'), conf: confOut(m.conf) }, confSize(m.conf) + 12);
}

export function decodeMembership(bytes: Uint8Array): DecodeResult<Membership> {
  return decodeProto(pb.Membership.codec(), bytes, 'membership', (m) => ({
    conf: confIn(m.conf),
    index: readIndex(m.index, 'membership index'),
  }));
}

export function encodeSnapshotMeta(m: SnapshotMeta): Uint8Array {
  return encodeProto(pb.SnapshotMeta.codec(), metaOut(m), confSize(m.conf) + 24);
}

export function decodeSnapshotMeta(bytes: Uint8Array): DecodeResult<SnapshotMeta> {
  return decodeProto(pb.SnapshotMeta.codec(), bytes, 'snapshot meta', (m) => metaIn(m));
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const value: pb.Snapshot = { meta: metaOut(s.meta), data: dataOut(s.data, 'snapshot data') };
  return encodeProto(pb.Snapshot.codec(), value, confSize(s.meta.conf) + s.data.length + 40);
}

export function decodeSnapshot(bytes: Uint8Array): DecodeResult<Snapshot> {
  return decodeProto(pb.Snapshot.codec(), bytes, 'snapshot', (s) => ({ meta: metaIn(s.meta), data: s.data ?? EMPTY }));
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  if (!Object.hasOwn(CONF_CHANGE_OUT, cc.type)) throw new CodecError(`unknown conf change type ${cc.type}`);
  return encodeProto(
    pb.ConfChange.codec(),
    { type: CONF_CHANGE_OUT[cc.type], node: idOut(cc.node, 'conf change node') },
    8 + cc.node.length * 3,
  );
}

export function decodeConfChange(bytes: Uint8Array): DecodeResult<ConfChange> {
  return decodeProto(pb.ConfChange.codec(), bytes, 'conf change', (cc) => ({
    type: CONF_CHANGE_IN[cc.type],
    node: readId(cc.node, 'node'),
  }));
}

// ---------------------------------------------------------------------------------------------
// Messages: sender, receiver and term, then exactly one body.

/**
 * The bytes of a small message may share their ArrayBuffer with other messages' (see
 * codec/proto.ts, encodeProto): send them or copy them, rather than keep them.
 */
export function encodeMessage(m: Message): Uint8Array {
  const out: pb.Message = { from: idOut(m.from, 'from'), to: idOut(m.to, 'to'), term: termOut(m.term, 'term') };
  let size = 24 + (m.from.length + m.to.length) * 3;
  switch (m.type) {
    case 'vote':
      out.vote = {
        pre: m.pre,
        lastIndex: indexOut(m.lastIndex, 'lastIndex'),
        lastTerm: termOut(m.lastTerm, 'lastTerm'),
        transfer: m.transfer,
      };
      break;
    case 'voteResp':
      out.voteResp = { pre: m.pre, reject: m.reject, leader: optionalIdOut(m.leader, 'leader') };
      size += m.leader.length * 3;
      break;
    case 'app': {
      const prevIndex = indexOut(m.prevIndex, 'prevIndex');
      out.app = {
        prevIndex,
        prevTerm: termOut(m.prevTerm, 'prevTerm'),
        commit: indexOut(m.commit, 'commit'),
        entries: runOut(m.entries, prevIndex + 1),
        probe: probeOut(m.probe),
      };
      size += entriesSize(m.entries);
      break;
    }
    case 'appResp':
      out.appResp = {
        index: indexOut(m.index, 'index'),
        reject: m.reject,
        hintIndex: indexOut(m.hintIndex, 'hintIndex'),
        hintTerm: termOut(m.hintTerm, 'hintTerm'),
        probe: probeOut(m.probe),
      };
      break;
    case 'heartbeat':
      out.heartbeat = {
        commit: indexOut(m.commit, 'commit'),
        ctx: ctxOut(m.ctx, 'ctx'),
        transferee: optionalIdOut(m.transferee, 'transferee'),
      };
      size += (m.ctx.length + m.transferee.length) * 3;
      break;
    case 'heartbeatResp':
      out.heartbeatResp = { ctx: ctxOut(m.ctx, 'ctx'), clock: timeOut(m.clock, 'clock') };
      size += m.ctx.length * 3;
      break;
    case 'snap': {
      const offset = indexOut(m.offset, 'offset');
      const total = indexOut(m.total, 'total');
      const chunk = writeBytes(m.chunk, 'chunk');
      if (offset + chunk.length > total)
        throw new CodecError(`snapshot chunk at ${offset} of ${chunk.length} bytes passes its total ${total}`);
      out.snap = { meta: metaOut(m.meta), offset, total, chunk: dataOut(chunk, 'chunk') };
      size += chunk.length + confSize(m.meta.conf) + 32;
      break;
    }
    case 'snapResp':
      out.snapResp = { index: indexOut(m.index, 'index'), offset: indexOut(m.offset, 'offset'), reject: m.reject };
      break;
    case 'prop':
      out.prop = { entries: m.entries.map((e) => ({ type: entryTypeOut(e.type), data: dataOut(e.data, 'proposal data') })) };
      size += entriesSize(m.entries);
      break;
    case 'readIndex':
      out.readIndex = { ctx: ctxOut(m.ctx, 'ctx') };
      size += m.ctx.length * 3;
      break;
    case 'readIndexResp':
      out.readIndexResp = {
        ctx: ctxOut(m.ctx, 'ctx'),
        index: indexOut(m.index, 'index'),
        reject: m.reject,
        leader: optionalIdOut(m.leader, 'leader'),
      };
      size += (m.ctx.length + m.leader.length) * 3;
      break;
    case 'timeoutNow':
      out.timeoutNow = {};
      break;
    default:
      throw new CodecError(`unknown message type ${String((m as { type: unknown }).type)}`);
  }
  return encodeProto(pb.Message.codec(), out, size, true);
}

export function decodeMessage(bytes: Uint8Array): DecodeResult<Message> {
  const n = Math.ceil(inputLength(bytes) / MIN_LISTED_ENTRY);
  // One options object, updated for each decode (decoding is synchronous): a small message's
  // decode is a few hundred nanoseconds, and building these was a good part of them.
  MESSAGE_LIMITS.limits.app.entries = n;
  MESSAGE_LIMITS.limits.prop.entries = n;
  return decodeProto(pb.Message.codec(), bytes, 'message', messageIn, MESSAGE_LIMITS);
}

/** How many of its body fields a decoded message has (it must have exactly one). */
function bodyCount(m: pb.Message): number {
  return (
    (m.vote === undefined ? 0 : 1) +
    (m.voteResp === undefined ? 0 : 1) +
    (m.app === undefined ? 0 : 1) +
    (m.appResp === undefined ? 0 : 1) +
    (m.heartbeat === undefined ? 0 : 1) +
    (m.heartbeatResp === undefined ? 0 : 1) +
    (m.snap === undefined ? 0 : 1) +
    (m.snapResp === undefined ? 0 : 1) +
    (m.prop === undefined ? 0 : 1) +
    (m.readIndex === undefined ? 0 : 1) +
    (m.readIndexResp === undefined ? 0 : 1) +
    (m.timeoutNow === undefined ? 0 : 1)
  );
}

/** A re-probe's number: a uint32, 0 for none (the wire's default). */
function probeOut(probe: number | undefined): number {
  if (probe === undefined) return 0;
  if (!Number.isInteger(probe) || probe < 0 || probe > 0xffff_ffff) throw new CodecError(`probe ${String(probe)} is not a uint32`);
  return probe;
}

function messageIn(m: pb.Message): Message {
  const bodies = bodyCount(m);
  if (bodies !== 1) fail(bodies === 0 ? 'no body (or one this version does not know)' : `${bodies} bodies (exactly one expected)`);
  const from = readId(m.from, 'from');
  const to = readId(m.to, 'to');
  const term = readTerm(m.term, 'term');
  if (m.app) {
    const a = m.app;
    const prevIndex = readIndex(a.prevIndex, 'prevIndex');
    const prevTerm = readTerm(a.prevTerm, 'prevTerm');
    const commit = readIndex(a.commit, 'commit');
    const entries = runIn(a.entries, prevIndex + 1);
    return { type: 'app', from, to, term, prevIndex, prevTerm, entries, commit, ...(a.probe === 0 ? {} : { probe: a.probe }) };
  }
  if (m.appResp) {
    const r = m.appResp;
    return {
      type: 'appResp',
      from,
      to,
      term,
      index: readIndex(r.index, 'index'),
      reject: r.reject,
      hintIndex: readIndex(r.hintIndex, 'hintIndex'),
      hintTerm: readTerm(r.hintTerm, 'hintTerm'),
      ...(r.probe === 0 ? {} : { probe: r.probe }),
    };
  }
  if (m.heartbeat) {
    const h = m.heartbeat;
    return {
      type: 'heartbeat',
      from,
      to,
      term,
      commit: readIndex(h.commit, 'commit'),
      ctx: readCtx(h.ctx, 'ctx'),
      transferee: readOptionalId(h.transferee, 'transferee'),
    };
  }
  if (m.heartbeatResp) {
    const h = m.heartbeatResp;
    return { type: 'heartbeatResp', from, to, term, ctx: readCtx(h.ctx, 'ctx'), clock: readTime(h.clock, 'clock') };
  }
  if (m.vote) {
    const v = m.vote;
    return {
      type: 'vote',
      from,
      to,
      term,
      pre: v.pre,
      lastIndex: readIndex(v.lastIndex, 'lastIndex'),
      lastTerm: readTerm(v.lastTerm, 'lastTerm'),
      transfer: v.transfer,
    };
  }
  if (m.voteResp) {
    const v = m.voteResp;
    return { type: 'voteResp', from, to, term, pre: v.pre, reject: v.reject, leader: readOptionalId(v.leader, 'leader') };
  }
  if (m.snap) {
    const s = m.snap;
    const meta = metaIn(s.meta);
    const offset = readIndex(s.offset, 'offset');
    const total = readIndex(s.total, 'total');
    const chunk = s.chunk ?? EMPTY;
    if (offset + chunk.length > total) fail(`snapshot chunk: offset ${offset} + ${chunk.length} bytes passes total ${total}`);
    return { type: 'snap', from, to, term, meta, offset, total, chunk };
  }
  if (m.snapResp) {
    const s = m.snapResp;
    return {
      type: 'snapResp',
      from,
      to,
      term,
      index: readIndex(s.index, 'index'),
      offset: readIndex(s.offset, 'offset'),
      reject: s.reject,
    };
  }
  if (m.prop) {
    return { type: 'prop', from, to, term, entries: m.prop.entries.map((e) => ({ type: e.type, data: e.data ?? EMPTY })) };
  }
  if (m.readIndex) return { type: 'readIndex', from, to, term, ctx: readCtx(m.readIndex.ctx, 'ctx') };
  if (m.readIndexResp) {
    const r = m.readIndexResp;
    return {
      type: 'readIndexResp',
      from,
      to,
      term,
      ctx: readCtx(r.ctx, 'ctx'),
      index: readIndex(r.index, 'index'),
      reject: r.reject,
      leader: readOptionalId(r.leader, 'leader'),
    };
  }
  return { type: 'timeoutNow', from, to, term };
}
