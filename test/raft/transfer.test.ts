// Leadership transfer (thesis section 3.10).
import { describe, expect, it } from 'vitest';
import { Network, cluster, isType } from './harness.js';

describe('leadership transfer', () => {
  it('hands leadership to a caught-up follower at once, with a direct (not pre-) vote marked as a transfer', () => {
    const net = cluster(3); // PreVote and CheckQuorum on: the transfer must get past both
    net.elect('a');
    net.propose('a', 'x');
    net.stabilize();
    net.clearTrace();
    expect(net.node('a').transferLeadership('b')).toBe(true);
    net.stabilize();
    expect(net.leader()).toBe('b');
    expect(net.status('b').term).toBe(2);
    expect(net.status('a')).toMatchObject({ role: 'follower', leader: 'b', term: 2 });
    expect(net.delivered.filter(isType('timeoutNow')).map((m) => [m.from, m.to])).toEqual([['a', 'b']]);
    const votes = net.sent.filter(isType('vote')).filter((m) => m.from === 'b');
    expect(votes.length).toBeGreaterThan(0);
    for (const v of votes) expect(v).toMatchObject({ pre: false, transfer: true, term: 2 });
    net.propose('b', 'y');
    net.stabilize();
    for (const id of net.ids) expect(net.items(id)).toEqual(['x', 'y']);
  });

  it('hands leadership to a lagging follower once it has caught up; meanwhile the leader refuses proposals', () => {
    const net = cluster(3);
    net.elect('a');
    net.isolate('c');
    for (let i = 0; i < 5; i++) net.propose('a', `x${i}`);
    net.stabilize();
    net.heal();
    expect(net.node('a').transferLeadership('c')).toBe(true);
    expect(net.propose('a', 'refused')).toEqual({ ok: false, reason: 'transferring' });
    net.tickUntil(() => net.leader() === 'c', 2 * net.peer('a').config.electionTicks);
    expect(net.status('c').term).toBe(2);
    net.tickAll(2);
    for (const id of net.ids) {
      expect(net.items(id)).toEqual(['x0', 'x1', 'x2', 'x3', 'x4']);
      expect(net.status(id).leader).toBe('c');
    }
  });

  it('a transfer to an unreachable node is abandoned after an election timeout', () => {
    const net = cluster(3);
    const e = net.peer('a').config.electionTicks;
    net.elect('a');
    net.isolate('c');
    expect(net.node('a').transferLeadership('c')).toBe(true);
    expect(net.propose('a', 'early')).toEqual({ ok: false, reason: 'transferring' });
    net.tickAll(e + 1, { only: ['a', 'b'] });
    expect(net.leader()).toBe('a');
    expect(net.status('a').term).toBe(1);
    expect(net.propose('a', 'late')).toMatchObject({ ok: true });
    net.stabilize();
    expect(net.items('b')).toEqual(['late']);
  });

  it('a forwarded proposal that reaches a transferring leader is dropped and counted', () => {
    const net = cluster(3);
    net.elect('a');
    net.isolate('c');
    net.node('a').transferLeadership('c');
    expect(net.propose('b', 'p')).toEqual({ ok: true, forwarded: true });
    const before = net.node('a').stats.droppedProposals;
    net.stabilize();
    expect(net.node('a').stats.droppedProposals).toBe(before + 1);
    expect(net.status('a').lastIndex).toBe(1);
  });

  it('a transfer is refused by a follower, to itself, to a learner and to a stranger', () => {
    const net = new Network({ voters: ['a', 'b', 'c'], learners: ['d'] });
    net.elect('a');
    expect(net.node('b').transferLeadership('c')).toBe(false);
    expect(net.node('a').transferLeadership('a')).toBe(false);
    expect(net.node('a').transferLeadership('d')).toBe(false);
    expect(net.node('a').transferLeadership('zz')).toBe(false);
    expect(net.propose('a', 'still-ok')).toMatchObject({ ok: true });
  });
});
