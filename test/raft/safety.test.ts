// Safety (paper sections 5.1, 5.4): stale terms, committing only current-term entries (Figure 8),
// overwriting a deposed leader's uncommitted entries. The harness itself fails any test in which
// two nodes apply different entries at one index or two leaders share a term.
import { describe, expect, it } from 'vitest';
import type { ConfState } from '../../src/raft/types.js';
import { Network, cluster, isType, msg, persistedLog } from './harness.js';

const RAW = { preVote: false, checkQuorum: false } as const;
const ABC: ConfState = { voters: ['a', 'b', 'c'], learners: [] };

/** a, b, c at term 2 with log [1, 2]; `a` is elected (term 3). */
function termThree(): Network {
  const init = persistedLog([1, 2], ABC, { term: 2 });
  const net = new Network({ voters: ['a', 'b', 'c'], config: RAW, initial: { a: init, b: init, c: init } });
  net.elect('a');
  expect(net.status('a').term).toBe(3);
  return net;
}

describe('stale terms', () => {
  it('a leader drops a message of an older term and counts it', () => {
    const net = termThree();
    const before = net.node('a').stats.droppedStaleTerm;
    net.node('a').receive(msg.heartbeat('b', 'a', 1));
    net.node('a').receive(msg.vote('c', 'a', 2, 99, 2));
    net.node('a').receive(msg.appResp('b', 'a', 2, 3));
    expect(net.node('a').stats.droppedStaleTerm).toBe(before + 3);
    expect(net.status('a')).toMatchObject({ role: 'leader', term: 3 });
    expect(
      net
        .collect('a')
        .filter(isType('voteResp'))
        .filter((m) => !m.reject),
    ).toEqual([]);
  });

  it('a follower ignores an append of an older term: its log and commit stay as they are', () => {
    const net = termThree();
    const log = net.log('b');
    const commit = net.status('b').commit;
    const before = net.node('b').stats.droppedStaleTerm;
    // A deposed leader of term 2 tries to overwrite entry 2 and to move the commit index.
    const stale = msg.app('c', 'b', 2, 1, 1, [{ index: 2, term: 2, type: 'normal', time: 0, proposer: 'c', data: new Uint8Array([7]) }], 2);
    net.node('b').receive(stale);
    net.stabilize();
    expect(net.node('b').stats.droppedStaleTerm).toBe(before + 1);
    expect(net.log('b')).toEqual(log);
    expect(net.status('b').commit).toBe(commit);
    expect(net.status('b')).toMatchObject({ term: 3, leader: 'a' });
  });

  it('a vote request of an older term is not granted and does not change the vote', () => {
    const net = termThree();
    net.node('b').receive(msg.vote('c', 'b', 2, 50, 2));
    const out = net.collect('b');
    expect(out.filter(isType('voteResp')).filter((m) => !m.reject)).toEqual([]);
    expect(net.peer('b').storage.hardState).toMatchObject({ term: 3, vote: 'a' });
  });
});

describe('commitment rules', () => {
  it('Figure 8: a leader does not commit an entry of an earlier term by counting replicas', () => {
    const net = cluster(5, { config: RAW });
    // (a) a leads term 1 and replicates "x" at index 2 to b only.
    net.elect('a');
    net.partition(['a', 'b'], ['c', 'd', 'e']);
    expect(net.propose('a', 'x')).toMatchObject({ ok: true, index: 2, term: 1 });
    net.stabilize();
    expect(net.status('a').commit).toBe(1);

    // (b) a crashes; e wins term 2 with c and d and appends its no-op at index 2, which nobody else gets.
    net.crash('a');
    net.heal();
    net.cut('e', 'b');
    const noAppFromE = net.dropIf((m) => m.from === 'e' && m.type === 'app');
    net.elect('e');
    expect(net.status('e').term).toBe(2);
    expect(net.entryAt('e', 2)?.term).toBe(2);
    noAppFromE();
    net.crash('e');
    net.heal();

    // (c) a comes back and wins term 3 (b, c, d); it replicates its term-1 entry 2 but not its
    // term-3 no-op, so entry 2 sits on a majority (a, b, c, d) without being committable.
    net.restart('a');
    const onlyUpTo2 = net.intercept((m) =>
      m.type === 'app' && m.from === 'a' ? { ...m, entries: m.entries.filter((e) => e.index <= 2) } : m,
    );
    let won = false;
    for (let i = 0; i < 3 && !won; i++) won = net.campaign('a');
    expect(won).toBe(true);
    expect(net.status('a').term).toBe(3);
    net.stabilize();
    for (const id of ['a', 'b', 'c', 'd']) expect(net.entryAt(id, 2)?.term).toBe(1);
    expect(net.status('a').commit).toBe(1);
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(net.status(id).commit).toBe(1);
      expect(net.items(id)).toEqual([]);
    }

    // (d) a crashes; e (last term 2) can win term 4 and overwrites index 2 everywhere: had a
    // committed "x", this would lose a committed entry (the harness would flag it).
    onlyUpTo2();
    net.crash('a');
    net.restart('e');
    won = false;
    for (let i = 0; i < 3 && !won; i++) won = net.campaign('e');
    expect(won).toBe(true);
    net.stabilize();
    for (const id of ['b', 'c', 'd', 'e']) {
      expect(net.entryAt(id, 2)?.term).toBe(2);
      expect(net.status(id).commit).toBeGreaterThanOrEqual(3);
      expect(net.items(id)).toEqual([]);
    }
    // And a comes back to the same log.
    net.restart('a');
    net.tickAll(3);
    expect(net.logTerms('a')).toEqual(net.logTerms('e'));
    expect(net.items('a')).toEqual([]);
  });

  it('Figure 8 (e): once a current-term entry is on a majority, the earlier entry commits with it and survives', () => {
    const net = cluster(5, { config: RAW });
    net.elect('a');
    net.partition(['a', 'b'], ['c', 'd', 'e']);
    net.propose('a', 'x');
    net.stabilize();
    net.crash('a');
    net.heal();
    net.cut('e', 'b');
    const noAppFromE = net.dropIf((m) => m.from === 'e' && m.type === 'app');
    net.elect('e');
    noAppFromE();
    net.crash('e');
    net.heal();
    net.restart('a');
    let won = false;
    for (let i = 0; i < 3 && !won; i++) won = net.campaign('a');
    expect(won).toBe(true);
    // This time the term-3 no-op reaches the majority too.
    net.stabilize();
    for (const id of ['a', 'b', 'c', 'd']) expect(net.items(id)).toEqual(['x']);
    net.crash('a');
    net.restart('e');
    // e's log (last term 2) is behind every voter's (last term 3): it cannot win any more.
    for (let i = 0; i < 3; i++) expect(net.campaign('e')).toBe(false);
    const leader = net.tickUntilLeader(300);
    expect(leader).not.toBe('e');
    net.tickAll(3);
    for (const id of ['b', 'c', 'd', 'e']) expect(net.items(id)).toEqual(['x']);
  });

  it('the no-op of a new term commits the entries of earlier terms', () => {
    const net = cluster(5, { config: RAW });
    net.elect('a');
    // "x" reaches every follower, but a never learns it did, so it never commits it.
    const noAcks = net.dropIf((m) => m.type === 'appResp' && m.to === 'a');
    net.propose('a', 'x');
    net.stabilize();
    noAcks();
    expect(net.status('a').commit).toBe(1);
    net.crash('a');
    // b wins term 2. Until its no-op is acknowledged, "x" (term 1) stays uncommitted even though
    // b, c, d, e all hold it.
    const noAppFromB = net.hold((m) => m.type === 'app' && m.from === 'b' && m.entries.length > 0);
    net.elect('b');
    net.stabilize();
    expect(net.status('b').commit).toBe(1);
    noAppFromB.release();
    net.stabilize();
    net.tickAll(2);
    for (const id of ['b', 'c', 'd', 'e']) {
      expect(net.items(id)).toEqual(['x']);
      expect(net.status(id).commit).toBe(3);
      expect(net.entryAt(id, 3)).toMatchObject({ term: 2, type: 'normal' });
      expect(net.entryAt(id, 3)?.data.length).toBe(0);
    }
  });

  it('a new leader overwrites the uncommitted entries of a deposed leader', () => {
    const net = cluster(3, { seed: 7 });
    net.elect('a');
    net.isolate('a');
    expect(net.propose('a', 'lost-1').ok).toBe(true);
    expect(net.propose('a', 'lost-2').ok).toBe(true);
    net.stabilize();
    expect(net.status('a').lastIndex).toBe(3);
    const leader = net.tickUntilLeader(300, ['b', 'c']);
    expect(net.propose(leader, 'kept').ok).toBe(true);
    net.stabilize();
    net.heal();
    net.tickAll(5);
    const term = net.status(leader).term;
    for (const id of net.ids) {
      expect(net.items(id)).toEqual(['kept']);
      expect(net.entryAt(id, 2)?.term).toBe(term);
      expect(net.entryAt(id, 3)?.term).toBe(term);
      expect(net.status(id).leader).toBe(leader);
    }
  });

  it("a deposed leader's proposals made after it lost its quorum never commit", () => {
    const net = cluster(5, { seed: 2 });
    net.elect('a');
    net.partition(['a', 'b'], ['c', 'd', 'e']);
    net.propose('a', 'minority');
    net.stabilize();
    const leader = net.tickUntilLeader(300, ['c', 'd', 'e']);
    net.propose(leader, 'majority');
    net.stabilize();
    net.heal();
    net.tickAll(5);
    for (const id of net.ids) expect(net.items(id)).toEqual(['majority']);
  });
});
