// A member cut off while the membership changed must find the leader again, however its stale
// view differs from the cluster's (a learner at a stale term asking for the leader, a demoted
// voter still campaigning): the simulator's wipe and lost-disk demotions run into both.
import { describe, expect, it } from 'vitest';
import { defaultRaftConfig } from '../../src/raft/types.js';
import { Network } from './harness.js';

const config = { preVote: true, checkQuorum: true };

/**
 * While `cut` is isolated, x joins and is promoted (and `cut` demoted when `demote`), leadership
 * moves to x and x commits a write; then the network heals and `cut` must catch up with it.
 */
function changeWhileCutOff(net: Network, cut: string, opts: { demote?: boolean } = {}): void {
  net.elect('a');
  net.isolate(cut);
  net.proposeConfChange('a', { type: 'addLearner', node: 'x' });
  net.stabilize();
  net.proposeConfChange('a', { type: 'addVoter', node: 'x' });
  net.stabilize();
  if (opts.demote) {
    net.proposeConfChange('a', { type: 'addLearner', node: cut });
    net.stabilize();
  }
  net.tickAll(2);
  net.node('a').transferLeadership('x');
  net.stabilize();
  net.tickAll(3);
  expect(net.leader()).toBe('x');
  net.propose('x', `while ${cut} was away`);
  net.stabilize();
  net.heal();
  net.tickUntil(() => net.items(cut).includes(`while ${cut} was away`), 50 * defaultRaftConfig.electionTicks);
}

describe('a member that missed a membership change', () => {
  it('a learner at a stale term learns the new leader from the voters it knows', () => {
    const net = new Network({ voters: ['a', 'b', 'c'], learners: ['l'], others: ['x'], config });
    changeWhileCutOff(net, 'l');
    expect(net.status('l').membership.conf.voters).toContain('x');
  });

  it('a voter that missed a promotion learns the new leader from a vote rejection of a voter it knows', () => {
    const net = new Network({ voters: ['a', 'b', 'c', 'd'], others: ['x'], config });
    changeWhileCutOff(net, 'd');
    expect(net.status('d').membership.conf.voters).toContain('x');
  });

  it('a voter demoted while cut off, campaigning to voters that call it a learner, is told the leader', () => {
    const net = new Network({ voters: ['a', 'b', 'c', 'd'], others: ['x'], config });
    changeWhileCutOff(net, 'd', { demote: true });
    expect(net.status('d').membership.conf.learners).toContain('d');
    expect(net.status('d').role).toBe('follower');
  });

  it('a node removed while cut off, its term inflated by lone campaigns, rejoins once added back (no PreVote, no CheckQuorum)', () => {
    const net = new Network({ voters: ['a', 'b', 'c', 'd'], config: { preVote: false, checkQuorum: false } });
    net.elect('a');
    net.isolate('d');
    net.tickAll(30 * defaultRaftConfig.electionTicks, { only: ['d'] });
    expect(net.status('d').term).toBeGreaterThan(net.status('a').term);
    net.proposeConfChange('a', { type: 'remove', node: 'd' });
    net.stabilize();
    net.proposeConfChange('a', { type: 'addLearner', node: 'd' });
    net.stabilize();
    net.propose('a', 'after d came back');
    net.stabilize();
    net.heal();
    net.tickUntil(() => net.items('d').includes('after d came back'), 50 * defaultRaftConfig.electionTicks);
    expect(net.status('d').membership.conf.learners).toContain('d');
  });

  it('a voter that missed a change and campaigns at a lower term than the cluster (no PreVote) is told the leader', () => {
    const net = new Network({ voters: ['a', 'b', 'c', 'd'], others: ['x'], config: { preVote: false, checkQuorum: true } });
    net.elect('a');
    net.isolate('d');
    net.tickAll(3 * defaultRaftConfig.electionTicks, { only: ['d'] });
    net.proposeConfChange('a', { type: 'addLearner', node: 'x' });
    net.stabilize();
    net.proposeConfChange('a', { type: 'addVoter', node: 'x' });
    net.stabilize();
    // Many elections while d is away: the cluster's term runs far ahead of d's.
    const order = ['a', 'b', 'c'];
    for (let k = 0; k < 30; k++) {
      net.tickAll(2);
      net.node(order[k % 3] as string).transferLeadership(order[(k + 1) % 3] as string);
      net.stabilize();
    }
    net.tickAll(2);
    net.node('a').transferLeadership('x');
    net.stabilize();
    expect(net.leader()).toBe('x');
    expect(net.status('x').term).toBeGreaterThan(net.status('d').term + 20);
    net.propose('x', 'while d was away');
    net.stabilize();
    net.heal();
    // Not by campaigning past the cluster's term (twenty election timeouts and more): the first refusal names the leader.
    net.tickUntil(() => net.items('d').includes('while d was away'), 5 * defaultRaftConfig.electionTicks);
    expect(net.status('d').membership.conf.voters).toContain('x');
  });
});
