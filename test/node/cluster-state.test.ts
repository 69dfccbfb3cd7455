import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClusterState, decodeClusterSnapshot, encodeClusterSnapshot, MAX_PROBES } from '../../src/node/cluster-state.js';
import { decodeEnvelope, decodeNodeEntry, encodeNodeEntry, type NodeEntry } from '../../src/node/entry-envelope.js';
import { encodeConfChange } from '../../src/raft/codec.js';
import * as pb from '../../src/proto/envelope.js';
import type { Entry } from '../../src/raft/types.js';

const ma = (port: number, id: string) => `/ip4/127.0.0.1/tcp/${port}/p2p/${id}`;

describe('entry envelope', () => {
  it('round-trips every kind', () => {
    const entries: NodeEntry[] = [
      { kind: 'address', id: 'peerA', addrs: [ma(1, 'peerA'), ma(2, 'peerA')] },
      { kind: 'address', id: 'peerB', addrs: [] },
      { kind: 'probe', nonce: 'n-1', value: 'héllo ✓' },
      { kind: 'app', data: new Uint8Array([0, 1, 2, 255]) },
      { kind: 'app', data: new Uint8Array(0) },
    ];
    for (const e of entries) expect(decodeNodeEntry(encodeNodeEntry(e))).toEqual({ ok: true, value: e });
  });

  it('round-trips arbitrary addresses and probes', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), fc.array(fc.string({ maxLength: 100 }), { maxLength: 8 }), (id, addrs) => {
        const e: NodeEntry = { kind: 'address', id, addrs };
        expect(decodeNodeEntry(encodeNodeEntry(e))).toEqual({ ok: true, value: e });
      }),
    );
  });

  it('refuses unknown kinds, truncation and trailing bytes without throwing', () => {
    // Field 9: a kind this version does not know.
    expect(decodeNodeEntry(new Uint8Array([0x48, 1]))).toEqual({
      ok: false,
      error: 'node entry: unknown field 9 (wire type 0) before byte 1',
    });
    expect(decodeNodeEntry(new Uint8Array([]))).toEqual({ ok: false, error: 'node entry: no kind (or one this version does not know)' });
    const good = encodeNodeEntry({ kind: 'probe', nonce: 'n', value: 'v' });
    expect(decodeNodeEntry(good.subarray(0, good.length - 1))).toMatchObject({ ok: false, error: expect.stringContaining('truncated') });
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    expect(decodeNodeEntry(longer)).toMatchObject({ ok: false, error: expect.stringContaining('unknown field 0') });
    const two = new Uint8Array([...good, ...encodeNodeEntry({ kind: 'leave', id: 'n1' })]);
    expect(decodeNodeEntry(two)).toEqual({ ok: false, error: 'node entry: 2 kinds in one entry (exactly one expected)' });
  });

  it('names the bound a decoded entry breaks', () => {
    const raw = (e: pb.NodeEntry) => pb.NodeEntry.encode(e);
    expect(decodeNodeEntry(raw({ address: { id: '', addrs: [] } }))).toEqual({ ok: false, error: 'node entry: node id is empty' });
    expect(decodeNodeEntry(raw({ address: { id: 'p', addrs: new Array<string>(33).fill('/a') } }))).toEqual({
      ok: false,
      error: 'node entry: too many addrs',
    });
    expect(decodeNodeEntry(raw({ address: { id: 'p', addrs: ['x'.repeat(513)] } }))).toEqual({
      ok: false,
      error: 'node entry: address is 513 bytes (at most 512)',
    });
    expect(decodeNodeEntry(raw({ probe: { nonce: 'n'.repeat(129), value: '' } }))).toEqual({
      ok: false,
      error: 'node entry: nonce is 129 bytes (at most 128)',
    });
    expect(decodeNodeEntry(raw({ probe: { nonce: 'n', value: 'v'.repeat(4097) } }))).toEqual({
      ok: false,
      error: 'node entry: value is 4097 bytes (at most 4096)',
    });
    expect(decodeNodeEntry(raw({ leave: { id: 'x'.repeat(257) } }))).toEqual({
      ok: false,
      error: 'node entry: node id is 257 bytes (at most 256)',
    });
  });

  it("copies an app entry's data out of the caller's buffer", () => {
    const bytes = encodeNodeEntry({ kind: 'app', data: new Uint8Array([1, 2, 3]) });
    const d = decodeNodeEntry(bytes);
    bytes.fill(0);
    expect(d).toEqual({ ok: true, value: { kind: 'app', data: new Uint8Array([1, 2, 3]) } });
  });

  it('decodes arbitrary bytes to a result, never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(typeof decodeNodeEntry(b).ok).toBe('boolean');
      }),
    );
  });

  it('carries the request id of a proposal beside any kind, and none when not given', () => {
    const e: NodeEntry = { kind: 'leave', id: 'n1' };
    expect(decodeEnvelope(encodeNodeEntry(e, 'a1b2c3.7'))).toEqual({ ok: true, value: { entry: e, request: 'a1b2c3.7' } });
    expect(decodeEnvelope(encodeNodeEntry(e))).toEqual({ ok: true, value: { entry: e, request: null } });
    // Older entries have no request id; an entry with only a request id has no kind.
    expect(decodeNodeEntry(encodeNodeEntry(e, 'r.1'))).toEqual({ ok: true, value: e });
    expect(decodeEnvelope(pb.NodeEntry.encode({ request: 'r.1' })).ok).toBe(false);
    expect(decodeEnvelope(pb.NodeEntry.encode({ leave: { id: 'n1' }, request: 'r'.repeat(65) }))).toEqual({
      ok: false,
      error: 'node entry: request id is 65 bytes (at most 64)',
    });
    expect(() => encodeNodeEntry(e, '')).toThrow('node entry: request id is empty');
  });

  it('refuses oversized values when encoding', () => {
    expect(() => encodeNodeEntry({ kind: 'probe', nonce: 'n', value: 'x'.repeat(5000) })).toThrow(
      'probe entry: value is 5000 bytes (at most 4096)',
    );
    expect(() => encodeNodeEntry({ kind: 'address', id: 'p', addrs: new Array<string>(40).fill('/ip4/1.2.3.4/tcp/1') })).toThrow(
      'address entry: 40 addresses (at most 32)',
    );
    expect(() => encodeNodeEntry({ kind: 'address', id: 'p', addrs: ['x'.repeat(513)] })).toThrow(
      'address entry: address is 513 bytes (at most 512)',
    );
    expect(() => encodeNodeEntry({ kind: 'leave', id: '' })).toThrow('leave entry: node id is empty');
  });
});

let index = 0;
function entry(data: Uint8Array, type: Entry['type'] = 'normal'): Entry {
  index++;
  return { index, term: 1, type, time: 1000 + index, proposer: 'n1', data };
}

describe('ClusterState', () => {
  it('applies addresses and probes, skips no-ops, conf entries and garbage the same way', () => {
    index = 0;
    const s = new ClusterState();
    const heard: string[] = [];
    s.onApplied((a) => heard.push(`${a.index}:${a.entry.kind}`));
    s.apply(entry(new Uint8Array(0)));
    s.apply(entry(encodeNodeEntry({ kind: 'address', id: 'A', addrs: [ma(1, 'A')] })));
    s.apply(entry(new Uint8Array([1, 2, 3]), 'conf'));
    s.apply(entry(new Uint8Array([200])));
    s.apply(entry(encodeNodeEntry({ kind: 'probe', nonce: 'x', value: 'p1' })));
    s.apply(entry(encodeNodeEntry({ kind: 'address', id: 'A', addrs: [ma(9, 'A')] })));
    expect(s.applied).toBe(6);
    expect(s.time).toBe(1006);
    expect(s.undecodable).toBe(1);
    expect(s.addressesOf('A')).toEqual([ma(9, 'A')]);
    expect(s.probes()).toEqual(['p1']);
    expect(heard).toEqual(['2:address', '5:probe', '6:address']);
  });

  it('keeps only the newest probes', () => {
    index = 0;
    const s = new ClusterState();
    for (let k = 0; k < MAX_PROBES + 5; k++) s.apply(entry(encodeNodeEntry({ kind: 'probe', nonce: `${k}`, value: `v${k}` })));
    expect(s.probes().length).toBe(MAX_PROBES);
    expect(s.probes()[0]).toBe('v5');
  });

  it('applies an address only from the node it names or a voter, and a leave only from the node that leaves', () => {
    const state = new ClusterState(undefined, { voters: ['v'], learners: ['m', 'o'] });
    const stamped = (data: Uint8Array, proposer: string): Entry => ({ ...entry(data), proposer });
    state.apply(stamped(encodeNodeEntry({ kind: 'address', id: 'o', addrs: ['/ip4/1.2.3.4/tcp/1/p2p/m'] }), 'm'));
    state.apply(stamped(encodeNodeEntry({ kind: 'leave', id: 'o' }), 'm'));
    expect(state.refused).toBe(2);
    expect(state.addressesOf('o')).toBeUndefined();
    state.apply(stamped(encodeNodeEntry({ kind: 'address', id: 'o', addrs: ['/a'] }), 'o'));
    state.apply(stamped(encodeNodeEntry({ kind: 'address', id: 'j', addrs: ['/b'] }), 'v'));
    expect(state.addressesOf('o')).toEqual(['/a']);
    expect(state.addressesOf('j')).toEqual(['/b']);
    expect(state.refused).toBe(2);
  });

  it('restores from its own snapshot to an identical state', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('address' as const),
              id: fc.constantFrom('A', 'B', 'C'),
              addrs: fc.array(fc.string({ maxLength: 30 }), { maxLength: 3 }),
            }),
            fc.record({ kind: fc.constant('probe' as const), nonce: fc.string({ maxLength: 8 }), value: fc.string({ maxLength: 20 }) }),
          ),
          { maxLength: 30 },
        ),
        fc.nat({ max: 30 }),
        (entries, cut) => {
          index = 0;
          const founders = { voters: ['n1'], learners: [] };
          const whole = new ClusterState(undefined, founders);
          const prefix = new ClusterState(undefined, founders);
          const all = entries.map((e) => entry(encodeNodeEntry(e)));
          all.forEach((e, k) => {
            whole.apply(e);
            if (k < cut) prefix.apply(e);
          });
          const restored = new ClusterState(undefined, founders);
          if (prefix.applied > 0) {
            restored.restore({ meta: { index: prefix.applied, term: 1, conf: founders }, data: prefix.encode() });
          }
          for (const e of all.slice(Math.min(cut, all.length))) restored.apply(e);
          expect(restored.encode()).toEqual(whole.encode());
          expect(restored.applied).toBe(whole.applied);
        },
      ),
    );
  });

  it('encodes equal states to equal bytes whatever the insertion order', () => {
    const a = encodeClusterSnapshot({
      time: 5,
      addresses: new Map([
        ['x', ['1']],
        ['y', ['2']],
      ]),
      probes: ['p'],
      app: new Uint8Array([7]),
    });
    const b = encodeClusterSnapshot({
      time: 5,
      addresses: new Map([
        ['y', ['2']],
        ['x', ['1']],
      ]),
      probes: ['p'],
      app: new Uint8Array([7]),
    });
    expect(a).toEqual(b);
    const d = decodeClusterSnapshot(a);
    expect(d.ok && [...d.value.addresses.keys()]).toEqual(['x', 'y']);
  });

  it('refuses to restore a snapshot that does not decode', () => {
    const s = new ClusterState();
    expect(() => s.restore({ meta: { index: 3, term: 1, conf: { voters: ['A'], learners: [] } }, data: new Uint8Array([99]) })).toThrow(
      /unknown version 99/,
    );
  });

  it("answers each applied entry with its request id and what it decided (the proposer's answer)", () => {
    index = 0;
    const s = new ClusterState(
      { apply: (d) => `app ${d[0] as number}`, encode: () => new Uint8Array(0), restore: () => undefined },
      { voters: ['n1'], learners: ['m'] },
    );
    expect(s.apply(entry(new Uint8Array(0)))).toEqual({ request: null, result: { kind: 'noop' } });
    expect(s.apply(entry(encodeNodeEntry({ kind: 'app', data: new Uint8Array([7]) }, 'r.1')))).toEqual({
      request: 'r.1',
      result: { kind: 'app', answer: 'app 7' },
    });
    expect(s.apply(entry(encodeNodeEntry({ kind: 'probe', nonce: '', value: 'v' }, 'r.2')))).toEqual({
      request: 'r.2',
      result: { kind: 'probe' },
    });
    // Spoken for another node: refused, and the proposer still hears so.
    expect(s.apply(entry(encodeNodeEntry({ kind: 'leave', id: 'm' }, 'r.3')))).toEqual({ request: 'r.3', result: { kind: 'refused' } });
    expect(s.apply(entry(new Uint8Array([200])))).toMatchObject({ request: null, result: { kind: 'undecodable' } });
    const promote = entry(encodeConfChange({ type: 'addVoter', node: 'm' }), 'conf');
    expect(s.apply(promote)).toEqual({
      request: null,
      result: { kind: 'conf', changed: true, conf: { voters: ['n1', 'm'], learners: [] } },
    });
    const invalid = entry(encodeConfChange({ type: 'remove', node: 'nobody' }), 'conf');
    expect(s.apply(invalid)).toEqual({
      request: null,
      result: { kind: 'conf', changed: false, conf: { voters: ['n1', 'm'], learners: [] } },
    });
  });

  it('hands app entries and its snapshot part to the app machine', () => {
    index = 0;
    const seen: number[] = [];
    let restoredWith: Uint8Array | null = null;
    const s = new ClusterState({
      apply: (d) => void seen.push(d[0] as number),
      encode: () => new Uint8Array([42]),
      restore: (d) => (restoredWith = d),
    });
    s.apply(entry(encodeNodeEntry({ kind: 'app', data: new Uint8Array([3]) })));
    expect(seen).toEqual([3]);
    const other = new ClusterState({ apply: () => undefined, encode: () => new Uint8Array(0), restore: (d) => (restoredWith = d) });
    other.restore({ meta: { index: 1, term: 1, conf: { voters: ['A'], learners: [] } }, data: s.encode() });
    expect(restoredWith).toEqual(new Uint8Array([42]));
  });
});
