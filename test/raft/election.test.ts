// Leader election (paper sections 5.1-5.2 and 5.4.1; thesis 3.4, 9.6).
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/raft/rng.js';
import type { Message, VoteResponse } from '../../src/raft/types.js';
import { Network, cluster, fixedRng, isType, msg, persistedLog } from './harness.js';

const RAW = { preVote: false, checkQuorum: false } as const;
const ABC = { voters: ['a', 'b', 'c'], learners: [] };

function votesIn(msgs: readonly Message[]): VoteResponse[] {
  return msgs.filter(isType('voteResp'));
}

describe('election basics', () => {
  it('a node starts as a follower of term 0 with no leader', () => {
    const net = cluster(3);
    for (const id of net.ids) {
      const s = net.status(id);
      expect(s.role).toBe('follower');
      expect(s.term).toBe(0);
      expect(s.leader).toBeNull();
    }
  });

  it('a follower campaigns after its election timeout, asking every voter for a vote', () => {
    const net = cluster(3, { config: RAW, rng: () => fixedRng(0) });
    const e = net.peer('a').config.electionTicks;
    net.tick('a', e - 1);
    expect(net.status('a').role).toBe('follower');
    net.tick('a');
    const s = net.status('a');
    expect(s.role).toBe('candidate');
    expect(s.term).toBe(1);
    const reqs = net.collect('a').filter(isType('vote'));
    expect(reqs.map((m) => m.to).sort()).toEqual(['b', 'c']);
    for (const m of reqs) {
      expect(m.term).toBe(1);
      expect(m.pre).toBe(false);
      expect(m.lastIndex).toBe(0);
      expect(m.lastTerm).toBe(0);
    }
  });

  it('with PreVote, a timed-out follower first runs a pre-vote for term+1 without changing its term', () => {
    const net = cluster(3, { config: { preVote: true, checkQuorum: false }, rng: () => fixedRng(0) });
    net.tick('a', net.peer('a').config.electionTicks);
    const s = net.status('a');
    expect(s.role).toBe('precandidate');
    expect(s.term).toBe(0);
    const reqs = net.collect('a').filter(isType('vote'));
    expect(reqs).toHaveLength(2);
    for (const m of reqs) {
      expect(m.pre).toBe(true);
      expect(m.term).toBe(1);
    }
    expect(net.peer('a').storage.hardState.term).toBe(0);
  });

  it('election timeouts are randomized in [electionTicks, 2*electionTicks)', () => {
    const e = 10;
    const seen = new Set<number>();
    for (let seed = 1; seed <= 60; seed++) {
      const net = new Network({ voters: ['a', 'b', 'c'], config: { ...RAW, electionTicks: e }, rng: () => new SeededRng(seed) });
      let t = 0;
      while (net.status('a').role === 'follower' && t < 3 * e) {
        net.tick('a');
        t++;
      }
      expect(t).toBeGreaterThanOrEqual(e);
      expect(t).toBeLessThan(2 * e);
      seen.add(t);
    }
    // Not all the same: the randomness is what resolves split votes.
    expect(seen.size).toBeGreaterThan(3);
  });

  it('a candidate that neither wins nor loses starts a new election on its next timeout', () => {
    const net = cluster(3, { config: RAW });
    const e = net.peer('a').config.electionTicks;
    net.isolate('a');
    net.tickUntil(() => net.status('a').role === 'candidate', 2 * e, { only: ['a'] });
    expect(net.status('a').term).toBe(1);
    net.tickUntil(() => net.status('a').term === 2, 2 * e, { only: ['a'] });
    expect(net.status('a').role).toBe('candidate');
    // It voted for itself in each of its terms.
    expect(net.peer('a').storage.hardState).toMatchObject({ term: 2, vote: 'a' });
  });

  it('a candidate that gets a majority becomes leader in one round and the others follow it', () => {
    const net = cluster(5, { config: RAW });
    net.elect('c');
    for (const id of net.ids) {
      expect(net.status(id).term).toBe(1);
      expect(net.status(id).leader).toBe('c');
    }
    expect(net.leaders()).toEqual(['c']);
  });

  it('a candidate rejected by a majority falls back to follower', () => {
    // b and c hold a longer log of term 2: a (log of term 1) cannot win.
    const net = new Network({
      voters: ['a', 'b', 'c'],
      config: RAW,
      initial: {
        a: persistedLog([1], ABC, { term: 2 }),
        b: persistedLog([1, 2], ABC, { term: 2 }),
        c: persistedLog([1, 2], ABC, { term: 2 }),
      },
    });
    expect(net.campaign('a')).toBe(false);
    expect(net.status('a').role).toBe('follower');
    expect(net.status('a').term).toBe(3);
  });

  it('a leader sends heartbeats to every follower each heartbeat interval', () => {
    const net = cluster(3, { config: { ...RAW, heartbeatTicks: 2 } });
    net.elect('a');
    net.tick('a');
    expect(net.collect('a').filter(isType('heartbeat'))).toHaveLength(0);
    net.tick('a');
    const hbs = net.collect('a').filter(isType('heartbeat'));
    expect(hbs.map((m) => m.to).sort()).toEqual(['b', 'c']);
    for (const m of hbs) expect(m.term).toBe(1);
  });

  it('a stable leader keeps its term while its heartbeats arrive', () => {
    const net = cluster(5);
    net.elect('a');
    net.tickAll(20 * net.peer('a').config.electionTicks);
    expect(net.leaders()).toEqual(['a']);
    for (const id of net.ids) expect(net.status(id).term).toBe(1);
  });
});

describe('term rules', () => {
  type Setup = 'follower' | 'candidate' | 'leader';
  type Kind = 'heartbeat' | 'app' | 'appResp' | 'vote';

  /** A 3-node cluster with `a` in the given role at term 1, a's pending output discarded. */
  function setup(role: Setup): Network {
    const net = cluster(3, { config: RAW });
    if (role === 'follower') net.elect('b');
    if (role === 'leader') net.elect('a');
    if (role === 'candidate') {
      net.node('a').campaign();
      net.collect('a');
    }
    expect(net.status('a').role).toBe(role);
    expect(net.status('a').term).toBe(1);
    return net;
  }

  function higher(kind: Kind, net: Network): Message {
    const last = net.status('a').lastIndex;
    switch (kind) {
      case 'heartbeat':
        return msg.heartbeat('c', 'a', 5);
      case 'app':
        return msg.app('c', 'a', 5, 0, 0, [], 0);
      case 'appResp':
        return msg.appResp('c', 'a', 5, 0);
      case 'vote':
        return msg.vote('c', 'a', 5, last + 5, 4);
    }
  }

  const roles: Setup[] = ['follower', 'candidate', 'leader'];
  const kinds: Kind[] = ['heartbeat', 'app', 'appResp', 'vote'];
  for (const role of roles) {
    for (const kind of kinds) {
      it(`a ${role} that receives ${kind === 'heartbeat' || kind === 'vote' ? 'a' : 'an'} ${kind} of a higher term adopts the term and becomes a follower`, () => {
        const net = setup(role);
        net.node('a').receive(higher(kind, net));
        const s = net.status('a');
        expect(s.role).toBe('follower');
        expect(s.term).toBe(5);
        if (kind === 'heartbeat' || kind === 'app') expect(s.leader).toBe('c');
        net.collect('a');
        expect(net.peer('a').storage.hardState.term).toBe(5);
      });
    }
  }

  it('a candidate concedes to a leader of its own term', () => {
    const net = cluster(3, { config: RAW });
    net.node('a').campaign();
    net.collect('a');
    net.node('a').receive(msg.heartbeat('b', 'a', 1));
    expect(net.status('a')).toMatchObject({ role: 'follower', term: 1, leader: 'b' });
  });

  it('a pre-candidate concedes to a leader of its term', () => {
    const net = cluster(3, { config: { preVote: true, checkQuorum: false } });
    net.elect('b');
    net.node('a').campaign();
    expect(net.status('a').role).toBe('precandidate');
    net.collect('a');
    net.node('a').receive(msg.app('b', 'a', 1, 1, 1, [], 1));
    expect(net.status('a')).toMatchObject({ role: 'follower', term: 1, leader: 'b' });
  });
});

describe('voting', () => {
  // The voter's log is [1, 1] (case A) or [1, 2] (case B); its term is 2; the request is for term 3.
  const cases: { log: number[]; lastIndex: number; lastTerm: number; grant: boolean; why: string }[] = [
    { log: [1, 1], lastIndex: 2, lastTerm: 1, grant: true, why: 'equal logs' },
    { log: [1, 1], lastIndex: 1, lastTerm: 1, grant: false, why: 'same last term, shorter' },
    { log: [1, 1], lastIndex: 3, lastTerm: 1, grant: true, why: 'same last term, longer' },
    { log: [1, 1], lastIndex: 1, lastTerm: 2, grant: true, why: 'higher last term, shorter' },
    { log: [1, 2], lastIndex: 1, lastTerm: 1, grant: false, why: 'lower last term, shorter' },
    { log: [1, 2], lastIndex: 3, lastTerm: 1, grant: false, why: 'lower last term, longer' },
    { log: [1, 2], lastIndex: 2, lastTerm: 2, grant: true, why: 'equal logs of term 2' },
    { log: [1, 2], lastIndex: 1, lastTerm: 2, grant: false, why: 'same last term 2, shorter' },
  ];
  for (const c of cases) {
    it(`a vote is ${c.grant ? 'granted' : 'refused'} to a candidate whose log is ${c.why}`, () => {
      const net = new Network({ voters: ['a', 'b', 'c'], config: RAW, initial: { b: persistedLog(c.log, ABC, { term: 2 }) } });
      net.node('b').receive(msg.vote('a', 'b', 3, c.lastIndex, c.lastTerm));
      const resp = votesIn(net.collect('b'));
      expect(resp).toHaveLength(1);
      expect(resp[0]).toMatchObject({ to: 'a', term: 3, reject: !c.grant, pre: false });
      expect(net.peer('b').storage.hardState).toMatchObject({ term: 3, vote: c.grant ? 'a' : null });
    });
  }

  it('a node grants at most one vote per term', () => {
    const net = cluster(3, { config: RAW });
    net.node('b').receive(msg.vote('a', 'b', 1, 0, 0));
    net.node('b').receive(msg.vote('c', 'b', 1, 0, 0));
    const resp = votesIn(net.collect('b'));
    expect(resp.map((m) => [m.to, m.reject])).toEqual([
      ['a', false],
      ['c', true],
    ]);
    expect(net.peer('b').storage.hardState).toMatchObject({ term: 1, vote: 'a' });
  });

  it('a vote in a new term is free again', () => {
    const net = cluster(3, { config: RAW });
    net.node('b').receive(msg.vote('a', 'b', 1, 0, 0));
    net.node('b').receive(msg.vote('c', 'b', 2, 0, 0));
    const resp = votesIn(net.collect('b'));
    expect(resp.map((m) => [m.to, m.term, m.reject])).toEqual([
      ['a', 1, false],
      ['c', 2, false],
    ]);
  });

  it("a pre-vote is granted without changing the voter's term or vote", () => {
    const net = cluster(3, { config: { preVote: true, checkQuorum: false } });
    net.node('b').receive(msg.vote('a', 'b', 1, 0, 0, { pre: true }));
    const resp = votesIn(net.collect('b'));
    expect(resp).toHaveLength(1);
    expect(resp[0]).toMatchObject({ pre: true, reject: false, term: 1 });
    expect(net.status('b').term).toBe(0);
    expect(net.peer('b').storage.hardState.vote).toBeNull();
  });
});

describe('split votes and dueling candidates', () => {
  it('a split vote is resolved by a later election', () => {
    // Four voters: a gets b, c gets d; neither reaches 3 of 4.
    const net = new Network({ voters: ['a', 'b', 'c', 'd'], config: RAW, seed: 5 });
    net.cut('a', 'd');
    net.cut('c', 'b');
    net.cut('a', 'c');
    net.node('a').campaign();
    net.node('c').campaign();
    net.stabilize();
    expect(net.status('a').role).toBe('candidate');
    expect(net.status('c').role).toBe('candidate');
    expect(net.leaders()).toEqual([]);
    net.heal();
    const leader = net.tickUntilLeader(20 * net.peer('a').config.electionTicks);
    net.tickAll(3);
    expect(net.status(leader).term).toBeGreaterThan(1);
    for (const id of net.ids) expect(net.status(id).leader).toBe(leader);
  });

  it('dueling candidates without PreVote: the loser disrupts, then the cluster settles with one log', () => {
    const net = cluster(3, { config: RAW, seed: 3 });
    net.cut('a', 'c');
    net.elect('a');
    // c campaigns too: b already voted for a in term 1 and has a longer log.
    expect(net.campaign('c')).toBe(false);
    expect(net.status('c')).toMatchObject({ role: 'candidate', term: 1 });
    net.heal();
    // c campaigns again, for term 2: it cannot win (its log is behind) but it deposes a.
    expect(net.campaign('c')).toBe(false);
    expect(net.status('a')).toMatchObject({ role: 'follower', term: 2 });
    expect(net.status('c')).toMatchObject({ role: 'follower', term: 2 });
    const leader = net.tickUntilLeader(40 * net.peer('a').config.electionTicks);
    expect(leader === 'a' || leader === 'b').toBe(true);
    expect(net.propose(leader, 'x').ok).toBe(true);
    net.stabilize();
    net.tickAll(3);
    for (const id of net.ids) {
      expect(net.items(id)).toEqual(['x']);
      expect(net.logTerms(id)).toEqual(net.logTerms(leader));
    }
  });

  it('dueling pre-candidates: with PreVote the loser leaves the leader and its term alone', () => {
    const net = cluster(3, { config: { preVote: true, checkQuorum: false }, seed: 3 });
    net.cut('a', 'c');
    net.elect('a');
    expect(net.campaign('c')).toBe(false);
    expect(net.status('c').term).toBe(1);
    net.heal();
    expect(net.campaign('c')).toBe(false);
    expect(net.status('c').term).toBe(1);
    net.tickAll(5 * net.peer('a').config.electionTicks);
    expect(net.leaders()).toEqual(['a']);
    for (const id of net.ids) expect(net.status(id).term).toBe(1);
  });

  it('CheckQuorum frees a candidate stuck in a higher term', () => {
    const net = cluster(3, { config: { preVote: false, checkQuorum: true }, seed: 11 });
    const e = net.peer('a').config.electionTicks;
    net.elect('a');
    net.isolate('c');
    net.tickAll(4 * e);
    expect(net.status('c').role).toBe('candidate');
    expect(net.status('c').term).toBeGreaterThan(1);
    net.heal();
    // The leaders' followers ignore c's campaigns while they hear from a, but a learns c's term from
    // its answer to a heartbeat, steps down, and a new election (in which everyone takes part) settles it.
    net.tickUntil(() => {
      const l = net.leader();
      return l !== null && net.ids.every((id) => net.status(id).leader === l && net.status(id).term === net.status(l).term);
    }, 40 * e);
    expect(net.leaders()).toHaveLength(1);
  });
});

describe('CheckQuorum leases', () => {
  it('followers that recently heard from the leader ignore a disruptive vote request', () => {
    const net = cluster(3, { config: { preVote: false, checkQuorum: true } });
    net.elect('a');
    // c campaigns right after a heartbeat round: a and b are inside their leader lease.
    net.node('c').campaign();
    net.stabilize();
    expect(net.leader()).toBe('a');
    expect(net.status('a').term).toBe(1);
    expect(net.status('b').term).toBe(1);
  });

  it('the lease does not apply to a campaign by the transferee its leader announced', () => {
    const net = cluster(3, { config: { preVote: false, checkQuorum: true } });
    net.elect('a');
    const last = net.status('c').lastIndex;
    // Unannounced, a transfer flag is just a claim: refused, with the leader's name, term unmoved.
    net.node('b').receive(msg.vote('c', 'b', 2, last, 1, { transfer: true }));
    expect(votesIn(net.collect('b'))).toEqual([expect.objectContaining({ reject: true, leader: 'a' })]);
    expect(net.status('b').term).toBe(1);
    // The leader announces the transfer in its heartbeats; b lets c's campaign through.
    net.node('a').transferLeadership('c');
    for (const m of net.collect('a')) if (m.to === 'b') net.deliver(m);
    net.collect('b');
    net.node('b').receive(msg.vote('c', 'b', 2, last, 1, { transfer: true }));
    const resp = votesIn(net.collect('b'));
    expect(resp).toHaveLength(1);
    expect(resp[0]).toMatchObject({ reject: false, term: 2 });
  });

  it('a leadership transfer completes through the voters leases', () => {
    const net = cluster(3, { config: { preVote: true, checkQuorum: true } });
    net.elect('a');
    net.tickAll(2);
    expect(net.node('a').transferLeadership('b')).toBe(true);
    net.stabilize();
    net.tickAll(2);
    expect(net.leader()).toBe('b');
  });
});
