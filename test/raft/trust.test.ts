// The trust boundary in the Raft core: only members are heard, only voters campaign or lead,
// every entry names the member that proposed it, numbers are bounded, and cluster time follows
// the voters' median clock.
import { describe, expect, it } from 'vitest';
import { ClusterClock } from '../../src/raft/cluster-clock.js';
import { encodeConfChange } from '../../src/raft/codec.js';
import { RaftNode } from '../../src/raft/raft.js';
import { SeededRng } from '../../src/raft/rng.js';
import { defaultRaftConfig, type Entry } from '../../src/raft/types.js';
import { MemStorage, Network, cluster, msg } from './harness.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const HOUR = 3_600_000;

function injected(index: number, term: number, data = 'touch /tmp/pwned'): Entry {
  return { index, term, type: 'normal', time: 0, proposer: 'mallory', data: bytes(data) };
}

describe('only members are heard', () => {
  it('drops an append from a non-member, whatever it carries', () => {
    const net = cluster(3);
    net.elect('a');
    const b = net.node('b');
    const before = net.status('b');
    b.receive(
      msg.app(
        'mallory',
        'b',
        before.term + 5,
        before.lastIndex,
        before.term,
        [injected(before.lastIndex + 1, before.term + 5)],
        before.lastIndex + 1,
      ),
    );
    net.stabilize();
    expect(b.stats.droppedUnknownNode).toBe(1);
    expect(net.status('b').term).toBe(before.term);
    expect(net.items('b')).not.toContain('touch /tmp/pwned');
  });

  it('refuses terms past MAX_TERM as malformed, and a huge term from a stranger moves nothing', () => {
    const net = cluster(3);
    net.elect('a');
    for (const term of [Number.MAX_SAFE_INTEGER, 2 ** 40]) {
      net.node('b').receive(msg.vote('c', 'b', term, 100, 1));
    }
    expect(net.node('b').stats.droppedMalformed).toBe(2);
    net.node('b').receive(msg.vote('mallory', 'b', 50, 100, 1, { transfer: true }));
    expect(net.node('b').stats.droppedUnknownNode).toBe(1);
    net.tickAll(30);
    expect(net.leader()).toBe('a');
    for (const id of net.ids) expect(net.status(id).term).toBe(1);
  });

  it('ignores a vote request from a learner, answering only with the leader it follows', () => {
    const net = cluster(3, { learners: ['l'] });
    net.elect('a');
    net.node('b').receive(msg.vote('l', 'b', 9, 100, 1));
    // A learner that campaigns missed its demotion: the rejection names the leader (missed-change.test.ts).
    expect(net.collect('b')).toEqual([{ type: 'voteResp', from: 'b', to: 'l', term: 1, pre: false, reject: true, leader: 'a' }]);
    expect(net.status('b').term).toBe(1);
    expect(net.node('b').stats.droppedUnknownNode).toBe(1);
  });

  it('a node outside its own configuration hears only its introducers', () => {
    const node = new RaftNode({ ...defaultRaftConfig, id: 'n', rng: new SeededRng(3) }, null);
    const entry: Entry = { index: 1, term: 1, type: 'normal', time: 5, proposer: 'a', data: bytes('x') };
    node.step(msg.app('a', 'n', 1, 0, 0, [entry], 0));
    expect(node.stats.droppedUnknownNode).toBe(1);
    expect(node.status().lastIndex).toBe(0);
    node.admitIntroducers(['a', 'b']);
    node.step(msg.app('a', 'n', 1, 0, 0, [entry], 0));
    expect(node.status().lastIndex).toBe(1);
    // An introducer is a way in, not a membership: answers from others are still dropped.
    node.step(msg.voteResp('z', 'n', 1, false));
    expect(node.stats.droppedUnknownNode).toBe(2);
  });

  it('a follower refuses leader traffic from a second voter claiming the same term', () => {
    const net = cluster(3);
    net.elect('a');
    const b = net.node('b');
    b.receive(msg.heartbeat('c', 'b', 1, 0));
    expect(b.stats.droppedRivalLeader).toBe(1);
    expect(net.status('b').leader).toBe('a');
  });

  it('refuses a snapshot larger than maxSnapshotBytes', () => {
    const net = cluster(3, { config: { maxSnapshotBytes: 1000 } });
    net.elect('a');
    const meta = { index: 50, term: 1, conf: { voters: ['a', 'b', 'c'], learners: [] } };
    net.node('b').receive({ type: 'snap', from: 'a', to: 'b', term: 1, meta, offset: 0, total: 2 ** 40, chunk: new Uint8Array(10) });
    expect(net.node('b').stats.refusedSnapshots).toBe(1);
  });
});

describe('every entry names its proposer', () => {
  it('the leader stamps its own proposals with itself and forwarded ones with the forwarder', () => {
    const net = cluster(3, { learners: ['l'] });
    net.elect('a');
    net.propose('a', 'own');
    net.propose('l', 'forwarded');
    net.stabilize();
    const byData = new Map(net.log('c').map((e) => [new TextDecoder().decode(e.data), e.proposer]));
    expect(byData.get('own')).toBe('a');
    expect(byData.get('forwarded')).toBe('l');
  });

  it('refuses membership changes forwarded by a member, and a follower will not forward one', () => {
    const net = cluster(3, { learners: ['l'] });
    net.elect('a');
    const before = net.status('a').membership;
    net.node('a').receive({
      type: 'prop',
      from: 'l',
      to: 'a',
      term: 1,
      entries: [{ type: 'conf', data: encodeConfChange({ type: 'addVoter', node: 'l' }) }],
    });
    net.stabilize();
    expect(net.node('a').stats.refusedForwardedConf).toBe(1);
    expect(net.status('a').membership).toEqual(before);
    expect(net.proposeConfChange('b', { type: 'remove', node: 'c' })).toEqual({ ok: false, reason: 'not-leader' });
  });

  it('applies a conf entry only when its proposer is a voter', () => {
    const conf = { voters: ['a', 'b', 'c'], learners: ['l'] };
    const cc = (node: string, proposer: string, index: number): Entry => ({
      index,
      term: 1,
      type: 'conf',
      time: 0,
      proposer,
      data: encodeConfChange({ type: 'addVoter', node }),
    });
    const initial = {
      hardState: { term: 1, vote: null, commit: 2 },
      membership: { conf, index: 0 },
      snapshot: null,
      entries: [cc('l', 'l', 1), cc('d', 'a', 2)],
    };
    const net = new Network({ voters: conf.voters, learners: conf.learners, initial: { b: initial } });
    expect(net.processReady('b')).toBe(true);
    expect(net.status('b').membership.conf).toEqual({ voters: ['a', 'b', 'c', 'd'], learners: ['l'] });
  });
});

describe('a node that joins replays the configuration from the log', () => {
  it('learns the founder from its recorded seat, and every later change from voters only', () => {
    // x joins with nothing: no configuration, only its introducer a.
    const net = new Network({ voters: ['a'], joiners: ['x'] });
    net.elect('a');
    net.tickAll(1);
    expect(net.proposeConfChange('a', { type: 'addVoter', node: 'a' }).ok).toBe(true); // the founding seat, as node.ts records it
    net.stabilize();
    expect(net.proposeConfChange('a', { type: 'addLearner', node: 'x' }).ok).toBe(true);
    net.stabilize();
    net.tickAll(3);
    expect(net.status('x').membership.conf).toEqual({ voters: ['a'], learners: ['x'] });
    expect(net.status('x').commit).toBe(net.status('a').commit);
  });
});

describe('a lost disk', () => {
  /** `id` comes back with an empty disk: it no longer holds what it acknowledged. */
  const loseDisk = (net: Network, id: string): void => {
    net.crash(id);
    net.peer(id).storage = new MemStorage({
      hardState: { term: 0, vote: null, commit: 0 },
      membership: { conf: net.bootstrap, index: 0 },
      snapshot: null,
      entries: [],
    });
    net.restart(id);
  };

  it('a follower holding less than it acknowledged is reported and caught up again', () => {
    const net = cluster(3);
    net.elect('a');
    for (let i = 0; i < 5; i++) net.propose('a', `v${i}`);
    net.stabilize();
    loseDisk(net, 'b');
    net.propose('a', 'after');
    net.stabilize();
    net.tickAll(3);
    expect(net.node('a').takeLostAcknowledged()).toEqual(['b']);
    expect(net.items('b')).toEqual(net.items('a'));
  });

  it('a follower that does not echo the probe (an older meshrun) is re-probed a few times a round, and confirmed by rejecting on', () => {
    const net = cluster(3);
    net.elect('a');
    for (let i = 0; i < 5; i++) net.propose('a', `v${i}`);
    net.stabilize();
    // b's answers lose their probe number, as an older follower's would.
    net.intercept((m) => (m.type === 'appResp' && m.from === 'b' && m.probe !== undefined ? { ...m, probe: undefined } : m));
    let probes = 0;
    net.intercept((m) => {
      if (m.type === 'app' && m.to === 'b' && m.probe !== undefined) probes++;
      return m;
    });
    loseDisk(net, 'b');
    net.propose('a', 'after');
    net.stabilize();
    expect(probes).toBeGreaterThan(0);
    expect(probes).toBeLessThanOrEqual(3);
    net.tickAll(6);
    expect(net.node('a').takeLostAcknowledged()).toEqual(['b']);
    expect(net.items('b')).toEqual(net.items('a'));
  });

  it('a rejection delayed and duplicated past later acknowledgements does not pass for a lost disk', () => {
    const net = cluster(3);
    net.elect('a');
    for (let i = 0; i < 3; i++) net.propose('a', `v${i}`);
    net.stabilize();
    const last = net.status('a').lastIndex;
    const term = net.status('a').term;
    expect(net.status('b').lastIndex).toBe(last);
    // What b would have answered, back when it held only up to last - 2, to an append from `last`;
    // the network delayed it past b's acknowledgement of `last`, and duplicated it.
    const stale = msg.appResp('b', 'a', term, last, { reject: true, hintIndex: last - 2, hintTerm: term });
    // The first copy sets off a numbered re-probe; the second does not echo that number, so it
    // must not confirm a loss (it did when any second rejection confirmed it).
    net.deliver(stale);
    net.deliver(stale);
    net.stabilize();
    net.tickAll(3);
    expect(net.node('a').takeLostAcknowledged()).toEqual([]);
    expect(net.items('b')).toEqual(net.items('a'));
    expect(net.status('b').lastIndex).toBe(last);
  });
});

describe('cluster time', () => {
  it('an hour ahead or behind on the leader does not move the stamps', () => {
    const net = cluster(3, { config: { tickMs: 10 } });
    net.elect('a');
    net.tickAll(3);
    const now = net.now;
    net.setClock('a', now + HOUR);
    net.propose('a', 'ahead');
    net.setClock('a', now - HOUR);
    net.propose('a', 'behind');
    net.stabilize();
    const times = net
      .log('b')
      .slice(-2)
      .map((e) => e.time);
    for (const t of times) expect(Math.abs(t - now)).toBeLessThan(1000);
  });

  it('the median of the voters decides: one liar among three, ahead or behind, changes nothing', () => {
    const clock = new ClusterClock(50, 10);
    const voters = ['a', 'b', 'c'];
    clock.report('b', 10_000 + HOUR, 10_000);
    clock.report('c', 10_000, 10_000);
    expect(clock.stamp('a', 10_000, voters)).toBe(10_000);
    clock.tick();
    clock.report('b', 10_050 - HOUR, 10_050);
    clock.report('c', 10_050, 10_050);
    expect(clock.stamp('a', 10_060, voters)).toBe(10_060);
  });

  it('stands still until a quorum has reported, and never goes back', () => {
    const clock = new ClusterClock(50, 10);
    clock.floor(5_000);
    expect(clock.stamp('a', 9_000, ['a', 'b', 'c'])).toBe(5_000);
    clock.report('b', 9_000, 9_000);
    expect(clock.stamp('a', 9_000, ['a', 'b', 'c'])).toBe(9_000);
    clock.report('b', 1_000, 9_001);
    expect(clock.stamp('a', 1_000, ['a', 'b', 'c'])).toBe(9_000);
  });

  it('ages a report by the own clock, within what the ticks allow', () => {
    const clock = new ClusterClock(50, 10);
    clock.report('b', 1_000, 1_000);
    clock.report('c', 1_000, 1_000);
    clock.tick();
    // The leader's own clock jumped an hour: the reports age by at most two ticks.
    expect(clock.stamp('a', 1_000 + HOUR, ['a', 'b', 'c'])).toBe(1_100);
    // A report older than freshTicks no longer counts.
    for (let i = 0; i < 11; i++) clock.tick();
    expect(clock.stamp('a', 1_000 + HOUR, ['a', 'b', 'c'])).toBe(1_100);
  });
});

describe('a node that joined with nothing holds its vote until it has caught up', () => {
  it('neither campaigns nor votes before it has applied the index it was admitted at', () => {
    const net = new Network({ voters: ['a', 'w'], config: { electionTicks: 3 } });
    net.node('w').holdVotingUntil(10);
    net.tick('w', 20);
    expect(net.collect('w').filter((m) => m.type === 'vote')).toEqual([]);
    expect(net.status('w').role).toBe('follower');
    net.node('w').receive(msg.vote('a', 'w', 1, 0, 0));
    const sent = net.collect('w');
    expect(sent.filter((m) => m.type === 'vote')).toEqual([]);
    expect(sent.filter((m) => m.type === 'voteResp')).toEqual([expect.objectContaining({ reject: true })]);
  });
});
