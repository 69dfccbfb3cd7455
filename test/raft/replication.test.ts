// Log replication (paper section 5.3; thesis 3.5 and 10.2): commit, consistency check, truncation,
// backtracking, proposal forwarding, batching and flow control.
import { describe, expect, it } from 'vitest';
import type { AppendResponse, ConfState, Message } from '../../src/raft/types.js';
import { Network, cluster, isType, makeEntries, msg, persistedLog } from './harness.js';

const RAW = { preVote: false, checkQuorum: false } as const;
const ABC: ConfState = { voters: ['a', 'b', 'c'], learners: [] };

const appResps = (msgs: readonly Message[]): AppendResponse[] => msgs.filter(isType('appResp'));

describe('commit', () => {
  it('a single-node cluster commits a proposal after one ready/advance cycle', () => {
    const net = new Network({ voters: ['a'] });
    net.elect('a');
    const r = net.propose('a', 'x');
    expect(r).toMatchObject({ ok: true, index: 2, term: 1 });
    // First cycle: the entry is handed over to be persisted, not yet committed.
    net.holdWrites('a');
    expect(net.processReady('a')).toBe(true);
    expect(net.status('a').commit).toBe(1);
    expect(net.entryAt('a', 2)).toBeUndefined();
    // The write completes, the core advances: now that it is durable it counts, and the next cycle commits it.
    net.releaseWrites('a');
    expect(net.entryAt('a', 2)?.index).toBe(2);
    expect(net.status('a').commit).toBe(2);
    expect(net.items('a')).toEqual([]);
    expect(net.processReady('a')).toBe(true);
    expect(net.items('a')).toEqual(['x']);
    expect(net.peer('a').storage.hardState.commit).toBe(2);
  });

  it('the leader counts its own entry toward commit only once it is persisted (after advance)', () => {
    const net = cluster(5, { config: RAW });
    net.elect('a');
    net.propose('a', 'x');
    // a's driver hands its Ready to storage and sends the appends at once (replication overlaps the
    // write), but the write has not completed when b and c acknowledge.
    net.holdWrites('a');
    expect(net.processReady('a')).toBe(true);
    expect(net.queued(isType('app')).map((m) => m.entries.map((e) => e.index))).toEqual([[2], [2], [2], [2]]);
    net.deliverAll();
    for (const id of ['b', 'c']) net.processReady(id);
    net.deliverAll();
    // b and c are two of five: a's own copy does not count until advance() says it is durable.
    expect(net.status('a').commit).toBe(1);
    net.releaseWrites('a');
    net.stabilize();
    expect(net.status('a').commit).toBe(2);
    for (const id of net.ids) expect(net.items(id)).toEqual(['x']);
  });

  it('the leader commits once a majority holds an entry, and followers learn the commit index', () => {
    const net = cluster(5);
    net.elect('a');
    net.crash('d');
    net.crash('e');
    const r = net.propose('a', 'x');
    expect(r).toMatchObject({ ok: true, index: 2, term: 1 });
    net.stabilize();
    for (const id of ['a', 'b', 'c']) {
      expect(net.status(id).commit).toBe(2);
      expect(net.items(id)).toEqual(['x']);
    }
  });

  it('the leader does not commit without a majority', () => {
    const net = cluster(5);
    net.elect('a');
    net.crash('c');
    net.crash('d');
    net.crash('e');
    net.propose('a', 'x');
    net.stabilize();
    expect(net.status('a').commit).toBe(1);
    expect(net.items('a')).toEqual([]);
    net.restart('c');
    net.tickAll(3);
    for (const id of ['a', 'b', 'c']) expect(net.items(id)).toEqual(['x']);
  });

  it("every entry carries the leader's clock when it was appended", () => {
    const net = cluster(3);
    net.elect('a');
    net.tickAll(5);
    const now = net.now;
    net.propose('a', 'x');
    net.stabilize();
    const e = net.entryAt('b', 2);
    expect(e?.time).toBe(now);
  });

  it('observeTime stamps entries to the millisecond between ticks, and time never goes back', () => {
    const net = cluster(3);
    net.elect('a');
    net.tickAll(5);
    const tickedAt = net.now;
    // No tick since: only the observed clock can move the stamp.
    net.setClock('a', tickedAt + 7);
    net.propose('a', 'x');
    net.setClock('a', tickedAt + 3); // older: ignored
    net.propose('a', 'y');
    net.stabilize();
    expect(net.entryAt('b', 2)?.time).toBe(tickedAt + 7);
    expect(net.entryAt('b', 3)?.time).toBe(tickedAt + 7);
    // A tick with an older clock does not take it back either.
    net.setClock('a', tickedAt + 1);
    net.tick('a');
    net.setClock('a', tickedAt + 12);
    net.propose('a', 'z');
    net.stabilize();
    expect(net.entryAt('c', 4)?.time).toBe(tickedAt + 12);
  });

  it('a forwarded proposal is stamped with the clock the leader observed when it arrived', () => {
    const net = cluster(3);
    net.elect('a');
    net.tickAll(5);
    const tickedAt = net.now;
    net.setClock('a', tickedAt + 9);
    net.propose('b', 'from-b');
    net.stabilize();
    expect(net.entryAt('c', 2)?.time).toBe(tickedAt + 9);
  });
});

describe('proposals', () => {
  it('a follower forwards a proposal to the leader and it commits everywhere', () => {
    const net = cluster(3);
    net.elect('a');
    expect(net.propose('b', 'from-b')).toEqual({ ok: true, forwarded: true });
    net.stabilize();
    for (const id of net.ids) expect(net.items(id)).toEqual(['from-b']);
    expect(net.delivered.some((m) => m.type === 'prop' && m.from === 'b' && m.to === 'a')).toBe(true);
  });

  it('a proposal with no known leader is refused with no-leader', () => {
    const net = cluster(3);
    expect(net.propose('a', 'x')).toEqual({ ok: false, reason: 'no-leader' });
    net.stabilize();
    for (const id of net.ids) expect(net.status(id).lastIndex).toBe(0);
  });

  it('a proposal larger than maxProposalBytes is refused with too-large, on the leader and on a follower', () => {
    const net = cluster(3, { config: { maxProposalBytes: 8 } });
    net.elect('a');
    expect(net.propose('a', 'x'.repeat(9))).toEqual({ ok: false, reason: 'too-large' });
    expect(net.propose('b', 'x'.repeat(9))).toEqual({ ok: false, reason: 'too-large' });
    expect(net.propose('a', 'x'.repeat(8))).toMatchObject({ ok: true });
    net.stabilize();
    for (const id of net.ids) expect(net.items(id)).toEqual(['xxxxxxxx']);
  });

  it('a leader that cannot commit refuses proposals past maxUncommittedBytes, and accepts again once they commit', () => {
    const net = cluster(3, { config: { maxUncommittedBytes: 10, checkQuorum: false } });
    net.elect('a');
    net.crash('b');
    net.crash('c');
    expect(net.propose('a', 'aaaa')).toMatchObject({ ok: true });
    expect(net.propose('a', 'bbbb')).toMatchObject({ ok: true });
    expect(net.propose('a', 'cccc')).toEqual({ ok: false, reason: 'overloaded' });
    net.stabilize();
    net.restart('b');
    net.tickAll(3);
    expect(net.items('a')).toEqual(['aaaa', 'bbbb']);
    expect(net.propose('a', 'cccc')).toMatchObject({ ok: true });
    net.stabilize();
    expect(net.items('b')).toEqual(['aaaa', 'bbbb', 'cccc']);
  });

  it('proposals made within one ready cycle travel in one append per follower (batching)', () => {
    const net = cluster(3);
    net.elect('a');
    net.clearTrace();
    for (let i = 0; i < 5; i++) net.propose('a', `p${i}`);
    net.stabilize();
    const apps = net.sent.filter(isType('app')).filter((m) => m.to === 'b' && m.entries.length > 0);
    expect(apps).toHaveLength(1);
    expect(apps[0]?.entries.map((e) => e.index)).toEqual([2, 3, 4, 5, 6]);
    expect(net.items('b')).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
  });

  it('an append carries at most maxMsgBytes of payload (but always at least one entry)', () => {
    const net = cluster(3, { config: { maxMsgBytes: 10 } });
    net.elect('a');
    net.clearTrace();
    for (let i = 0; i < 6; i++) net.propose('a', 'xxxx');
    net.propose('a', 'y'.repeat(25)); // bigger than a message: still goes alone
    net.stabilize();
    const apps = net.sent.filter(isType('app')).filter((m) => m.to === 'b' && m.entries.length > 0);
    expect(apps.length).toBeGreaterThanOrEqual(4);
    for (const m of apps) {
      const size = m.entries.reduce((s, e) => s + e.data.length, 0);
      expect(m.entries.length === 1 || size <= 10).toBe(true);
    }
    expect(net.items('b')).toHaveLength(7);
  });
});

describe('consistency check', () => {
  function follower(terms: number[], term: number): Network {
    return new Network({ voters: ['a', 'b', 'c'], config: RAW, initial: { b: persistedLog(terms, ABC, { term }) } });
  }

  it('a follower accepts an append whose previous entry matches and answers with its new last index', () => {
    const net = follower([1, 1, 2], 2);
    net.node('b').receive(msg.app('a', 'b', 3, 3, 2, makeEntries([3, 3], 4), 0));
    const resp = appResps(net.collect('b'));
    expect(resp).toHaveLength(1);
    expect(resp[0]).toMatchObject({ reject: false, index: 5, term: 3 });
    expect(net.logTerms('b')).toEqual([1, 1, 2, 3, 3]);
  });

  it('a follower rejects an append whose previous entry has another term, with a hint past that term', () => {
    const net = follower([1, 1, 2, 2, 2], 2);
    net.node('b').receive(msg.app('a', 'b', 3, 5, 3, makeEntries([3], 6), 0));
    const resp = appResps(net.collect('b'));
    expect(resp).toHaveLength(1);
    // Largest index <= 5 with term <= 3 is 5 (term 2): the leader then skips its own term-3 entries.
    expect(resp[0]).toMatchObject({ reject: true, index: 5, hintIndex: 5, hintTerm: 2 });
    expect(net.logTerms('b')).toEqual([1, 1, 2, 2, 2]);
  });

  it('a follower rejects an append beyond its log, hinting at its last index', () => {
    const net = follower([1, 1, 2], 2);
    net.node('b').receive(msg.app('a', 'b', 3, 7, 3, makeEntries([3], 8), 0));
    const resp = appResps(net.collect('b'));
    expect(resp[0]).toMatchObject({ reject: true, index: 7, hintIndex: 3, hintTerm: 2 });
    expect(net.logTerms('b')).toEqual([1, 1, 2]);
  });

  it('a follower rejecting inside a term hints at the last entry of an older term', () => {
    const net = follower([1, 1, 4, 4, 4, 4], 4);
    // The leader's entry 6 has term 2: every term-4 entry of b is past any possible match.
    net.node('b').receive(msg.app('a', 'b', 5, 6, 2, [], 0));
    const resp = appResps(net.collect('b'));
    expect(resp[0]).toMatchObject({ reject: true, index: 6, hintIndex: 2, hintTerm: 1 });
  });

  it("a follower truncates a conflicting suffix and appends the leader's entries", () => {
    const net = follower([1, 1, 2, 2], 2);
    net.node('b').receive(msg.app('a', 'b', 3, 2, 1, makeEntries([3], 3), 0));
    const resp = appResps(net.collect('b'));
    expect(resp[0]).toMatchObject({ reject: false, index: 3 });
    expect(net.logTerms('b')).toEqual([1, 1, 3]);
    expect(net.status('b').lastIndex).toBe(3);
  });

  it('an old append that matches does not truncate entries after it', () => {
    const net = follower([1, 1, 2, 2], 2);
    // A delayed copy of an earlier append (entry 2 only): everything in it is already here.
    net.node('b').receive(msg.app('a', 'b', 2, 1, 1, makeEntries([1], 2), 0));
    const resp = appResps(net.collect('b'));
    expect(resp[0]?.reject).toBe(false);
    expect(net.logTerms('b')).toEqual([1, 1, 2, 2]);
  });

  it("a follower commits up to the leader's commit index, capped at the last entry the append vouches for", () => {
    const net = follower([1, 1, 1, 1], 1);
    net.node('b').receive(msg.app('a', 'b', 2, 1, 1, makeEntries([1], 2), 4));
    net.collect('b');
    // The append vouches for entries 1..2 only: entries 3, 4 may still be replaced.
    expect(net.status('b').commit).toBe(2);
    expect(net.items('b')).toEqual(['1/1', '2/1']);
    net.node('b').receive(msg.app('a', 'b', 2, 4, 1, [], 4));
    net.collect('b');
    expect(net.status('b').commit).toBe(4);
    expect(net.peer('b').storage.hardState.commit).toBe(4);
  });

  it('replaying old appends after later commits leaves the logs unchanged', () => {
    const net = cluster(3);
    net.elect('a');
    for (let i = 0; i < 5; i++) {
      net.propose('a', `x${i}`);
      net.stabilize();
    }
    const old = net.delivered.filter(isType('app')).filter((m) => m.to === 'b' && m.entries.length > 0);
    const before = net.log('b');
    for (const m of old) net.node('b').receive(m);
    net.stabilize();
    expect(net.log('b')).toEqual(before);
    expect(net.items('b')).toEqual(['x0', 'x1', 'x2', 'x3', 'x4']);
  });
});

describe('log repair', () => {
  // Figure 7 of the Raft paper: the leader's log against six possible follower logs.
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const followers: Record<string, number[]> = {
    '(a) missing entries': [1, 1, 1, 4, 4, 5, 5, 6, 6],
    '(b) missing many entries': [1, 1, 1, 4],
    '(c) an extra uncommitted entry': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    '(d) extra entries of a later term': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    '(e) a conflicting term-4 tail': [1, 1, 1, 4, 4, 4, 4],
    '(f) a long conflicting tail of terms 2 and 3': [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };
  for (const [name, terms] of Object.entries(followers)) {
    it(`a new leader brings a follower with ${name} to its own log (Figure 7)`, () => {
      const net = new Network({
        voters: ['a', 'b', 'c'],
        config: RAW,
        initial: {
          a: persistedLog(leaderLog, ABC, { term: 8 }),
          b: persistedLog(terms, ABC, { term: Math.max(...terms) }),
          c: persistedLog(leaderLog, ABC, { term: 8 }),
        },
      });
      net.elect('a');
      net.tickAll(2);
      const term = net.status('a').term;
      const expected = [...leaderLog, term];
      for (const id of net.ids) {
        expect(net.logTerms(id)).toEqual(expected);
        expect(net.status(id).commit).toBe(expected.length);
      }
    });
  }

  it('fast backtracking skips a divergent term in one round trip', () => {
    // b holds 100 entries of term 3 that no leader ever committed; the leader's log diverges at 4.
    const leader = [1, 1, 1, ...Array<number>(50).fill(2), ...Array<number>(20).fill(4)];
    const stale = [1, 1, 1, ...Array<number>(100).fill(3)];
    const net = new Network({
      voters: ['a', 'b', 'c'],
      config: RAW,
      initial: {
        a: persistedLog(leader, ABC, { term: 4 }),
        b: persistedLog(stale, ABC, { term: 3 }),
        c: persistedLog(leader, ABC, { term: 4 }),
      },
    });
    net.elect('a');
    const rejections = net.delivered.filter(isType('appResp')).filter((m) => m.from === 'b' && m.reject);
    // One for the term-3 tail against the leader's term 4, one against its term 2: far from 70.
    expect(rejections.length).toBeGreaterThan(0);
    expect(rejections.length).toBeLessThanOrEqual(3);
    expect(net.logTerms('b')).toEqual([...leader, net.status('a').term]);
  });

  it('a follower that was down catches up when it comes back', () => {
    const net = cluster(3);
    net.elect('a');
    net.crash('c');
    for (let i = 0; i < 10; i++) net.propose('a', `x${i}`);
    net.stabilize();
    net.restart('c');
    net.tickAll(3);
    expect(net.items('c')).toEqual(net.items('a'));
    expect(net.status('a').progress?.get('c')?.state).toBe('replicate');
  });
});

describe('flow control', () => {
  it('the leader stops sending appends to a follower that does not acknowledge, and resumes on acks', () => {
    const maxInflight = 2;
    const net = cluster(3, { config: { maxInflight } });
    net.elect('a');
    expect(net.status('a').progress?.get('b')?.state).toBe('replicate');
    const held = net.hold((m) => m.type === 'appResp' && m.from === 'b');
    net.clearTrace();
    for (let i = 0; i < 8; i++) {
      net.propose('a', `x${i}`);
      net.stabilize();
    }
    const toB = () => net.sent.filter(isType('app')).filter((m) => m.to === 'b' && m.entries.length > 0);
    expect(toB().length).toBeGreaterThanOrEqual(1);
    expect(toB().length).toBeLessThanOrEqual(maxInflight);
    // c acknowledges, so commit still moves on.
    expect(net.items('a')).toHaveLength(8);
    expect(net.items('c')).toHaveLength(8);
    expect(net.status('b').lastIndex).toBeLessThan(net.status('a').lastIndex);
    // The acknowledgements arrive: the leader sends the rest without waiting for a heartbeat.
    held.release();
    net.stabilize();
    expect(net.status('b').lastIndex).toBe(net.status('a').lastIndex);
    expect(net.logTerms('b')).toEqual(net.logTerms('a'));
  });

  it('a lost append is sent again on the heartbeats, without waiting for another proposal', () => {
    const net = cluster(3);
    net.elect('a');
    const stop = net.dropIf((m) => m.type === 'app' && m.entries.length > 0);
    net.propose('a', 'x');
    net.stabilize();
    stop();
    expect(net.status('a').commit).toBe(1);
    net.tickAll(3 * net.peer('a').config.electionTicks);
    for (const id of net.ids) expect(net.items(id)).toEqual(['x']);
  });

  it('a follower whose whole in-flight window was lost is caught up', () => {
    const net = cluster(3, { config: { maxInflight: 2 } });
    net.elect('a');
    const stop = net.dropIf((m) => m.type === 'app' && m.to === 'b' && m.entries.length > 0);
    for (let i = 0; i < 4; i++) {
      net.propose('a', `x${i}`);
      net.stabilize();
    }
    stop();
    net.tickAll(3 * net.peer('a').config.electionTicks);
    expect(net.items('b')).toEqual(['x0', 'x1', 'x2', 'x3']);
    expect(net.status('a').progress?.get('b')).toMatchObject({ match: 5, state: 'replicate' });
  });

  it('a follower that never answered (probe state) is sent one append at a time, not one per proposal', () => {
    const net = cluster(3, { config: { checkQuorum: false } });
    net.crash('c');
    net.elect('a');
    expect(net.status('a').progress?.get('c')?.state).toBe('probe');
    for (let i = 0; i < 5; i++) {
      net.propose('a', `x${i}`);
      net.stabilize();
    }
    const toC = net.sent.filter(isType('app')).filter((m) => m.to === 'c');
    expect(toC.length).toBeLessThanOrEqual(1);
    net.restart('c');
    net.tickAll(3);
    expect(net.items('c')).toEqual(['x0', 'x1', 'x2', 'x3', 'x4']);
    expect(net.status('a').progress?.get('c')?.state).toBe('replicate');
  });
});
