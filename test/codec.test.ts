import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CodecError,
  decodeConfChange,
  decodeConfState,
  decodeEntries,
  decodeEntry,
  decodeHardState,
  decodeMembership,
  decodeMessage,
  decodeSnapshot,
  decodeSnapshotMeta,
  decodeUint,
  encodeConfChange,
  encodeConfState,
  encodeEntries,
  encodeEntry,
  encodeHardState,
  encodeMembership,
  encodeMessage,
  encodeSnapshot,
  encodeSnapshotMeta,
  encodeUint,
  type DecodeResult,
} from '../src/raft/codec.js';
import { decodeProto, ProtoReader } from '../src/codec/proto.js';
import * as pb from '../src/proto/raft.js';
import {
  MAX_INDEX,
  MAX_TERM,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Membership,
  type Message,
  type Snapshot,
  type SnapshotMeta,
} from '../src/raft/types.js';
import { crc32, crc32Table } from '../src/storage/crc32.js';

const utf8 = new TextEncoder();
const MAX = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------------
// Arbitraries: only values the codec promises to round-trip (ids 1..256 UTF-8 bytes, terms up to
// MAX_TERM and indexes up to MAX_INDEX, positive entry and snapshot terms and indexes, no
// duplicate ids in a conf).

const idArb = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme-ascii' }),
    fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
    fc.constantFrom('n1', 'n2', '12D3KooWBhMbLvQW9Sxzs1vmS3BEXoNbYCZWb8tiwrNHaz2bSZ5m', 'x'.repeat(256)),
  )
  .filter((s) => s.length > 0 && utf8.encode(s).length <= 256);
const ctxArb = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ maxLength: 20, unit: 'grapheme' }), fc.constant('\uFEFFbom'));
const termArb = fc.oneof(fc.nat(300), fc.integer({ min: 0, max: MAX_TERM }), fc.constant(MAX_TERM));
const indexArb = fc.oneof(fc.nat(300), fc.integer({ min: 0, max: MAX_INDEX }), fc.constant(MAX_INDEX));
const posTermArb = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: MAX_TERM }));
const posIndexArb = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: MAX_INDEX }));
const timeArb = fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e300, noNaN: true }), fc.constant(1_700_000_000_000));
const dataArb = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 250, maxLength: 300 }));
const typeArb = fc.constantFrom('normal' as const, 'conf' as const);

const confArb: fc.Arbitrary<ConfState> = fc
  .tuple(fc.uniqueArray(idArb, { maxLength: 9 }), fc.nat(9))
  .map(([ids, cut]) => ({ voters: ids.slice(0, cut), learners: ids.slice(cut) }));

/** A contiguous run starting after `prevIndex`, as appends and batches carry. */
function entryRunArb(prevIndex: fc.Arbitrary<number>, maxLength = 8): fc.Arbitrary<{ prevIndex: number; entries: Entry[] }> {
  return fc
    .tuple(
      prevIndex,
      fc.array(fc.record({ term: posTermArb, type: typeArb, time: timeArb, proposer: idArb, data: dataArb }), { maxLength }),
    )
    .map(([prev, bodies]) => ({ prevIndex: prev, entries: bodies.map((b, k) => ({ index: prev + 1 + k, ...b })) }));
}

const entryArb: fc.Arbitrary<Entry> = fc.record({
  index: posIndexArb,
  term: posTermArb,
  type: typeArb,
  time: timeArb,
  proposer: idArb,
  data: dataArb,
});
const hardStateArb: fc.Arbitrary<HardState> = fc.record({ term: termArb, vote: fc.option(idArb), commit: indexArb });
const membershipArb: fc.Arbitrary<Membership> = fc.record({ conf: confArb, index: indexArb });
const metaArb: fc.Arbitrary<SnapshotMeta> = fc.record({ index: posIndexArb, term: posTermArb, conf: confArb });
const snapshotArb: fc.Arbitrary<Snapshot> = fc.record({ meta: metaArb, data: fc.uint8Array({ maxLength: 2000 }) });
const confChangeArb: fc.Arbitrary<ConfChange> = fc.record({
  type: fc.constantFrom('addVoter' as const, 'addLearner' as const, 'remove' as const),
  node: idArb,
});

const base = fc.record({ from: idArb, to: idArb, term: termArb });
const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc
    .tuple(base, fc.boolean(), indexArb, termArb, fc.boolean())
    .map(([b, pre, lastIndex, lastTerm, transfer]): Message => ({ type: 'vote', ...b, pre, lastIndex, lastTerm, transfer })),
  fc
    .tuple(base, fc.boolean(), fc.boolean(), fc.oneof(fc.constant(''), idArb))
    .map(([b, pre, reject, leader]): Message => ({ type: 'voteResp', ...b, pre, reject, leader })),
  fc
    .tuple(base, entryRunArb(fc.oneof(fc.nat(1000), fc.integer({ min: 0, max: MAX_INDEX - 20 }))), termArb, indexArb)
    .map(([b, run, prevTerm, commit]): Message => ({
      type: 'app',
      ...b,
      prevIndex: run.prevIndex,
      prevTerm,
      entries: run.entries,
      commit,
    })),
  fc
    .tuple(base, indexArb, fc.boolean(), indexArb, termArb)
    .map(([b, index, reject, hintIndex, hintTerm]): Message => ({ type: 'appResp', ...b, index, reject, hintIndex, hintTerm })),
  fc
    .tuple(base, indexArb, ctxArb, fc.oneof(fc.constant(''), idArb))
    .map(([b, commit, ctx, transferee]): Message => ({ type: 'heartbeat', ...b, commit, ctx, transferee })),
  fc.tuple(base, ctxArb, timeArb).map(([b, ctx, clock]): Message => ({ type: 'heartbeatResp', ...b, ctx, clock })),
  fc
    .tuple(base, metaArb, fc.uint8Array({ maxLength: 100 }), fc.nat(1000), fc.nat(1000))
    .map(([b, meta, chunk, offset, extra]): Message => ({ type: 'snap', ...b, meta, offset, total: offset + chunk.length + extra, chunk })),
  fc
    .tuple(base, indexArb, indexArb, fc.boolean())
    .map(([b, index, offset, reject]): Message => ({ type: 'snapResp', ...b, index, offset, reject })),
  fc
    .tuple(base, fc.array(fc.record({ type: typeArb, data: dataArb }), { maxLength: 6 }))
    .map(([b, entries]): Message => ({ type: 'prop', ...b, entries })),
  fc.tuple(base, ctxArb).map(([b, ctx]): Message => ({ type: 'readIndex', ...b, ctx })),
  fc
    .tuple(base, ctxArb, indexArb, fc.boolean(), fc.oneof(fc.constant(''), idArb))
    .map(([b, ctx, index, reject, leader]): Message => ({ type: 'readIndexResp', ...b, ctx, index, reject, leader })),
  base.map((b): Message => ({ type: 'timeoutNow', ...b })),
);

// ---------------------------------------------------------------------------------------------

function ok<T>(r: DecodeResult<T>): T {
  if (!r.ok) throw new Error(`expected success, got: ${r.error}`);
  return r.value;
}

function err<T>(r: DecodeResult<T>): string {
  if (r.ok)
    throw new Error(`expected an error, decoded ${JSON.stringify(r.value, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))}`);
  return r.error;
}

const b = (...xs: number[]) => Uint8Array.from(xs);
const bytesOf = (s: string) => utf8.encode(s);

/**
 * Builds message bytes with the generated encoder, which checks nothing: the way to hand the
 * decoder what the codec's own encoder refuses to write.
 */
function raw(m: Partial<pb.Message>): Uint8Array {
  return pb.Message.encode({ from: 'a', to: 'b', term: 1, ...m });
}

const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

/** A varint of any size (the generated encoders refuse to write one past 2^53 - 1). */
function varint(v: bigint): Uint8Array {
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

const conf: ConfState = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };
const meta: SnapshotMeta = { index: 40, term: 3, conf };
const e1: Entry = { index: 7, term: 2, type: 'normal', time: 1_700_000_000_123, proposer: 'n1', data: b(1, 2, 3) };
const e2: Entry = {
  index: 8,
  term: 2,
  type: 'conf',
  time: 1_700_000_000_124,
  proposer: 'n1',
  data: encodeConfChange({ type: 'addLearner', node: 'n5' }),
};

const oneOfEach: Message[] = [
  { type: 'vote', from: 'n1', to: 'n2', term: 4, pre: true, lastIndex: 17, lastTerm: 3, transfer: false },
  { type: 'vote', from: 'n1', to: 'n2', term: 4, pre: false, lastIndex: 17, lastTerm: 3, transfer: true },
  { type: 'voteResp', from: 'n2', to: 'n1', term: 4, pre: true, reject: true, leader: 'n3' },
  { type: 'voteResp', from: 'n2', to: 'n1', term: 4, pre: false, reject: false, leader: '' },
  { type: 'app', from: 'n1', to: 'n2', term: 4, prevIndex: 6, prevTerm: 2, entries: [e1, e2], commit: 5 },
  { type: 'app', from: 'n1', to: 'n2', term: 4, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 },
  { type: 'appResp', from: 'n2', to: 'n1', term: 4, index: 8, reject: false, hintIndex: 0, hintTerm: 0 },
  // A leader's numbered re-probe, and the rejection that echoes it.
  { type: 'app', from: 'n1', to: 'n2', term: 4, prevIndex: 6, prevTerm: 2, entries: [], commit: 5, probe: 7 },
  { type: 'appResp', from: 'n2', to: 'n1', term: 4, index: 6, reject: true, hintIndex: 3, hintTerm: 2, probe: 7 },
  { type: 'appResp', from: 'n2', to: 'n1', term: 4, index: 8, reject: true, hintIndex: 5, hintTerm: 2 },
  { type: 'heartbeat', from: 'n1', to: 'n2', term: 4, commit: 8, ctx: '', transferee: '' },
  { type: 'heartbeat', from: 'n1', to: 'n2', term: 4, commit: 8, ctx: 'read-17', transferee: 'n3' },
  { type: 'heartbeatResp', from: 'n2', to: 'n1', term: 4, ctx: 'read-17', clock: 1_700_000_000_125.5 },
  { type: 'snap', from: 'n1', to: 'n3', term: 4, meta, offset: 0, total: 10, chunk: b(9, 8, 7) },
  { type: 'snap', from: 'n1', to: 'n3', term: 4, meta, offset: 7, total: 10, chunk: b(1, 2, 3) },
  { type: 'snapResp', from: 'n3', to: 'n1', term: 4, index: 40, offset: 3, reject: false },
  {
    type: 'prop',
    from: 'n2',
    to: 'n1',
    term: 4,
    entries: [
      { type: 'normal', data: b(5) },
      { type: 'conf', data: b() },
    ],
  },
  { type: 'readIndex', from: 'n2', to: 'n1', term: 4, ctx: 'r1' },
  { type: 'readIndexResp', from: 'n1', to: 'n2', term: 4, ctx: 'r1', index: 8, reject: false, leader: '' },
  { type: 'readIndexResp', from: 'n2', to: 'n4', term: 4, ctx: '', index: 0, reject: true, leader: 'n1' },
  { type: 'timeoutNow', from: 'n1', to: 'n2', term: 4 },
];

describe('codec round trips', () => {
  it('covers every message type', () => {
    const types = new Set(oneOfEach.map((m) => m.type));
    expect(types.size).toBe(12);
    for (const m of oneOfEach) expect(ok(decodeMessage(encodeMessage(m)))).toEqual(m);
  });

  it('round-trips every persisted type', () => {
    expect(ok(decodeEntry(encodeEntry(e1)))).toEqual(e1);
    expect(ok(decodeEntries(encodeEntries([e1, e2])))).toEqual([e1, e2]);
    expect(ok(decodeEntries(encodeEntries([])))).toEqual([]);
    const hs: HardState = { term: 9, vote: 'n3', commit: 41 };
    expect(ok(decodeHardState(encodeHardState(hs)))).toEqual(hs);
    expect(ok(decodeHardState(encodeHardState({ term: 0, vote: null, commit: 0 })))).toEqual({ term: 0, vote: null, commit: 0 });
    expect(ok(decodeMembership(encodeMembership({ conf, index: 12 })))).toEqual({ conf, index: 12 });
    expect(ok(decodeConfState(encodeConfState(conf)))).toEqual(conf);
    expect(ok(decodeSnapshotMeta(encodeSnapshotMeta(meta)))).toEqual(meta);
    expect(ok(decodeSnapshot(encodeSnapshot({ meta, data: b(1, 2) })))).toEqual({ meta, data: b(1, 2) });
    for (const type of ['addVoter', 'addLearner', 'remove'] as const) {
      expect(ok(decodeConfChange(encodeConfChange({ type, node: 'n9' })))).toEqual({ type, node: 'n9' });
    }
    for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32, MAX]) expect(ok(decodeUint(encodeUint(v)))).toBe(v);
  });

  it('leaves out a null vote and refuses an empty one', () => {
    // Field 1 (term) = 1; field 2 (vote) only when there is one.
    expect(encodeHardState({ term: 1, vote: null, commit: 0 })).toEqual(b(0x08, 1));
    expect(encodeHardState({ term: 1, vote: 'n', commit: 0 })).toEqual(b(0x08, 1, 0x12, 1, 110));
    expect(encodeHardState({ term: 0, vote: null, commit: 0 })).toEqual(b());
    expect(() => encodeHardState({ term: 1, vote: '', commit: 0 })).toThrow(CodecError);
    expect(err(decodeHardState(pb.HardState.encode({ term: 1, vote: '', commit: 0 })))).toBe('hard state: vote is empty');
  });

  it('decodes byte fields into a private copy of the input', () => {
    const input = encodeMessage(oneOfEach[3] as Message);
    const m = ok(decodeMessage(input));
    input.fill(0);
    expect(m).toEqual(oneOfEach[3]);
    // A Buffer input (whose slice() would alias) still yields plain, independent arrays.
    const buf = Buffer.from(encodeEntry(e1));
    const e = ok(decodeEntry(buf));
    buf.fill(0);
    expect(e.data).toEqual(e1.data);
    expect(e.data.constructor).toBe(Uint8Array);
  });

  it('keeps a leading BOM and non-ASCII text intact', () => {
    const m: Message = { type: 'heartbeatResp', from: 'nœud-1', to: '节点2', term: 1, ctx: '\uFEFF→ctx😀', clock: 0 };
    expect(ok(decodeMessage(encodeMessage(m)))).toEqual(m);
  });

  it('holds thousands of 256-byte entries in one append', () => {
    const entries: Entry[] = Array.from({ length: 4000 }, (_, k) => ({
      index: 1001 + k,
      term: 7,
      type: 'normal',
      time: 1_700_000_000_000 + k,
      proposer: 'n1',
      data: new Uint8Array(256).fill(k & 0xff),
    }));
    const m: Message = { type: 'app', from: 'n1', to: 'n2', term: 7, prevIndex: 1000, prevTerm: 7, entries, commit: 1000 };
    const bytes = encodeMessage(m);
    // Per entry: its tag and length (3), term (2), time (9), proposer (4), data tag and length (3).
    expect(bytes.length).toBeLessThan(4000 * (256 + 22) + 64);
    const back = ok(decodeMessage(bytes));
    if (back.type !== 'app') throw new Error(`decoded a ${back.type}`);
    // Field by field: a deep toEqual over a megabyte of bytes takes seconds.
    expect(back.entries.length).toBe(4000);
    for (let k = 0; k < 4000; k++) {
      const [x, y] = [back.entries[k] as Entry, entries[k] as Entry];
      expect([x.index, x.term, x.type, x.time, x.proposer]).toEqual([y.index, y.term, y.type, y.time, y.proposer]);
      expect(Buffer.compare(x.data, y.data)).toBe(0);
    }
    expect({ ...back, entries: [] }).toEqual({ ...m, entries: [] });
  });
});

describe('codec errors', () => {
  it('names a message without a body, with two, and a field it does not know', () => {
    expect(err(decodeMessage(raw({})))).toBe('message: no body (or one this version does not know)');
    expect(err(decodeMessage(b()))).toBe('message: no body (or one this version does not know)');
    expect(err(decodeMessage(raw({ timeoutNow: {}, readIndex: { ctx: '' } })))).toBe('message: 2 bodies (exactly one expected)');
    // Field 16, a varint: a layout this version does not know.
    expect(err(decodeMessage(cat(raw({ timeoutNow: {} }), b(0x80, 0x01, 0))))).toMatch(
      /^message: unknown field 16 \(wire type 0\) before byte \d+$/,
    );
    // Field 0 does not exist.
    expect(err(decodeMessage(b(0)))).toBe('message: unknown field 0 (wire type 0) before byte 1');
  });

  it('names where and what was truncated', () => {
    const bytes = encodeEntry(e1);
    // index (2), term (2), time (9), proposer (4), data: tag at 17, length at 18.
    expect(bytes.length).toBe(22);
    expect(err(decodeEntry(bytes.subarray(0, 18)))).toBe('entry: truncated at byte 18 reading a varint');
    expect(err(decodeEntry(bytes.subarray(0, 20)))).toBe('entry: truncated at byte 18 reading bytes (3 bytes, 1 left)');
    expect(err(decodeEntry(bytes.subarray(0, 15)))).toBe('entry: truncated at byte 14 reading a string (2 bytes, 0 left)');
    expect(err(decodeEntry(bytes.subarray(0, 8)))).toBe('entry: truncated at byte 5 reading a double');
  });

  it('refuses what follows a complete value', () => {
    const bytes = encodeEntry(e1);
    expect(err(decodeEntry(cat(bytes, b(0, 0, 0))))).toMatch(/^entry: unknown field 0/);
    expect(err(decodeMessage(cat(raw({ timeoutNow: {} }), b(0x7a))))).toBe('message: truncated at byte 11 reading a varint');
  });

  it('refuses over-long, oversized and unsafe varints', () => {
    // The store's format record is a bare varint (codec/binary.ts).
    expect(err(decodeUint(b(0x80, 0)))).toBe('uint: over-long varint at byte 0 reading value');
    expect(err(decodeUint(b(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)))).toBe('uint: value at byte 0 exceeds 2^53-1');
    expect(err(decodeUint(b(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1)))).toBe(
      'uint: varint longer than 8 bytes at byte 0 reading value',
    );
    expect(err(decodeUint(b(0x80)))).toBe('uint: truncated at byte 0 reading value');
    expect(err(decodeUint(b(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10)))).toBe('uint: value at byte 0 exceeds 2^53-1');
    // Protobuf fields: more than 10 bytes, a 32-bit field past 2^32 - 1, a bool that is not 0 or 1.
    const term = (...v: number[]) => b(0x18, ...v);
    expect(err(decodeMessage(term(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1)))).toBe(
      'message: varint at byte 1 is longer than 10 bytes',
    );
    expect(err(decodeMessage(b(0x0a, 0x80, 0x80, 0x80, 0x80, 0x10)))).toBe('message: varint at byte 1 is above 2^32 - 1');
    const resp = raw({ snapResp: { index: 1, offset: 0, reject: true } });
    expect(resp[resp.length - 1]).toBe(1);
    const badBool = resp.slice();
    badBool[badBool.length - 1] = 2;
    expect(err(decodeMessage(badBool))).toMatch(/^message: bool at byte \d+ is 2 \(expected 0 or 1\)$/);
    // A term past 2^53 is refused with its name; what a codec forgets to bound is refused anyway.
    const big = varint(2n ** 60n);
    expect(err(decodeMessage(cat(raw({ term: 0, timeoutNow: {} }), b(0x18), big)))).toBe(`message: term ${2 ** 60} is above ${MAX_TERM}`);
    expect(decodeProto(pb.Entry.codec(), cat(b(0x10), big), 'raw entry', (e) => e)).toEqual({
      ok: false,
      error: 'raw entry: an integer above 2^53 - 1',
    });
  });

  it('checks every bound the schema cannot express, naming the field', () => {
    const entry = (e: Partial<pb.Entry>) => pb.Entry.encode({ index: 5, term: 1, proposer: 'n1', ...e });
    expect(err(decodeEntry(entry({ index: 0 })))).toBe('entry: index 0 is not a log index');
    expect(err(decodeEntry(entry({ index: MAX_INDEX + 1 })))).toBe(`entry: entry index ${MAX_INDEX + 1} is above ${MAX_INDEX}`);
    expect(err(decodeEntry(entry({ term: 0 })))).toBe('entry: entry 5 has term 0');
    expect(err(decodeEntry(entry({ term: MAX_TERM + 1 })))).toBe(`entry: entry 5 term ${MAX_TERM + 1} is above ${MAX_TERM}`);
    expect(err(decodeEntry(cat(entry({}), b(0x18, 7))))).toMatch(/^entry: unknown value 7 of enum field 3 at byte \d+$/);
    expect(err(decodeEntry(entry({ time: Number.NaN })))).toBe('entry: bad entry 5 time NaN');
    expect(err(decodeEntry(entry({ time: -1 })))).toBe('entry: bad entry 5 time -1');
    expect(err(decodeEntry(entry({ time: Number.POSITIVE_INFINITY })))).toBe('entry: bad entry 5 time Infinity');
    expect(err(decodeEntry(entry({ proposer: '' })))).toBe('entry: entry 5 proposer is empty');
    // A run: contiguous by construction, inside MAX_INDEX, no entry with an index of its own.
    const one: pb.RunEntry = { term: 1, type: pb.EntryType.normal, time: 0, proposer: 'n1' };
    expect(err(decodeEntries(pb.Entries.encode({ firstIndex: MAX_INDEX, entries: [one, one] })))).toBe(
      `entries: 2 entries from index ${MAX_INDEX} pass ${MAX_INDEX}`,
    );
    // An entry in a run has no index field (its field 1 is reserved).
    expect(err(decodeEntries(cat(pb.Entries.encode({ firstIndex: 3, entries: [one] }), b(0x12, 2, 0x08, 4))))).toMatch(
      /^entries: unknown field 1 \(wire type 0\)/,
    );
    expect(err(decodeEntries(pb.Entries.encode({ firstIndex: 0, entries: [one] })))).toBe('entries: index 0 is not a log index');
    expect(err(decodeEntries(pb.Entries.encode({ firstIndex: 3, entries: [] })))).toBe('entries: first index 3 of an empty run');
    expect(err(decodeMessage(raw({ app: { probe: 0, prevIndex: MAX_INDEX, prevTerm: 1, commit: 0, entries: [one] } })))).toBe(
      `message: 1 entries from index ${MAX_INDEX + 1} pass ${MAX_INDEX}`,
    );
    // Message fields.
    expect(err(decodeMessage(raw({ from: '', timeoutNow: {} })))).toBe('message: from is empty');
    expect(err(decodeMessage(raw({ to: 'x'.repeat(257), timeoutNow: {} })))).toBe('message: to is 257 bytes (at most 256)');
    expect(err(decodeMessage(raw({ to: 'é'.repeat(129), timeoutNow: {} })))).toBe('message: to is 258 bytes (at most 256)');
    expect(() => encodeMessage({ type: 'timeoutNow', from: 'x'.repeat(257), to: 'b', term: 1 })).toThrow(/from is 257 bytes/);
    expect(err(decodeMessage(b(0x0a, 1, 0xff)))).toBe('message: invalid UTF-8 in the string at byte 1');
    expect(err(decodeMessage(b(0x0a, 2, 0xc0, 0x80)))).toBe('message: invalid UTF-8 in the string at byte 1');
    expect(err(decodeMessage(raw({ vote: { pre: false, lastIndex: MAX_INDEX + 1, lastTerm: 0, transfer: false } })))).toBe(
      `message: lastIndex ${MAX_INDEX + 1} is above ${MAX_INDEX}`,
    );
    expect(err(decodeMessage(raw({ vote: { pre: false, lastIndex: 0, lastTerm: MAX_TERM + 1, transfer: false } })))).toBe(
      `message: lastTerm ${MAX_TERM + 1} is above ${MAX_TERM}`,
    );
    expect(err(decodeMessage(raw({ voteResp: { pre: false, reject: true, leader: 'x'.repeat(257) } })))).toBe(
      'message: leader is 257 bytes (at most 256)',
    );
    expect(err(decodeMessage(raw({ app: { probe: 0, prevIndex: 0, prevTerm: MAX_TERM + 1, commit: 0, entries: [] } })))).toBe(
      `message: prevTerm ${MAX_TERM + 1} is above ${MAX_TERM}`,
    );
    expect(err(decodeMessage(raw({ app: { probe: 0, prevIndex: 0, prevTerm: 0, commit: MAX_INDEX + 1, entries: [] } })))).toBe(
      `message: commit ${MAX_INDEX + 1} is above ${MAX_INDEX}`,
    );
    expect(err(decodeMessage(raw({ appResp: { probe: 0, index: 0, reject: true, hintIndex: MAX_INDEX + 1, hintTerm: 0 } })))).toBe(
      `message: hintIndex ${MAX_INDEX + 1} is above ${MAX_INDEX}`,
    );
    expect(err(decodeMessage(raw({ appResp: { probe: 0, index: 0, reject: true, hintIndex: 0, hintTerm: MAX_TERM + 1 } })))).toBe(
      `message: hintTerm ${MAX_TERM + 1} is above ${MAX_TERM}`,
    );
    expect(err(decodeMessage(raw({ heartbeat: { commit: 0, ctx: 'x'.repeat(1025), transferee: '' } })))).toBe(
      'message: ctx is longer than 1024 characters',
    );
    expect(err(decodeMessage(raw({ heartbeatResp: { ctx: '', clock: -5 } })))).toBe('message: bad clock -5');
    expect(err(decodeMessage(raw({ readIndexResp: { ctx: '', index: MAX_INDEX + 1, reject: false, leader: '' } })))).toBe(
      `message: index ${MAX_INDEX + 1} is above ${MAX_INDEX}`,
    );
    expect(err(decodeMessage(raw({ snapResp: { index: 0, offset: MAX_INDEX + 1, reject: false } })))).toBe(
      `message: offset ${MAX_INDEX + 1} is above ${MAX_INDEX}`,
    );
    // A chunk that passes its snapshot's total, and a chunk without its snapshot's meta.
    const pbMeta = { index: 40, term: 3, conf: { voters: ['n1'], learners: [] } };
    expect(err(decodeMessage(raw({ snap: { meta: pbMeta, offset: 8, total: 9, chunk: b(1, 2) } })))).toBe(
      'message: snapshot chunk: offset 8 + 2 bytes passes total 9',
    );
    expect(err(decodeMessage(raw({ snap: { offset: 0, total: 0 } })))).toBe('message: snapshot meta is missing');
    expect(() => encodeMessage({ type: 'snap', from: 'a', to: 'b', term: 1, meta, offset: 9, total: 10, chunk: b(1, 2) })).toThrow(
      CodecError,
    );
    // Duplicate and empty ids in a conf.
    expect(err(decodeConfState(pb.ConfState.encode({ voters: ['a'], learners: ['a'] })))).toBe('conf state: conf lists node "a" twice');
    expect(err(decodeConfState(pb.ConfState.encode({ voters: ['a', ''], learners: [] })))).toBe('conf state: voter id is empty');
    expect(() => encodeConfState({ voters: ['a'], learners: ['a'] })).toThrow(CodecError);
    // Counts: a list longer than its input could hold valid items of is cut short.
    expect(
      err(
        decodeMessage(
          raw({
            app: {
              probe: 0,
              prevIndex: 0,
              prevTerm: 0,
              commit: 0,
              entries: Array.from({ length: 10 }, () => ({ ...one, term: 0, proposer: '' })),
            },
          }),
        ),
      ),
    ).toBe('message: too many entries');
    expect(err(decodeMessage(raw({ app: { probe: 0, prevIndex: 0, prevTerm: 0, commit: 0, entries: [{ ...one, term: 0 }] } })))).toBe(
      'message: entry 1 has term 0',
    );
    // Conf change type and node.
    expect(err(decodeConfChange(b(0x08, 3, 0x12, 1, 97)))).toBe('conf change: unknown value 3 of enum field 1 at byte 1');
    expect(err(decodeConfChange(b(0x08, 1)))).toBe('conf change: node is empty');
    // Snapshot meta at index 0, and a membership past MAX_INDEX.
    expect(err(decodeSnapshotMeta(pb.SnapshotMeta.encode({ index: 0, term: 1 })))).toBe(
      'snapshot meta: snapshot has index 0 term 1 (both must be >= 1)',
    );
    expect(err(decodeMembership(pb.Membership.encode({ index: MAX_INDEX + 1 })))).toBe(
      `membership: membership index ${MAX_INDEX + 1} is above ${MAX_INDEX}`,
    );
    expect(err(decodeHardState(pb.HardState.encode({ term: MAX_TERM + 1, commit: 0 })))).toBe(
      `hard state: term ${MAX_TERM + 1} is above ${MAX_TERM}`,
    );
  });

  it('refuses to encode what it could not decode', () => {
    expect(() => encodeEntry({ ...e1, term: 1.5 })).toThrow(CodecError);
    expect(() => encodeEntry({ ...e1, index: 0 })).toThrow(CodecError);
    expect(() => encodeEntry({ ...e1, time: Number.NaN })).toThrow(CodecError);
    expect(() => encodeEntry({ ...e1, term: MAX_TERM + 1 })).toThrow(/entry term 4294967297 is not an integer in \[1, 4294967296\]/);
    expect(() => encodeEntry({ ...e1, type: 'other' as 'normal' })).toThrow(/unknown entry type other/);
    expect(() => encodeHardState({ term: -1, vote: null, commit: 0 })).toThrow(CodecError);
    expect(() => encodeHardState({ term: MAX + 1, vote: null, commit: 0 })).toThrow(CodecError);
    expect(() => encodeHardState({ term: 1, vote: null, commit: MAX_INDEX + 1 })).toThrow(/commit/);
    expect(() => encodeEntries([e1, { ...e2, index: 9 }])).toThrow(/not contiguous/);
    expect(() =>
      encodeEntries([
        { ...e1, index: MAX_INDEX },
        { ...e2, index: MAX_INDEX + 1 },
      ]),
    ).toThrow(/last entry index/);
    expect(() => encodeMessage({ type: 'app', from: 'a', to: 'b', term: 1, prevIndex: 5, prevTerm: 1, entries: [e1], commit: 0 })).toThrow(
      /not contiguous/,
    );
    expect(() => encodeMessage({ type: 'heartbeatResp', from: 'a', to: 'b', term: 1, ctx: 'x'.repeat(1025), clock: 0 })).toThrow(
      CodecError,
    );
    expect(() => encodeMessage({ type: 'timeoutNow', from: 'a', to: 'b', term: MAX_TERM + 1 })).toThrow(/term/);
    expect(() => encodeMessage({ type: 'nope', from: 'a', to: 'b', term: 1 } as unknown as Message)).toThrow(/unknown message type nope/);
    expect(() => encodeConfChange({ type: 'promote' as 'addVoter', node: 'n' })).toThrow(/unknown conf change type promote/);
  });

  it('writes a lone surrogate as U+FFFD, so what it writes always decodes', () => {
    const m: Message = { type: 'readIndex', from: 'a', to: 'b', term: 1, ctx: 'x\uD800y' };
    expect(ok(decodeMessage(encodeMessage(m)))).toEqual({ ...m, ctx: 'x\uFFFDy' });
  });

  it('never throws on non-Uint8Array input', () => {
    expect(err(decodeMessage('nope' as unknown as Uint8Array))).toBe('message: input is not a Uint8Array');
    expect(err(decodeEntries(null as unknown as Uint8Array))).toBe('entries: input is not a Uint8Array');
  });

  it('reads with the strict reader', () => {
    const r = new ProtoReader(b(0x96, 0x01));
    expect(r.uint32()).toBe(150);
    expect(() => r.uint32()).toThrow(/truncated at byte 2/);
  });
});

describe('codec properties', () => {
  const cases = [
    { name: 'entry', arb: entryArb, enc: encodeEntry, dec: decodeEntry },
    {
      name: 'entries',
      arb: entryRunArb(fc.integer({ min: 0, max: MAX_INDEX - 20 }), 20).map((r) => r.entries),
      enc: encodeEntries,
      dec: decodeEntries,
    },
    { name: 'hard state', arb: hardStateArb, enc: encodeHardState, dec: decodeHardState },
    { name: 'membership', arb: membershipArb, enc: encodeMembership, dec: decodeMembership },
    { name: 'conf state', arb: confArb, enc: encodeConfState, dec: decodeConfState },
    { name: 'snapshot meta', arb: metaArb, enc: encodeSnapshotMeta, dec: decodeSnapshotMeta },
    { name: 'snapshot', arb: snapshotArb, enc: encodeSnapshot, dec: decodeSnapshot },
    { name: 'conf change', arb: confChangeArb, enc: encodeConfChange, dec: decodeConfChange },
    { name: 'message', arb: messageArb, enc: encodeMessage, dec: decodeMessage },
  ] as const;

  type Case = { name: string; arb: fc.Arbitrary<unknown>; enc: (v: never) => Uint8Array; dec: (b: Uint8Array) => DecodeResult<unknown> };

  /**
   * Decoding never throws; it fails with a message naming the value, or succeeds on a value the
   * encoder accepts and that comes back the same. (Protobuf is not canonical: fields may come in
   * any order or twice, so the bytes need not come back the same.)
   */
  function checkDecode(c: Case, bytes: Uint8Array): void {
    const r = c.dec(bytes);
    if (!r.ok) {
      expect(r.error.startsWith(`${c.name}: `)).toBe(true);
      expect(r.error.length).toBeGreaterThan(c.name.length + 2);
      return;
    }
    const again = (c.enc as (v: unknown) => Uint8Array)(r.value);
    expect(ok(c.dec(again))).toEqual(r.value);
  }

  for (const c of cases as readonly Case[]) {
    it(`decode(encode(x)) equals x: ${c.name}`, () => {
      fc.assert(
        fc.property(c.arb, (x) => {
          const bytes = (c.enc as (v: unknown) => Uint8Array)(x);
          expect(ok(c.dec(bytes))).toEqual(x);
          // One encoding per value from this encoder: decoding and encoding again gives the same bytes.
          expect((c.enc as (v: unknown) => Uint8Array)(ok(c.dec(bytes)))).toEqual(bytes);
        }),
        { numRuns: 300 },
      );
    });

    it(`garbage, truncations and bit flips never throw: ${c.name}`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => checkDecode(c, bytes)),
        { numRuns: 500 },
      );
      fc.assert(
        fc.property(
          c.arb,
          fc.nat(),
          fc.nat(),
          fc.integer({ min: 0, max: 7 }),
          fc.integer({ min: 0, max: 255 }),
          (x, cut, at, bit, byte) => {
            const bytes = (c.enc as (v: unknown) => Uint8Array)(x);
            checkDecode(c, bytes.subarray(0, cut % (bytes.length + 1)));
            const flipped = bytes.slice();
            const pos = at % flipped.length;
            const old = flipped[pos];
            if (old !== undefined) flipped[pos] = old ^ (1 << bit);
            checkDecode(c, flipped);
            const inserted = new Uint8Array(bytes.length + 1);
            const p = at % (bytes.length + 1);
            inserted.set(bytes.subarray(0, p));
            inserted[p] = byte;
            inserted.set(bytes.subarray(p), p + 1);
            checkDecode(c, inserted);
          },
        ),
        { numRuns: 500 },
      );
    });
  }
});

describe('crc32', () => {
  it('matches the standard check value and the native implementation', () => {
    const check = bytesOf('123456789');
    expect(crc32Table(check)).toBe(0xcbf43926);
    expect(crc32(check)).toBe(0xcbf43926);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 50 }), (x, y) => {
        expect(crc32(y, crc32(x))).toBe(crc32Table(y, crc32Table(x)));
        const xy = new Uint8Array(x.length + y.length);
        xy.set(x);
        xy.set(y, x.length);
        expect(crc32(xy)).toBe(crc32(y, crc32(x)));
      }),
    );
  });
});
