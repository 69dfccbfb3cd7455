// Membership: learners, single-server changes effective when applied, one at a time (thesis ch. 4).
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/raft/types.js';
import { Network, cluster, msg } from './harness.js';

const RAW = { preVote: false, checkQuorum: false } as const;

const sorted = (xs: readonly NodeId[]): NodeId[] => xs.slice().sort();

function confOf(net: Network, id: NodeId): { voters: NodeId[]; learners: NodeId[] } {
  const c = net.status(id).membership.conf;
  return { voters: sorted(c.voters), learners: sorted(c.learners) };
}

describe('learners', () => {
  it('a learner receives and applies the log', () => {
    const net = new Network({ voters: ['a', 'b', 'c'], learners: ['d'] });
    net.elect('a');
    net.propose('a', 'x');
    net.stabilize();
    expect(net.items('d')).toEqual(['x']);
    expect(net.status('d').isLearner).toBe(true);
  });

  it('a learner never campaigns, whatever happens', () => {
    const net = new Network({ voters: ['a', 'b', 'c'], learners: ['d'] });
    net.isolate('d');
    net.tickAll(10 * net.peer('d').config.electionTicks, { only: ['d'] });
    net.node('d').campaign();
    net.stabilize();
    expect(net.status('d')).toMatchObject({ role: 'follower', term: 0 });
    // All it sends is the question which leader the voters follow: no vote request.
    const sent = net.sent.filter((m) => m.from === 'd');
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((m) => m.type === 'readIndex' && m.ctx === '')).toBe(true);
  });

  it("a learner's vote never counts toward an election", () => {
    const net = new Network({ voters: ['a', 'b', 'c'], learners: ['d', 'e'], config: RAW });
    net.crash('b');
    net.crash('c');
    net.node('a').campaign();
    net.collect('a');
    // Even if the learners' grants reach the candidate, a and two learners are not a majority of voters.
    net.node('a').receive(msg.voteResp('d', 'a', 1, false));
    net.node('a').receive(msg.voteResp('e', 'a', 1, false));
    net.collect('a');
    expect(net.status('a').role).toBe('candidate');
  });

  it('candidates do not ask learners for votes', () => {
    const net = new Network({ voters: ['a', 'b', 'c'], learners: ['d'] });
    net.elect('a');
    expect(net.sent.filter((m) => m.type === 'vote' && m.to === 'd')).toEqual([]);
  });

  it("learners' acknowledgements do not count toward commit", () => {
    // With two learners, a + d + e would be a majority of all five members: it must not matter.
    const net = new Network({ voters: ['a', 'b', 'c'], learners: ['d', 'e'], config: RAW });
    net.elect('a');
    // The appends to b and c are delayed; only the learner acknowledges.
    const held = net.hold((m) => m.type === 'app' && (m.to === 'b' || m.to === 'c'));
    net.propose('a', 'x');
    net.stabilize();
    expect(net.entryAt('d', 2)?.term).toBe(1);
    expect(net.status('a').progress?.get('d')?.match).toBe(2);
    expect(net.status('a').progress?.get('e')?.match).toBe(2);
    expect(net.status('a').commit).toBe(1);
    expect(net.items('a')).toEqual([]);
    held.release();
    net.stabilize();
    net.tickAll(2);
    for (const id of net.ids) expect(net.items(id)).toEqual(['x']);
  });
});

describe('membership changes', () => {
  it('a learner is added, receives the log, and is then promoted to voter', () => {
    const net = new Network({ voters: ['a', 'b', 'c'], others: ['d'] });
    net.elect('a');
    net.propose('a', 'x');
    net.stabilize();
    expect(net.proposeConfChange('a', { type: 'addLearner', node: 'd' }).ok).toBe(true);
    // A change takes effect when applied, not when proposed.
    expect(confOf(net, 'a').learners).toEqual([]);
    net.stabilize();
    net.tickAll(3);
    for (const id of net.ids) expect(confOf(net, id)).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    expect(net.items('d')).toEqual(['x']);
    expect(net.status('d').isLearner).toBe(true);

    expect(net.proposeConfChange('a', { type: 'addVoter', node: 'd' }).ok).toBe(true);
    net.stabilize();
    net.tickAll(2);
    for (const id of net.ids) expect(confOf(net, id)).toEqual({ voters: ['a', 'b', 'c', 'd'], learners: [] });
    expect(net.status('d').isLearner).toBe(false);
    // The new voter can lead.
    expect(net.node('a').transferLeadership('d')).toBe(true);
    net.stabilize();
    net.tickAll(3);
    expect(net.leader()).toBe('d');
    net.propose('d', 'y');
    net.stabilize();
    for (const id of net.ids) expect(net.items(id)).toEqual(['x', 'y']);
  });

  it('a new voter counts toward the quorum as soon as the change is applied', () => {
    const net = new Network({ voters: ['a', 'b', 'c'], others: ['d'] });
    net.elect('a');
    net.proposeConfChange('a', { type: 'addVoter', node: 'd' });
    net.stabilize();
    net.tickAll(2);
    // Four voters: a alone with d would be 2 of 4; a, b, d are 3 of 4.
    net.crash('c');
    net.crash('b');
    net.propose('a', 'x');
    net.stabilize();
    expect(net.items('a')).toEqual([]);
    net.restart('b');
    net.tickAll(3);
    expect(net.items('a')).toEqual(['x']);
    expect(net.items('d')).toEqual(['x']);
  });

  it('only one membership change may be pending at a time', () => {
    const net = new Network({ voters: ['a', 'b', 'c'], others: ['d', 'e'] });
    net.elect('a');
    expect(net.proposeConfChange('a', { type: 'addLearner', node: 'd' }).ok).toBe(true);
    expect(net.proposeConfChange('a', { type: 'addLearner', node: 'e' })).toEqual({ ok: false, reason: 'conf-pending' });
    net.stabilize();
    expect(net.proposeConfChange('a', { type: 'addLearner', node: 'e' }).ok).toBe(true);
    net.stabilize();
    net.tickAll(2);
    for (const id of net.ids) expect(confOf(net, id).learners).toEqual(['d', 'e']);
  });

  it('a new leader cannot propose a membership change before it has applied its first entry', () => {
    const net = new Network({ voters: ['a', 'b', 'c'], others: ['d'], config: RAW });
    const held = net.hold((m) => m.type === 'app' && m.from === 'a');
    net.elect('a');
    expect(net.status('a').commit).toBe(0);
    expect(net.proposeConfChange('a', { type: 'addLearner', node: 'd' }).ok).toBe(false);
    held.release();
    net.stabilize();
    expect(net.status('a').applied).toBe(1);
    expect(net.proposeConfChange('a', { type: 'addLearner', node: 'd' }).ok).toBe(true);
  });

  it('removing the last voter is refused', () => {
    const net = new Network({ voters: ['a'] });
    net.elect('a');
    expect(net.proposeConfChange('a', { type: 'remove', node: 'a' })).toEqual({ ok: false, reason: 'invalid-conf' });
  });

  it('commit progresses after a dead voter is removed', () => {
    const build = (): Network => {
      const net = cluster(4);
      net.elect('a');
      net.crash('d');
      return net;
    };
    const net = build();
    expect(net.proposeConfChange('a', { type: 'remove', node: 'd' }).ok).toBe(true);
    net.stabilize();
    for (const id of ['a', 'b', 'c']) expect(confOf(net, id).voters).toEqual(['a', 'b', 'c']);
    net.crash('c');
    net.propose('a', 'y');
    net.stabilize();
    // a and b are a majority of {a, b, c}.
    expect(net.items('a')).toEqual(['y']);
    expect(net.items('b')).toEqual(['y']);

    // Control: without the removal, a and b are only 2 of 4 and nothing commits.
    const control = build();
    control.crash('c');
    control.propose('a', 'y');
    control.stabilize();
    expect(control.items('a')).toEqual([]);
  });

  it('a leader that removes itself steps down and the others carry on', () => {
    const net = cluster(3, { seed: 4 });
    net.elect('a');
    expect(net.proposeConfChange('a', { type: 'remove', node: 'a' }).ok).toBe(true);
    net.stabilize();
    expect(net.status('a').role).not.toBe('leader');
    net.crash('a');
    const leader = net.tickUntilLeader(300);
    expect(['b', 'c']).toContain(leader);
    expect(confOf(net, leader).voters).toEqual(['b', 'c']);
    net.propose(leader, 'z');
    net.stabilize();
    expect(net.items('b')).toEqual(['z']);
    expect(net.items('c')).toEqual(['z']);
  });

  it('a demoted voter is no longer asked for its vote and no longer campaigns', () => {
    const net = cluster(3, { config: RAW });
    net.elect('a');
    net.proposeConfChange('a', { type: 'addLearner', node: 'c' });
    net.stabilize();
    net.tickAll(2);
    expect(confOf(net, 'c')).toEqual({ voters: ['a', 'b'], learners: ['c'] });
    // With b down, a (voters {a, b}) cannot be re-elected with c's help.
    net.crash('b');
    net.crash('a');
    net.restart('a');
    net.stabilize(); // re-apply the log first: a node does not campaign with a membership change pending apply
    net.clearTrace();
    net.node('a').campaign();
    net.stabilize();
    expect(net.status('a').role).toBe('candidate');
    expect(net.sent.filter((m) => m.type === 'vote' && m.to === 'c')).toEqual([]);
    net.tickAll(5 * net.peer('c').config.electionTicks, { only: ['c'] });
    expect(net.status('c').role).toBe('follower');
    expect(net.sent.filter((m) => m.type === 'vote' && m.from === 'c')).toEqual([]);
  });

  it('a learner promoted while it was cut off still votes, so the cluster survives the loss of one voter', () => {
    // Voters {a, b}, learner c. The promotion of c commits on a and b while c is cut off; then a
    // crashes. Under {a, b, c}, b and c are a majority and b's log is the more up to date: b must be
    // able to win with c's vote although c has not applied (or even received) its promotion yet.
    // (etcd-io/raft: TestLearnerCanVote — a learner answers vote requests; whether its vote counts
    // is up to the candidate's configuration.)
    const net = new Network({ voters: ['a', 'b'], learners: ['c'], seed: 3 });
    net.elect('a');
    net.isolate('c');
    expect(net.proposeConfChange('a', { type: 'addVoter', node: 'c' }).ok).toBe(true);
    net.stabilize();
    expect(confOf(net, 'b').voters).toEqual(['a', 'b', 'c']);
    expect(confOf(net, 'c').learners).toEqual(['c']);
    net.crash('a');
    net.heal();
    const leader = net.tickUntilLeader(30 * net.peer('b').config.electionTicks);
    expect(leader).toBe('b');
    net.tickAll(2);
    expect(confOf(net, 'c').voters).toEqual(['a', 'b', 'c']);
  });

  it('a node that applied its own removal still votes for a candidate that has not applied it yet', () => {
    // Voters {a, b}; b leads and removes itself. The message telling a that the removal committed is
    // lost, so a still runs on {a, b}: it can only be elected with b's vote, and only once elected
    // can it learn (commit and apply) that it is now alone. If b refuses because it is no longer a
    // voter in its own view, the cluster is stuck for good.
    const net = new Network({ voters: ['a', 'b'], config: RAW, seed: 6 });
    net.elect('b');
    const lost = net.dropIf((m) => m.type === 'app' && m.from === 'b' && m.to === 'a' && m.commit >= 2);
    expect(net.proposeConfChange('b', { type: 'remove', node: 'b' })).toMatchObject({ ok: true, index: 2 });
    net.stabilize();
    lost();
    expect(net.status('b').role).toBe('follower');
    expect(confOf(net, 'b').voters).toEqual(['a']);
    expect(confOf(net, 'a').voters).toEqual(['a', 'b']);
    const leader = net.tickUntilLeader(30 * net.peer('a').config.electionTicks);
    expect(leader).toBe('a');
    net.tickAll(2);
    expect(confOf(net, 'a').voters).toEqual(['a']);
  });

  it('a removed node that did not hear of its removal cannot disturb the cluster', () => {
    const net = cluster(3, { seed: 9 });
    net.elect('a');
    net.isolate('c');
    net.proposeConfChange('a', { type: 'remove', node: 'c' });
    net.stabilize();
    expect(confOf(net, 'a').voters).toEqual(['a', 'b']);
    expect(confOf(net, 'c').voters).toEqual(['a', 'b', 'c']);
    net.heal();
    net.tickAll(10 * net.peer('a').config.electionTicks);
    // c keeps campaigning, but a and b hear their leader and ignore it (CheckQuorum lease).
    expect(net.leader()).toBe('a');
    expect(net.status('a').term).toBe(1);
    expect(net.status('b').term).toBe(1);
  });

  it('a joining node accepts the log from a leader its own (stale) membership does not know yet', () => {
    const net = new Network({ voters: ['a', 'b', 'c'], others: ['d', 'e'] });
    net.elect('a');
    net.proposeConfChange('a', { type: 'addLearner', node: 'd' });
    net.stabilize();
    net.proposeConfChange('a', { type: 'addVoter', node: 'd' });
    net.stabilize();
    net.tickAll(2);
    net.node('a').transferLeadership('d');
    net.stabilize();
    net.tickAll(3);
    expect(net.leader()).toBe('d');
    // e starts from the bootstrap membership {a, b, c}: d is a stranger to it until it applies the log.
    expect(confOf(net, 'e').voters).toEqual(['a', 'b', 'c']);
    net.tickAll(3);
    expect(net.proposeConfChange('d', { type: 'addLearner', node: 'e' }).ok).toBe(true);
    net.propose('d', 'x');
    net.stabilize();
    net.tickAll(3);
    expect(net.items('e')).toEqual(['x']);
    expect(confOf(net, 'e')).toEqual({ voters: ['a', 'b', 'c', 'd'], learners: ['e'] });
  });

  it('a snapshot carries the membership to a node that joins after compaction', () => {
    const net = new Network({ voters: ['a', 'b', 'c'], others: ['d', 'e'], config: { snapshotChunkBytes: 8 } });
    net.elect('a');
    net.proposeConfChange('a', { type: 'addLearner', node: 'd' });
    net.stabilize();
    for (let i = 0; i < 5; i++) net.propose('a', `x${i}`);
    net.stabilize();
    net.tickAll(2);
    for (const id of ['a', 'b', 'c', 'd']) net.compact(id);
    net.stabilize();
    net.proposeConfChange('a', { type: 'addLearner', node: 'e' });
    net.stabilize();
    net.tickAll(5);
    expect(net.node('e').stats.snapshotsInstalled).toBe(1);
    expect(net.items('e')).toEqual(['x0', 'x1', 'x2', 'x3', 'x4']);
    expect(confOf(net, 'e')).toEqual({ voters: ['a', 'b', 'c'], learners: ['d', 'e'] });
  });
});
