// Garbage in: malformed messages, messages from strangers, messages for someone else. The core
// drops and counts them and never throws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../src/raft/codec.js';
import type { RaftDriver } from '../../src/node/driver.js';
import type { Message } from '../../src/raft/types.js';
import type { Network } from './harness.js';
import { bytes, cluster, makeEntries, msg } from './harness.js';

/** What must not change when a message is dropped. */
function snapshotOf(net: Network, id: string) {
  const s = net.status(id);
  return { role: s.role, term: s.term, leader: s.leader, commit: s.commit, lastIndex: s.lastIndex, conf: s.membership };
}

const asMessage = (x: unknown): Message => x as Message;

function totalDrops(n: RaftDriver): number {
  return n.stats.droppedMalformed + n.stats.droppedStaleTerm + n.stats.droppedUnknownNode;
}

/** A leader a at term 1 with a committed entry, followers b and c. */
function running(): Network {
  const net = cluster(3);
  net.elect('a');
  net.propose('a', 'x');
  net.stabilize();
  return net;
}

describe('malformed messages', () => {
  const good = {
    app: msg.app('b', 'a', 1, 1, 1, makeEntries([1], 2), 1),
    heartbeat: msg.heartbeat('b', 'a', 1, 1, ''),
    vote: msg.vote('b', 'a', 2, 2, 1),
    appResp: msg.appResp('b', 'a', 1, 2),
  };
  const garbage: [string, unknown][] = [
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'app'],
    ['an array', [1, 2, 3]],
    ['an empty object', {}],
    ['an unknown type', { ...good.heartbeat, type: 'bogus' }],
    ['a missing type', { from: 'b', to: 'a', term: 1 }],
    ['a negative term', { ...good.heartbeat, term: -1 }],
    ['a fractional term', { ...good.heartbeat, term: 1.5 }],
    ['a NaN term', { ...good.heartbeat, term: Number.NaN }],
    ['a string term', { ...good.heartbeat, term: '1' }],
    ['an infinite commit', { ...good.heartbeat, commit: Number.POSITIVE_INFINITY }],
    ['a numeric sender', { ...good.heartbeat, from: 7 }],
    ['an empty sender', { ...good.heartbeat, from: '' }],
    ['a missing receiver', { type: 'heartbeat', from: 'b', term: 1, commit: 0, ctx: '' }],
    ['a non-string ctx', { ...good.heartbeat, ctx: 5 }],
    ['an append with a negative prevIndex', { ...good.app, prevIndex: -1 }],
    ['an append without entries', { ...good.app, entries: undefined }],
    ['an append whose entries are not a list', { ...good.app, entries: 'abc' }],
    ['an append with an entry at the wrong index', { ...good.app, entries: makeEntries([1], 5) }],
    ['an append with an entry of a future term', { ...good.app, entries: makeEntries([9], 2) }],
    ['an append with entries of decreasing terms', { ...msg.app('b', 'a', 3, 1, 1, [], 1), entries: makeEntries([3, 2], 2) }],
    ['an append with an entry of no data', { ...good.app, entries: [{ ...makeEntries([1], 2)[0], data: 'x' }] }],
    ['an append with an entry of a bad type', { ...good.app, entries: [{ ...makeEntries([1], 2)[0], type: 'weird' }] }],
    ['a vote without lastIndex', { ...good.vote, lastIndex: undefined }],
    ['a vote with a string pre flag', { ...good.vote, pre: 'false' }],
    ['an appResp with a negative index', { ...good.appResp, index: -3 }],
    ['an appResp with a missing hint', { ...good.appResp, hintTerm: undefined }],
    [
      'a snapshot chunk past its total',
      {
        type: 'snap',
        from: 'b',
        to: 'a',
        term: 1,
        meta: { index: 5, term: 1, conf: { voters: ['a', 'b', 'c'], learners: [] } },
        offset: 4,
        total: 5,
        chunk: bytes('abc'),
      },
    ],
    [
      'a snapshot chunk with a malformed conf',
      {
        type: 'snap',
        from: 'b',
        to: 'a',
        term: 1,
        meta: { index: 5, term: 1, conf: { voters: 'a' } },
        offset: 0,
        total: 3,
        chunk: bytes('abc'),
      },
    ],
    ['a proposal whose entries have no data', { type: 'prop', from: 'b', to: 'a', term: 1, entries: [{ type: 'normal' }] }],
  ];

  for (const [name, m] of garbage) {
    it(`${name} is dropped and counted as malformed`, () => {
      const net = running();
      for (const id of ['a', 'b'] as const) {
        const node = net.node(id);
        const target = m !== null && typeof m === 'object' && !Array.isArray(m) ? { ...m, to: id } : m;
        const missingTo = name === 'a missing receiver' ? m : target;
        const before = snapshotOf(net, id);
        const count = node.stats.droppedMalformed;
        expect(() => node.receive(asMessage(missingTo))).not.toThrow();
        expect(node.stats.droppedMalformed).toBe(count + 1);
        expect(snapshotOf(net, id)).toEqual(before);
      }
      // And the cluster still works.
      net.stabilize();
      net.propose('a', 'y');
      net.stabilize();
      for (const id of net.ids) expect(net.items(id)).toEqual(['x', 'y']);
    });
  }

  it('a message addressed to another node is dropped', () => {
    const net = running();
    const node = net.node('b');
    const before = snapshotOf(net, 'b');
    const drops = totalDrops(node);
    node.receive(msg.heartbeat('a', 'c', 5, 2));
    expect(totalDrops(node)).toBe(drops + 1);
    expect(snapshotOf(net, 'b')).toEqual(before);
  });

  it('randomly corrupted copies of real messages are dropped without throwing', () => {
    const net = running();
    for (let i = 0; i < 3; i++) net.propose('a', `y${i}`);
    net.stabilize();
    net.tickAll(2);
    const samples = net.delivered.slice();
    const wrongValues: unknown[] = [null, undefined, -1, 1.5, Number.NaN, '1', '', true, {}, [], [{}]];
    fc.assert(
      fc.property(fc.nat(samples.length - 1), fc.nat(20), fc.nat(wrongValues.length - 1), (pick, fieldPick, valuePick) => {
        const original = samples[pick] as Message;
        const fields = Object.keys(original).filter((k) => k !== 'to');
        const field = fields[fieldPick % fields.length] as string;
        const value = wrongValues[valuePick];
        const orig: unknown = (original as unknown as Record<string, unknown>)[field];
        // Only values of the wrong kind for the field: a corruption that still type-checks
        // would be a lying peer, not a malformed message.
        if (typeof orig === typeof value && !Array.isArray(orig) && !(orig instanceof Uint8Array)) return;
        if (typeof orig === 'string' && field === 'ctx' && typeof value === 'string') return;
        if (Array.isArray(orig) && Array.isArray(value) && value.length === 0) return;
        const corrupted = { ...(original as unknown as Record<string, unknown>), [field]: value };
        const node = net.node(original.to);
        const before = snapshotOf(net, original.to);
        const drops = totalDrops(node);
        expect(() => node.receive(asMessage(corrupted))).not.toThrow();
        expect(totalDrops(node)).toBe(drops + 1);
        expect(snapshotOf(net, original.to)).toEqual(before);
      }),
      { seed: 4242, numRuns: 300 },
    );
    net.stabilize();
    net.propose('a', 'z');
    net.stabilize();
    for (const id of net.ids) expect(net.items(id).at(-1)).toBe('z');
  });

  it('arbitrary values are dropped without throwing', () => {
    const net = running();
    const node = net.node('b');
    fc.assert(
      fc.property(fc.anything(), (x) => {
        expect(() => node.receive(asMessage(x))).not.toThrow();
      }),
      { seed: 99, numRuns: 300 },
    );
    expect(net.status('b')).toMatchObject({ term: 1, leader: 'a', commit: 2 });
  });
});

describe('messages from unknown nodes', () => {
  const stranger = 'zz';
  // Answers and forwarded requests come only from members: from anyone else they are stray.
  const stray: [string, (to: string, net: Network) => Message][] = [
    ['a vote response', (to) => msg.voteResp(stranger, to, 1, false)],
    ['an append response', (to) => msg.appResp(stranger, to, 1, 2)],
    ['a heartbeat response', (to) => msg.heartbeatResp(stranger, to, 1)],
    ['a forwarded proposal', (to) => ({ type: 'prop', from: stranger, to, term: 1, entries: [{ type: 'normal', data: bytes('evil') }] })],
    ['a forwarded read', (to) => ({ type: 'readIndex', from: stranger, to, term: 1, ctx: 'r' })],
  ];
  for (const [name, make] of stray) {
    it(`${name} from a node outside the membership is dropped and counted`, () => {
      const net = running();
      for (const id of ['a', 'b']) {
        const node = net.node(id);
        const before = snapshotOf(net, id);
        const count = node.stats.droppedUnknownNode;
        expect(() => node.receive(make(id, net))).not.toThrow();
        expect(node.stats.droppedUnknownNode).toBe(count + 1);
        expect(snapshotOf(net, id)).toEqual(before);
      }
      net.stabilize();
      expect(net.items('a')).toEqual(['x']);
      expect(net.status('a').lastIndex).toBe(2);
    });
  }

  // A lagging node may not know yet that a candidate or a leader joined, so what they send is
  // judged by the Raft rules (term, lease, log), not by membership: a stranger gains nothing.
  const judged: [string, (to: string, net: Network) => Message][] = [
    ['a vote request of a higher term', (to, net) => msg.vote(stranger, to, 9, net.status(to).lastIndex + 10, 5)],
    ['a pre-vote request', (to) => msg.vote(stranger, to, 9, 100, 5, { pre: true })],
    ['a timeoutNow', (to) => ({ type: 'timeoutNow', from: stranger, to, term: 1 })],
  ];
  for (const [name, make] of judged) {
    it(`${name} from a node outside the membership changes nothing while a leader is alive`, () => {
      const net = running();
      for (const id of ['a', 'b']) {
        const node = net.node(id);
        const before = snapshotOf(net, id);
        expect(() => node.receive(make(id, net))).not.toThrow();
        expect(snapshotOf(net, id)).toEqual(before);
      }
      net.stabilize();
      expect(net.leader()).toBe('a');
      expect(net.items('a')).toEqual(['x']);
      expect(net.status('a').lastIndex).toBe(2);
    });
  }
});

describe('bytes off the wire', () => {
  it('garbage bytes are dropped and counted as malformed; a valid encoding is stepped', () => {
    const net = running();
    const node = net.node('b');
    const before = snapshotOf(net, 'b');
    const count = node.stats.droppedMalformed;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(() => node.receiveEncoded(bytes, 'a')).not.toThrow();
      }),
      { seed: 7, numRuns: 500 },
    );
    expect(node.stats.droppedMalformed).toBeGreaterThanOrEqual(count + 490);
    expect(snapshotOf(net, 'b')).toEqual(before);
    const term = net.status('b').term;
    node.receiveEncoded(encodeMessage(msg.heartbeat('a', 'b', term + 1, 0)), 'a');
    expect(net.status('b').term).toBe(term + 1);
  });
});

describe('bytes off the wire, with an authenticated sender', () => {
  it('drops and counts a valid encoding that claims another sender than the transport authenticated', () => {
    const net = running();
    const node = net.node('b');
    const term = net.status('b').term;
    const count = node.stats.droppedMalformed;
    const frame = encodeMessage(msg.heartbeat('a', 'b', term + 1, 0));
    expect(node.receiveEncoded(frame, 'c')).toBe(false);
    expect(node.stats.droppedMalformed).toBe(count + 1);
    expect(net.status('b').term).toBe(term);
    expect(node.receiveEncoded(frame, 'a')).toBe(true);
    expect(net.status('b').term).toBe(term + 1);
  });
});
