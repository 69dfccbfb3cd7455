import { describe, expect, it } from 'vitest';
import type { JoinRequest, JoinResponse } from '../../src/net/types.js';
import { ClusterState } from '../../src/node/cluster-state.js';
import { ConfChanger } from '../../src/node/conf-changer.js';
import { RaftDriver } from '../../src/node/driver.js';
import { createJoinHandler } from '../../src/node/join-handler.js';
import { joinCluster, JoinError } from '../../src/node/join-client.js';
import { leaveCluster } from '../../src/node/leave.js';
import { silentLogger } from '../../src/node/logger.js';
import { waitFor } from '../../src/node/wait.js';
import { RaftNode } from '../../src/raft/raft.js';
import { SeededRng } from '../../src/raft/rng.js';
import { defaultRaftConfig } from '../../src/raft/types.js';

const log = silentLogger();
const req: JoinRequest = { id: 'joiner', addrs: ['/ip4/127.0.0.1/tcp/5/p2p/joiner'] };

/** A single-voter leader with in-memory persistence and no network: enough for the admit path. */
async function soloLeader(id = 'leader') {
  const raft = new RaftNode({ ...defaultRaftConfig, id, rng: new SeededRng(1), electionTicks: 10, heartbeatTicks: 2 }, null, { voters: [id], learners: [] });
  const state = new ClusterState();
  const driver = new RaftDriver({ raft, storage: { save: async () => undefined }, send: () => undefined, machine: state });
  driver.start(50);
  raft.campaign();
  driver.kick();
  expect(await waitFor(() => raft.status().role === 'leader' && raft.status().applied >= 1, 2000)).toBe(true);
  return { raft, state, driver, conf: new ConfChanger(driver) };
}

describe('join handler', () => {
  it('on the leader: replicates the address, adds a learner, answers with the members', async () => {
    const { raft, state, driver, conf } = await soloLeader();
    const forward = async (): Promise<JoinResponse> => ({ ok: false, error: 'must not forward' });
    const handle = createJoinHandler({ driver, state, conf, addressesOf: (id) => state.addressesOf(id), forward, log, timeoutMs: 2000 });
    const r = await handle(req);
    expect(r).toEqual({ ok: true, leader: 'leader', members: [{ id: 'leader', addrs: [] }, { id: 'joiner', addrs: req.addrs }] });
    expect(raft.status().membership.conf).toEqual({ voters: ['leader'], learners: ['joiner'] });
    expect(state.addressesOf('joiner')).toEqual(req.addrs);
    // Asking again (a lost answer, a restart with an empty store) changes nothing.
    const applied = raft.status().applied;
    expect(await handle(req)).toMatchObject({ ok: true });
    expect(raft.status().applied).toBe(applied);
    driver.stop();
  });

  it('admits concurrent joiners one at a time', async () => {
    const { raft, state, driver, conf } = await soloLeader();
    const handle = createJoinHandler({ driver, state, conf, addressesOf: (id) => state.addressesOf(id), forward: async () => ({ ok: false, error: 'x' }), log, timeoutMs: 3000 });
    const ids = ['j1', 'j2', 'j3'];
    const answers = await Promise.all(ids.map((id) => handle({ id, addrs: [`/ip4/127.0.0.1/tcp/1/p2p/${id}`] })));
    expect(answers.every((a) => a.ok)).toBe(true);
    expect([...raft.status().membership.conf.learners].sort()).toEqual(ids);
    driver.stop();
  });

  it('on a follower: forwards to the leader it knows, or says there is none', async () => {
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'f', rng: new SeededRng(2) }, null, { voters: ['L', 'f'], learners: [] });
    const state = new ClusterState();
    const driver = new RaftDriver({ raft, storage: { save: async () => undefined }, send: () => undefined, machine: state });
    const forwarded: string[] = [];
    const handle = createJoinHandler({
      driver,
      state,
      conf: new ConfChanger(driver),
      addressesOf: (id) => (id === 'L' ? ['/ip4/127.0.0.1/tcp/9/p2p/L'] : undefined),
      forward: async (addr) => {
        forwarded.push(addr);
        return { ok: true, leader: 'L', members: [] };
      },
      log,
      timeoutMs: 1000,
    });
    expect(await handle(req)).toMatchObject({ ok: false, error: expect.stringContaining('no leader') });
    // Make it follow L: a heartbeat from L in term 1.
    raft.step({ type: 'heartbeat', from: 'L', to: 'f', term: 1, commit: 0, ctx: '', transferee: '' });
    expect(await handle(req)).toEqual({ ok: true, leader: 'L', members: [] });
    expect(forwarded).toEqual(['/ip4/127.0.0.1/tcp/9/p2p/L']);
  });

  it('refuses a request without addresses', async () => {
    const { state, driver, conf } = await soloLeader();
    const handle = createJoinHandler({ driver, state, conf, addressesOf: () => undefined, forward: async () => ({ ok: false, error: '' }), log, timeoutMs: 1000 });
    expect(await handle({ id: 'x', addrs: [] })).toMatchObject({ ok: false, error: expect.stringContaining('no addresses') });
    driver.stop();
  });
});

describe('joinCluster', () => {
  it('retries, follows a leader hint, and returns the first success', async () => {
    const calls: string[] = [];
    const r = await joinCluster({
      bootstrap: ['/a', '/b'],
      request: req,
      timeoutMs: 5000,
      log,
      send: async (addr) => {
        calls.push(addr);
        if (addr === '/a') throw new Error('connection refused');
        if (addr === '/b') return { ok: false, error: 'not the leader', leader: { id: 'L', addrs: ['/L'] } };
        return { ok: true, leader: 'L', members: [] };
      },
    });
    expect(r).toEqual({ ok: true, leader: 'L', members: [] });
    expect(calls).toEqual(['/a', '/b', '/L']);
  });

  it('gives up at the deadline naming every address tried and why', async () => {
    const started = Date.now();
    const err = await joinCluster({ bootstrap: ['/a', '/b'], request: req, timeoutMs: 600, log, send: async () => Promise.reject(new Error('refused')) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JoinError);
    expect((err as JoinError).message).toMatch(/tried \/a, \/b \(\/a: refused; \/b: refused\)/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('leaveCluster', () => {
  it('the only voter stops without removing itself', async () => {
    const { driver, conf } = await soloLeader();
    expect(await leaveCluster({ driver, conf, log })).toBe('last-voter');
    driver.stop();
  });

  it('the changes a leave relies on: add, then remove, applied one after the other', async () => {
    const { raft, driver, conf } = await soloLeader();
    await conf.run({ type: 'addLearner', node: 'other' }, 2000);
    expect(raft.status().membership.conf.learners).toEqual(['other']);
    // The leader removing `other` is what a leaving learner's forwarded proposal does.
    await conf.run({ type: 'remove', node: 'other' }, 2000);
    expect(raft.status().membership.conf).toEqual({ voters: ['leader'], learners: [] });
    driver.stop();
  });
});
