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
  MESSAGE_FORMAT_VERSION,
  type DecodeResult,
} from '../src/raft/codec.js';
import type { ConfChange, ConfState, Entry, HardState, Membership, Message, Snapshot, SnapshotMeta } from '../src/raft/types.js';
import { crc32, crc32Table } from '../src/storage/crc32.js';

const utf8 = new TextEncoder();
const MAX = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------------
// Arbitraries: only values the codec promises to round-trip (ids 1..256 UTF-8 bytes, positive
// entry and snapshot terms and indexes, no duplicate ids in a conf).

const idArb = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme-ascii' }),
    fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
    fc.constantFrom('n1', 'n2', '12D3KooWBhMbLvQW9Sxzs1vmS3BEXoNbYCZWb8tiwrNHaz2bSZ5m', 'x'.repeat(256)),
  )
  .filter((s) => s.length > 0 && utf8.encode(s).length <= 256);
const ctxArb = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ maxLength: 20, unit: 'grapheme' }), fc.constant('\uFEFFbom'));
const natArb = fc.oneof(fc.nat(300), fc.maxSafeNat());
const posArb = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: MAX }));
const timeArb = fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e300, noNaN: true }), fc.constant(1_700_000_000_000));
const dataArb = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 250, maxLength: 300 }));
const typeArb = fc.constantFrom('normal' as const, 'conf' as const);

const confArb: fc.Arbitrary<ConfState> = fc
  .tuple(fc.uniqueArray(idArb, { maxLength: 9 }), fc.nat(9))
  .map(([ids, cut]) => ({ voters: ids.slice(0, cut), learners: ids.slice(cut) }));

/** A contiguous run starting after `prevIndex`, as appends and batches carry. */
function entryRunArb(prevIndex: fc.Arbitrary<number>, maxLength = 8): fc.Arbitrary<{ prevIndex: number; entries: Entry[] }> {
  return fc
    .tuple(prevIndex, fc.array(fc.record({ term: posArb, type: typeArb, time: timeArb, proposer: idArb, data: dataArb }), { maxLength }))
    .map(([prev, bodies]) => ({ prevIndex: prev, entries: bodies.map((b, k) => ({ index: prev + 1 + k, ...b })) }));
}

const entryArb: fc.Arbitrary<Entry> = fc.record({ index: posArb, term: posArb, type: typeArb, time: timeArb, proposer: idArb, data: dataArb });
const hardStateArb: fc.Arbitrary<HardState> = fc.record({ term: natArb, vote: fc.option(idArb), commit: natArb });
const membershipArb: fc.Arbitrary<Membership> = fc.record({ conf: confArb, index: natArb });
const metaArb: fc.Arbitrary<SnapshotMeta> = fc.record({ index: posArb, term: posArb, conf: confArb });
const snapshotArb: fc.Arbitrary<Snapshot> = fc.record({ meta: metaArb, data: fc.uint8Array({ maxLength: 2000 }) });
const confChangeArb: fc.Arbitrary<ConfChange> = fc.record({
  type: fc.constantFrom('addVoter' as const, 'addLearner' as const, 'remove' as const),
  node: idArb,
});

const base = fc.record({ from: idArb, to: idArb, term: natArb });
const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc
    .tuple(base, fc.boolean(), natArb, natArb, fc.boolean())
    .map(([b, pre, lastIndex, lastTerm, transfer]): Message => ({ type: 'vote', ...b, pre, lastIndex, lastTerm, transfer })),
  fc
    .tuple(base, fc.boolean(), fc.boolean(), fc.oneof(fc.constant(''), idArb))
    .map(([b, pre, reject, leader]): Message => ({ type: 'voteResp', ...b, pre, reject, leader })),
  fc
    .tuple(base, entryRunArb(fc.oneof(fc.nat(1000), fc.integer({ min: 0, max: MAX - 20 }))), natArb, natArb)
    .map(([b, run, prevTerm, commit]): Message => ({ type: 'app', ...b, prevIndex: run.prevIndex, prevTerm, entries: run.entries, commit })),
  fc
    .tuple(base, natArb, fc.boolean(), natArb, natArb)
    .map(([b, index, reject, hintIndex, hintTerm]): Message => ({ type: 'appResp', ...b, index, reject, hintIndex, hintTerm })),
  fc.tuple(base, natArb, ctxArb).map(([b, commit, ctx]): Message => ({ type: 'heartbeat', ...b, commit, ctx, transferee: '' })),
  fc.tuple(base, ctxArb, timeArb).map(([b, ctx, clock]): Message => ({ type: 'heartbeatResp', ...b, ctx, clock })),
  fc
    .tuple(base, metaArb, fc.uint8Array({ maxLength: 100 }), fc.nat(1000), fc.nat(1000))
    .map(([b, meta, chunk, offset, extra]): Message => ({ type: 'snap', ...b, meta, offset, total: offset + chunk.length + extra, chunk })),
  fc
    .tuple(base, natArb, natArb, fc.boolean())
    .map(([b, index, offset, reject]): Message => ({ type: 'snapResp', ...b, index, offset, reject })),
  fc
    .tuple(base, fc.array(fc.record({ type: typeArb, data: dataArb }), { maxLength: 6 }))
    .map(([b, entries]): Message => ({ type: 'prop', ...b, entries })),
  fc.tuple(base, ctxArb).map(([b, ctx]): Message => ({ type: 'readIndex', ...b, ctx })),
  fc
    .tuple(base, ctxArb, natArb, fc.boolean(), fc.oneof(fc.constant(''), idArb))
    .map(([b, ctx, index, reject, leader]): Message => ({ type: 'readIndexResp', ...b, ctx, index, reject, leader })),
  base.map((b): Message => ({ type: 'timeoutNow', ...b })),
);

// ---------------------------------------------------------------------------------------------

function ok<T>(r: DecodeResult<T>): T {
  if (!r.ok) throw new Error(`expected success, got: ${r.error}`);
  return r.value;
}

function err<T>(r: DecodeResult<T>): string {
  if (r.ok) throw new Error(`expected an error, decoded ${JSON.stringify(r.value, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))}`);
  return r.error;
}

const b = (...xs: number[]) => Uint8Array.from(xs);
const bytesOf = (s: string) => utf8.encode(s);

/** Builds a message frame by hand: version, tag, from, to, term, then `rest`. */
function frame(tag: number, rest: number[], from = 'a', to = 'b', term = 1): Uint8Array {
  return b(MESSAGE_FORMAT_VERSION, tag, from.length, ...bytesOf(from), to.length, ...bytesOf(to), term, ...rest);
}

const conf: ConfState = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };
const meta: SnapshotMeta = { index: 40, term: 3, conf };
const e1: Entry = { index: 7, term: 2, type: 'normal', time: 1_700_000_000_123, proposer: 'n1', data: b(1, 2, 3) };
const e2: Entry = { index: 8, term: 2, type: 'conf', time: 1_700_000_000_124, proposer: 'n1', data: encodeConfChange({ type: 'addLearner', node: 'n5' }) };

const oneOfEach: Message[] = [
  { type: 'vote', from: 'n1', to: 'n2', term: 4, pre: true, lastIndex: 17, lastTerm: 3, transfer: false },
  { type: 'vote', from: 'n1', to: 'n2', term: 4, pre: false, lastIndex: 17, lastTerm: 3, transfer: true },
  { type: 'voteResp', from: 'n2', to: 'n1', term: 4, pre: true, reject: true, leader: 'n3' },
  { type: 'voteResp', from: 'n2', to: 'n1', term: 4, pre: false, reject: false, leader: '' },
  { type: 'app', from: 'n1', to: 'n2', term: 4, prevIndex: 6, prevTerm: 2, entries: [e1, e2], commit: 5 },
  { type: 'app', from: 'n1', to: 'n2', term: 4, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 },
  { type: 'appResp', from: 'n2', to: 'n1', term: 4, index: 8, reject: false, hintIndex: 0, hintTerm: 0 },
  { type: 'appResp', from: 'n2', to: 'n1', term: 4, index: 8, reject: true, hintIndex: 5, hintTerm: 2 },
  { type: 'heartbeat', from: 'n1', to: 'n2', term: 4, commit: 8, ctx: '', transferee: '' },
  { type: 'heartbeat', from: 'n1', to: 'n2', term: 4, commit: 8, ctx: 'read-17', transferee: 'n3' },
  { type: 'heartbeatResp', from: 'n2', to: 'n1', term: 4, ctx: 'read-17', clock: 1_700_000_000_125.5 },
  { type: 'snap', from: 'n1', to: 'n3', term: 4, meta, offset: 0, total: 10, chunk: b(9, 8, 7) },
  { type: 'snap', from: 'n1', to: 'n3', term: 4, meta, offset: 7, total: 10, chunk: b(1, 2, 3) },
  { type: 'snapResp', from: 'n3', to: 'n1', term: 4, index: 40, offset: 3, reject: false },
  { type: 'prop', from: 'n2', to: 'n1', term: 4, entries: [{ type: 'normal', data: b(5) }, { type: 'conf', data: b() }] },
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

  it('encodes a null vote differently from any id, and refuses an empty one', () => {
    const none = encodeHardState({ term: 1, vote: null, commit: 0 });
    expect(none).toEqual(b(1, 0, 0));
    expect(encodeHardState({ term: 1, vote: 'n', commit: 0 })).toEqual(b(1, 1, 1, 110, 0));
    expect(() => encodeHardState({ term: 1, vote: '', commit: 0 })).toThrow(CodecError);
    expect(err(decodeHardState(b(1, 1, 0, 0)))).toBe('hard state: vote at byte 2 is empty');
    expect(err(decodeHardState(b(1, 2, 0)))).toBe('hard state: bad vote flag 0x02 at byte 1 (expected 0 or 1)');
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
      index: 1001 + k, term: 7, type: 'normal', time: 1_700_000_000_000 + k, proposer: 'n1', data: new Uint8Array(256).fill(k & 0xff),
    }));
    const m: Message = { type: 'app', from: 'n1', to: 'n2', term: 7, prevIndex: 1000, prevTerm: 7, entries, commit: 1000 };
    const bytes = encodeMessage(m);
    expect(bytes.length).toBeLessThan(4000 * (256 + 17) + 64);
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
  it('names an unknown message tag and version', () => {
    expect(err(decodeMessage(b(2, 0x2a)))).toBe('message: unknown type tag 0x2a');
    expect(err(decodeMessage(b(2, 0)))).toBe('message: unknown type tag 0x00');
    expect(err(decodeMessage(b(1, 1)))).toBe('message: format version 1 is not supported (expected 2)');
    expect(err(decodeMessage(b()))).toBe('message: truncated at byte 0 reading format version');
  });

  it('names where and what was truncated', () => {
    const bytes = encodeEntry(e1);
    // index 7, term 2, type, 8 time bytes, proposer 'n1' (length and 2 bytes), data length at byte 14.
    expect(err(decodeEntry(bytes.subarray(0, 14)))).toBe('entry: truncated at byte 14 reading entry data length');
    expect(err(decodeEntry(bytes.subarray(0, 16)))).toBe('entry: truncated at byte 14 reading entry data (3 bytes, 1 left)');
    expect(err(decodeEntry(bytes.subarray(0, 12)))).toBe('entry: truncated at byte 11 reading entry proposer (2 bytes, 0 left)');
    expect(err(decodeEntry(bytes.subarray(0, 5)))).toBe('entry: truncated at byte 3 reading time');
  });

  it('refuses trailing bytes', () => {
    const bytes = encodeEntry(e1);
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    expect(err(decodeEntry(longer))).toBe('entry: trailing 3 bytes');
    expect(err(decodeMessage(frame(12, [0])))).toBe('message: trailing 1 bytes');
  });

  it('refuses over-long, oversized and unsafe varints', () => {
    expect(err(decodeUint(b(0x80, 0)))).toBe('uint: over-long varint at byte 0 reading value');
    expect(err(decodeUint(b(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)))).toBe('uint: value at byte 0 exceeds 2^53-1');
    expect(err(decodeUint(b(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1)))).toBe('uint: varint longer than 8 bytes at byte 0 reading value');
    expect(err(decodeUint(b(0x80)))).toBe('uint: truncated at byte 0 reading value');
    // 2^53 exactly: one past the largest safe integer.
    expect(err(decodeUint(b(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10)))).toBe('uint: value at byte 0 exceeds 2^53-1');
  });

  it('checks semantics the types cannot express', () => {
    expect(err(decodeEntry(b(0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))).toBe('entry: index 0 is not a log index');
    expect(err(decodeEntry(b(5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))).toBe('entry: entry 5 has term 0 at byte 1');
    expect(err(decodeEntry(b(5, 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0)))).toBe('entry: unknown entry type 0x07 at byte 2');
    expect(err(decodeEntry(b(5, 1, 0, 0, 0, 0, 0, 0, 0, 0xf8, 0xff, 0)))).toBe('entry: bad time NaN at byte 3');
    expect(err(decodeEntry(b(5, 1, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0xbf, 0)))).toBe('entry: bad time -1 at byte 3');
    // A chunk that passes its snapshot's total.
    const snapBytes = encodeMessage({ type: 'snap', from: 'a', to: 'b', term: 1, meta, offset: 8, total: 10, chunk: b(1, 2) });
    const badTotal = snapBytes.slice();
    const totalAt = badTotal.length - 4; // ..., offset 8, total 10, length 2, bytes
    expect(badTotal[totalAt]).toBe(10);
    badTotal[totalAt] = 9;
    expect(err(decodeMessage(badTotal))).toMatch(/^message: snapshot chunk at byte \d+: offset 8 \+ 2 bytes passes total 9$/);
    expect(() => encodeMessage({ type: 'snap', from: 'a', to: 'b', term: 1, meta, offset: 9, total: 10, chunk: b(1, 2) })).toThrow(CodecError);
    // Ids: empty, too long, invalid UTF-8.
    expect(err(decodeMessage(frame(12, [], '', 'b')))).toBe('message: from at byte 2 is empty');
    const long = 'x'.repeat(257);
    const longFrame = b(2, 12, 0x81, 0x02, ...bytesOf(long), 1, 98, 1);
    expect(err(decodeMessage(longFrame))).toBe('message: from at byte 2 is 257 bytes (at most 256)');
    expect(() => encodeMessage({ type: 'timeoutNow', from: long, to: 'b', term: 1 })).toThrow(/from is 257 bytes/);
    expect(err(decodeMessage(b(2, 12, 1, 0xff, 1, 98, 1)))).toBe('message: invalid UTF-8 in from at byte 2');
    // Bad booleans and flags.
    expect(err(decodeMessage(frame(2, [4])))).toBe('message: unknown flags 0x04 at byte 7');
    expect(err(decodeMessage(frame(8, [1, 1, 2])))).toBe('message: bad reject 0x02 at byte 9 (expected 0 or 1)');
    // Duplicate ids in a conf.
    expect(err(decodeConfState(b(2, 1, 97, 1, 97, 0)))).toBe('conf state: conf lists node "a" twice (byte 3)');
    expect(() => encodeConfState({ voters: ['a'], learners: ['a'] })).toThrow(CodecError);
    // A count the input cannot hold is refused before anything is allocated.
    expect(err(decodeMessage(frame(3, [0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f])))).toMatch(/entry count 4294967295 at byte \d+ cannot fit/);
    // Conf change version and type.
    expect(err(decodeConfChange(b(2, 0, 1, 97)))).toBe('conf change: format version 2 is not supported (expected 1)');
    expect(err(decodeConfChange(b(1, 3, 1, 97)))).toBe('conf change: unknown type 0x03 at byte 1');
    // Snapshot meta at index 0.
    expect(err(decodeSnapshotMeta(b(0, 1, 0, 0)))).toBe('snapshot meta: snapshot at byte 0 has index 0 term 1 (both must be >= 1)');
  });

  it('refuses to encode what it could not decode', () => {
    expect(() => encodeEntry({ ...e1, term: 1.5 })).toThrow(CodecError);
    expect(() => encodeEntry({ ...e1, index: 0 })).toThrow(CodecError);
    expect(() => encodeEntry({ ...e1, time: Number.NaN })).toThrow(CodecError);
    expect(() => encodeHardState({ term: -1, vote: null, commit: 0 })).toThrow(CodecError);
    expect(() => encodeHardState({ term: MAX + 1, vote: null, commit: 0 })).toThrow(CodecError);
    expect(() => encodeEntries([e1, { ...e2, index: 9 }])).toThrow(/not contiguous/);
    expect(() =>
      encodeMessage({ type: 'app', from: 'a', to: 'b', term: 1, prevIndex: 5, prevTerm: 1, entries: [e1], commit: 0 }),
    ).toThrow(/not contiguous/);
    expect(() => encodeMessage({ type: 'heartbeatResp', from: 'a', to: 'b', term: 1, ctx: 'x'.repeat(1025), clock: 0 })).toThrow(CodecError);
  });

  it('never throws on non-Uint8Array input', () => {
    expect(err(decodeMessage('nope' as unknown as Uint8Array))).toBe('message: input is not a Uint8Array');
  });
});

describe('codec properties', () => {
  const cases = [
    { name: 'entry', arb: entryArb, enc: encodeEntry, dec: decodeEntry },
    { name: 'entries', arb: entryRunArb(fc.integer({ min: 0, max: MAX - 20 }), 20).map((r) => r.entries), enc: encodeEntries, dec: decodeEntries },
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
   * Decoding never throws; it fails with a message naming the value, or succeeds on what is then
   * canonical: encoding is a function of the value with one encoding each, so re-encoding gives
   * back the very same bytes.
   */
  function checkDecode(c: Case, bytes: Uint8Array): void {
    const r = c.dec(bytes);
    if (!r.ok) {
      expect(r.error.startsWith(`${c.name}: `)).toBe(true);
      expect(r.error.length).toBeGreaterThan(c.name.length + 2);
      return;
    }
    const again = (c.enc as (v: unknown) => Uint8Array)(r.value);
    expect(again).toEqual(Uint8Array.from(bytes));
  }

  for (const c of cases as readonly Case[]) {
    it(`decode(encode(x)) equals x: ${c.name}`, () => {
      fc.assert(
        fc.property(c.arb, (x) => {
          const bytes = (c.enc as (v: unknown) => Uint8Array)(x);
          expect(ok(c.dec(bytes))).toEqual(x);
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
        fc.property(c.arb, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 255 }), (x, cut, at, bit, byte) => {
          const bytes = (c.enc as (v: unknown) => Uint8Array)(x);
          checkDecode(c, bytes.subarray(0, cut % (bytes.length + 1)));
          const flipped = bytes.slice();
          if (flipped.length > 0) flipped[at % flipped.length] ^= 1 << bit;
          checkDecode(c, flipped);
          const inserted = new Uint8Array(bytes.length + 1);
          const p = at % (bytes.length + 1);
          inserted.set(bytes.subarray(0, p));
          inserted[p] = byte;
          inserted.set(bytes.subarray(p), p + 1);
          checkDecode(c, inserted);
        }),
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
