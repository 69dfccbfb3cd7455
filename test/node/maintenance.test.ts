import { describe, expect, it } from 'vitest';
import { ClusterState } from '../../src/node/cluster-state.js';
import { ConfChanger } from '../../src/node/conf-changer.js';
import { RaftDriver } from '../../src/node/driver.js';
import { Maintenance } from '../../src/node/maintenance.js';
import { silentLogger } from '../../src/node/logger.js';
import { defaultMembershipPolicy } from '../../src/node/membership.js';
import { waitFor } from './wait.js';
import { RaftNode } from '../../src/raft/raft.js';
import { SeededRng } from '../../src/raft/rng.js';
import { defaultRaftConfig, type ConfState } from '../../src/raft/types.js';

function setup(conf: ConfState) {
  const raft = new RaftNode({ ...defaultRaftConfig, id: 'me', rng: new SeededRng(3), electionTicks: 10, heartbeatTicks: 2 }, null, conf);
  const state = new ClusterState();
  const driver = new RaftDriver({ raft, storage: { save: async () => undefined }, send: () => undefined, machine: state });
  let t = 0;
  const announced: (readonly string[])[] = [];
  const m = new Maintenance(
    {
      driver,
      state,
      conf: new ConfChanger(driver),
      log: silentLogger(),
      lastHeard: new Map(),
      clock: { now: () => t, after: () => ({ cancel: () => undefined }) },
      selfAddrs: () => ['/new/p2p/me'],
      announce: async (addrs) => {
        announced.push(addrs);
        return true;
      },
    },
    { policy: { ...defaultMembershipPolicy, targetVoters: 3 }, periodMs: 1000 },
  );
  return { raft, state, driver, m, announced, at: (ms: number) => (t = ms) };
}

describe("Maintenance: keeping this node's address current", () => {
  it('a leader publishes its address through the log', async () => {
    const { raft, state, driver, m } = setup({ voters: ['me'], learners: [] });
    driver.start(50);
    raft.campaign();
    driver.kick();
    expect(await waitFor(() => raft.status().role === 'leader' && raft.status().applied >= 1, 2000)).toBe(true);
    m.round();
    expect(await waitFor(() => state.addressesOf('me')?.[0] === '/new/p2p/me', 2000)).toBe(true);
    driver.stop();
  });

  it('without a leader, announces a stale address through the members, after a grace period, at most every 5 s', () => {
    const { m, announced, at } = setup({ voters: ['me', 'other'], learners: [] });
    at(0);
    m.round();
    at(1500);
    m.round();
    expect(announced).toEqual([]);
    at(2100);
    m.round();
    expect(announced).toEqual([['/new/p2p/me']]);
    at(5000);
    m.round();
    expect(announced).toHaveLength(1);
    at(7200);
    m.round();
    expect(announced).toHaveLength(2);
  });

  it('a node that is not a member announces nothing', () => {
    const { m, announced, at } = setup({ voters: ['other'], learners: [] });
    at(0);
    m.round();
    at(10_000);
    m.round();
    expect(announced).toEqual([]);
  });
});
