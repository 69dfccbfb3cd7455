// CheckQuorum and PreVote: leaders stranded in a minority, and nodes rejoining from a partition
// (thesis sections 6.2 and 9.6).
import { describe, expect, it } from 'vitest';
import type { ConfigOverrides } from './harness.js';
import { cluster } from './harness.js';

describe('CheckQuorum', () => {
  it('a leader that cannot hear from a quorum steps down once a whole election timeout passes without it', () => {
    const net = cluster(3, { config: { checkQuorum: true } });
    const e = net.peer('a').config.electionTicks;
    net.elect('a');
    net.isolate('a');
    // It heard from b and c just before the cut; quorum activity is judged per election-timeout
    // window, so the first window that is entirely silent ends at most 2e ticks later.
    net.tickAll(2 * e, { only: ['a'] });
    expect(net.status('a').role).toBe('follower');
    expect(net.status('a').leader).toBeNull();
    expect(net.propose('a', 'x')).toEqual({ ok: false, reason: 'no-leader' });
  });

  it('without CheckQuorum the same isolated leader stays leader (control)', () => {
    const net = cluster(3, { config: { checkQuorum: false } });
    net.elect('a');
    net.isolate('a');
    net.tickAll(5 * net.peer('a').config.electionTicks, { only: ['a'] });
    expect(net.status('a').role).toBe('leader');
  });

  it('a leader that hears from a quorum stays leader though a follower is gone', () => {
    const net = cluster(5, { config: { checkQuorum: true } });
    net.elect('a');
    net.crash('d');
    net.crash('e');
    net.tickAll(10 * net.peer('a').config.electionTicks);
    expect(net.leaders()).toEqual(['a']);
    expect(net.status('a').term).toBe(1);
  });

  it('the majority side elects a new leader while the old one steps down', () => {
    const net = cluster(5, { config: { checkQuorum: true }, seed: 21 });
    net.elect('a');
    net.partition(['a', 'b'], ['c', 'd', 'e']);
    const leader = net.tickUntilLeader(300, ['c', 'd', 'e']);
    net.tickAll(2 * net.peer('a').config.electionTicks);
    expect(net.status('a').role).not.toBe('leader');
    expect(net.leaders()).toEqual([leader]);
  });
});

describe('a node rejoining after a partition', () => {
  /**
   * a leads; c is cut off and keeps ticking alone (campaigning again and again) while a and b commit
   * three entries; then the partition heals. Returns what happened to the leader's term.
   */
  function rejoin(config: ConfigOverrides, proposeMeanwhile = true) {
    const net = cluster(3, { config, seed: 13 });
    const e = net.peer('a').config.electionTicks;
    net.elect('a');
    net.isolate('c');
    if (proposeMeanwhile) {
      for (let i = 0; i < 3; i++) net.propose('a', `x${i}`);
    }
    net.stabilize();
    net.tickAll(10 * e);
    const isolatedTerm = net.status('c').term;
    net.heal();
    net.tickAll(5 * e);
    return { net, isolatedTerm, leaderTerm: net.status('a').term };
  }

  it('with PreVote, it does not disturb a stable leader (its term never moved)', () => {
    const { net, isolatedTerm, leaderTerm } = rejoin({ preVote: true, checkQuorum: false });
    expect(isolatedTerm).toBe(1);
    expect(leaderTerm).toBe(1);
    expect(net.leaders()).toEqual(['a']);
    expect(net.items('c')).toEqual(['x0', 'x1', 'x2']);
  });

  it('with PreVote and CheckQuorum, it does not disturb a stable leader either', () => {
    const { net, isolatedTerm, leaderTerm } = rejoin({ preVote: true, checkQuorum: true });
    expect(isolatedTerm).toBe(1);
    expect(leaderTerm).toBe(1);
    expect(net.leaders()).toEqual(['a']);
    expect(net.items('c')).toEqual(['x0', 'x1', 'x2']);
  });

  it('with PreVote and CheckQuorum, it does not disturb even when its log is up to date', () => {
    const { net, leaderTerm } = rejoin({ preVote: true, checkQuorum: true }, false);
    expect(leaderTerm).toBe(1);
    expect(net.leaders()).toEqual(['a']);
  });

  it('without PreVote, the same rejoining node forces the leader out of its term (the disruption PreVote prevents)', () => {
    const { net, isolatedTerm, leaderTerm } = rejoin({ preVote: false, checkQuorum: false });
    expect(isolatedTerm).toBeGreaterThan(1);
    expect(leaderTerm).toBeGreaterThan(1);
    // It cannot win (its log is behind), and the cluster recovers with everything committed.
    const leader = net.tickUntilLeader(300);
    expect(leader).not.toBe('c');
    net.tickAll(3);
    expect(net.items('c')).toEqual(['x0', 'x1', 'x2']);
  });

  it("without PreVote but with CheckQuorum, the rejoining node still raises the leader's term", () => {
    const { net, isolatedTerm, leaderTerm } = rejoin({ preVote: false, checkQuorum: true });
    expect(isolatedTerm).toBeGreaterThan(1);
    expect(leaderTerm).toBeGreaterThan(1);
    const leader = net.tickUntilLeader(300);
    expect(leader).not.toBe('c');
  });
});
