import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JoinRequest, JoinResponse } from '../../src/net/types.js';
import { announceThroughMembers } from '../../src/node/announce.js';
import { ClusterState, type EntryOutcome } from '../../src/node/cluster-state.js';
import { ConfChanger } from '../../src/node/conf-changer.js';
import { RaftDriver } from '../../src/node/driver.js';
import type { Reply } from '../../src/node/proposal.js';
import { createJoinHandler, NOT_THE_LEADER, type JoinHandlerDeps } from '../../src/node/join-handler.js';
import { introducersOf, joinCluster, JoinError, WrongClusterError } from '../../src/node/join-client.js';
import { leaveCluster, serveLeaveRequests } from '../../src/node/leave.js';
import { encodeNodeEntry } from '../../src/node/entry-envelope.js';
import { silentLogger, type Logger } from '../../src/node/logger.js';
import { waitFor } from './wait.js';
import { RaftNode } from '../../src/raft/raft.js';
import { SeededRng } from '../../src/raft/rng.js';
import { defaultRaftConfig, type ConfChange, type ConfState, type Message } from '../../src/raft/types.js';

const log = silentLogger();
const CLUSTER = 'c0'.repeat(16);
const OTHER_CLUSTER = 'ff'.repeat(16);

/** Real peer ids: a join's addresses must end in /p2p/<its id>. */
const ids: string[] = [];
beforeAll(async () => {
  for (let i = 0; i < 6; i++) ids.push(peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString());
});
const id = (i: number): string => ids[i] as string;
const addrOf = (peer: string, port = 5): string => `/ip4/127.0.0.1/tcp/${port}/p2p/${peer}`;

/** `peer`'s own request, as its node would send it: from a new, empty store unless told otherwise. */
function requestOf(peer: string, over: Partial<JoinRequest> = {}): JoinRequest {
  return { id: peer, addrs: [addrOf(peer)], cluster: null, emptyStore: true, ...over };
}
/** The context the JoinServer hands the handler: the peer that opened the stream. */
const from = (peer: string) => ({ from: peer });

function recordingLogger(): { logger: Logger; lines: () => Array<{ msg: string; level: number }> } {
  const out: string[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => out.push(s) });
  return { logger, lines: () => out.map((s) => JSON.parse(s) as { msg: string; level: number }) };
}

/** The membership changes a handler asks for, in order. */
class RecordingConfChanger extends ConfChanger {
  readonly changes: ConfChange[] = [];
  override request(cc: ConfChange, timeoutMs: number, reply: Reply<void>, opts?: { readonly record?: boolean }): void {
    this.changes.push(cc);
    super.request(cc, timeoutMs, reply, opts);
  }
}

type Peer = { raft: RaftNode; state: ClusterState; driver: RaftDriver<EntryOutcome<unknown>>; conf: ConfChanger };

/** Raft nodes with in-memory persistence, their messages delivered in process; `voters[0]` is made leader. */
async function cluster(voters: readonly string[]): Promise<Map<string, Peer>> {
  const peers = new Map<string, Peer>();
  const deliver = (m: Message): void => {
    // Asynchronously, as a network would: never re-entering the sender's Ready handling.
    setImmediate(() => peers.get(m.to)?.driver.receive(m));
  };
  const initial: ConfState = { voters: [...voters], learners: [] };
  voters.forEach((v, i) => {
    // Only the first campaigns: the others' election timeouts are far beyond any test's length.
    const electionTicks = i === 0 ? 10 : 10_000;
    const raft = new RaftNode({ ...defaultRaftConfig, id: v, rng: new SeededRng(i + 1), electionTicks, heartbeatTicks: 2 }, null, initial);
    const state = new ClusterState(undefined, initial);
    const driver = new RaftDriver({
      raft,
      storage: { save: async () => undefined },
      send: (msgs) => msgs.forEach(deliver),
      machine: state,
    });
    driver.start(20);
    const conf = new ConfChanger(driver);
    serveLeaveRequests({ state, driver, conf, log });
    peers.set(v, { raft, state, driver, conf });
  });
  const leader = peers.get(voters[0] as string) as Peer;
  leader.raft.campaign();
  leader.driver.kick();
  expect(await waitFor(() => leader.raft.status().role === 'leader' && leader.raft.status().applied >= 1, 5000)).toBe(true);
  return peers;
}

function stopAll(peers: Map<string, Peer>): void {
  for (const p of peers.values()) p.driver.stop();
}

function handlerOn(p: Peer, over: Partial<JoinHandlerDeps> = {}) {
  return createJoinHandler({
    driver: p.driver,
    state: p.state,
    conf: p.conf,
    addressesOf: (x) => p.state.addressesOf(x),
    clusterId: () => CLUSTER,
    log,
    timeoutMs: 3000,
    ...over,
  });
}

describe('join handler on the leader', () => {
  it('replicates the address, adds a learner, answers with the members and the cluster id', async () => {
    const peers = await cluster(['leader']);
    const p = peers.get('leader') as Peer;
    const handle = handlerOn(p);
    const j = id(0);
    const r = await handle(requestOf(j), from(j));
    expect(r).toEqual({
      ok: true,
      leader: 'leader',
      members: [
        { id: 'leader', addrs: [] },
        { id: j, addrs: [addrOf(j)] },
      ],
      cluster: CLUSTER,
      admittedAt: p.raft.status().commit,
    });
    expect(p.raft.status().membership.conf).toEqual({ voters: ['leader'], learners: [j] });
    expect(p.state.addressesOf(j)).toEqual([addrOf(j)]);
    expect(r.ok && introducersOf(r)).toEqual(['leader', j]);
    // Asking again from a store it kept (an address announcement, a retry once data arrived) changes nothing.
    const applied = p.raft.status().applied;
    expect(await handle(requestOf(j, { cluster: CLUSTER, emptyStore: false }), from(j))).toMatchObject({ ok: true });
    expect(p.raft.status().applied).toBe(applied);
    // From an empty store again: re-admitted as a new learner (removed, then added), still a learner.
    expect(await handle(requestOf(j), from(j))).toMatchObject({ ok: true });
    expect(p.raft.status().applied).toBe(applied + 2);
    expect(p.raft.status().membership.conf).toEqual({ voters: ['leader'], learners: [j] });
    stopAll(peers);
  });

  it('admits concurrent joiners one at a time', async () => {
    const peers = await cluster(['leader']);
    const p = peers.get('leader') as Peer;
    const handle = handlerOn(p);
    const joiners = [id(0), id(1), id(2)];
    const answers = await Promise.all(joiners.map((j) => handle(requestOf(j), from(j))));
    expect(answers.every((a) => a.ok)).toBe(true);
    expect([...p.raft.status().membership.conf.learners].sort()).toEqual([...joiners].sort());
    stopAll(peers);
  });

  it('refuses a request made for another node, or naming another node’s address, and changes nothing', async () => {
    const peers = await cluster(['leader']);
    const p = peers.get('leader') as Peer;
    const handle = handlerOn(p);
    const [victim, attacker] = [id(0), id(1)];
    const forOther = await handle(requestOf(victim), from(attacker));
    expect(forOther).toEqual({
      ok: false,
      error: `join request for ${victim} sent by ${attacker}: a node may only ask to join for itself`,
    });
    const stolen = await handle(requestOf(attacker, { addrs: [addrOf(attacker), addrOf(victim, 7)] }), from(attacker));
    expect(stolen).toEqual({ ok: false, error: `join request from ${attacker}: address ${addrOf(victim, 7)} belongs to ${victim}` });
    const bare = await handle(requestOf(attacker, { addrs: ['/ip4/127.0.0.1/tcp/7'] }), from(attacker));
    expect(bare).toMatchObject({ ok: false, error: expect.stringContaining('does not end in /p2p/<id>') });
    expect(await handle(requestOf(attacker, { addrs: [] }), from(attacker))).toMatchObject({
      ok: false,
      error: expect.stringContaining('no addresses'),
    });
    expect(p.raft.status().membership.conf).toEqual({ voters: ['leader'], learners: [] });
    expect(p.state.addressBook().size).toBe(0);
    // A restart on a port another member once used is fine: the address names the joiner.
    expect(await handle(requestOf(attacker, { addrs: [addrOf(attacker, 7)] }), from(attacker))).toMatchObject({ ok: true });
    stopAll(peers);
  });

  it('refuses a node whose data directory belongs to another cluster, naming both ids', async () => {
    const peers = await cluster(['leader']);
    const p = peers.get('leader') as Peer;
    const handle = handlerOn(p);
    const j = id(0);
    expect(await handle(requestOf(j, { cluster: OTHER_CLUSTER }), from(j))).toEqual({
      ok: false,
      reason: 'wrong-cluster',
      error: `this data directory belongs to cluster ${OTHER_CLUSTER}, not ${CLUSTER}: start with a new --data directory`,
    });
    expect(p.raft.status().membership.conf.learners).toEqual([]);
    // Its own cluster's id, or none (a new store), is let in; so is anyone by a leader with no id.
    expect(await handle(requestOf(j, { cluster: CLUSTER }), from(j))).toMatchObject({ ok: true, cluster: CLUSTER });
    const k = id(1);
    const noId = handlerOn(p, { clusterId: () => null });
    expect(await noId(requestOf(k, { cluster: OTHER_CLUSTER }), from(k))).toMatchObject({ ok: true, cluster: null });
    stopAll(peers);
  });

  it('demotes a voter that comes back with an empty store before answering, and logs it', async () => {
    const [a, b, c] = [id(0), id(1), id(2)];
    const peers = await cluster([a, b, c]);
    const leader = peers.get(a) as Peer;
    const rec = recordingLogger();
    const conf = new RecordingConfChanger(leader.driver);
    const handle = handlerOn(leader, { log: rec.logger, conf });

    // b restarted with its Raft store wiped: same identity, no cluster id, an empty store.
    const r = await handle(requestOf(b), from(b));
    expect(r).toMatchObject({ ok: true, leader: a, cluster: CLUSTER });
    expect(leader.raft.status().membership.conf).toEqual({ voters: [a, c], learners: [b] });
    // Removed and added back, not only demoted: the leader's record of b starts over, so b's
    // refusals of entries it no longer has are not taken for stale ones.
    expect(conf.changes).toEqual([
      { type: 'remove', node: b },
      { type: 'addLearner', node: b },
    ]);
    expect(rec.lines().filter((l) => l.msg === 'a voter came back with an empty store: re-admitted as a learner')).toHaveLength(1);
    expect(rec.lines().find((l) => l.msg.startsWith('a voter came back'))?.level).toBe(30);

    // A voter announcing its addresses from a store it kept stays a voter.
    const kept = await handle(requestOf(c, { addrs: [addrOf(c, 9)], cluster: CLUSTER, emptyStore: false }), from(c));
    expect(kept).toMatchObject({ ok: true });
    expect(leader.raft.status().membership.conf).toEqual({ voters: [a, c], learners: [b] });
    expect(leader.state.addressesOf(c)).toEqual([addrOf(c, 9)]);
    stopAll(peers);
  });
});

describe('join handler on a follower', () => {
  it('names the leader instead of forwarding, or says there is none', async () => {
    const raft = new RaftNode({ ...defaultRaftConfig, id: 'f', rng: new SeededRng(2) }, null, { voters: [id(3), 'f'], learners: [] });
    const state = new ClusterState();
    const driver = new RaftDriver({ raft, storage: { save: async () => undefined }, send: () => undefined, machine: state });
    const leaderId = id(3);
    const handle = createJoinHandler({
      driver,
      state,
      conf: new ConfChanger(driver),
      addressesOf: (x) => (x === leaderId ? [addrOf(leaderId, 9)] : undefined),
      clusterId: () => CLUSTER,
      log,
      timeoutMs: 1000,
    });
    const j = id(0);
    expect(await handle(requestOf(j), from(j))).toMatchObject({ ok: false, error: expect.stringContaining('no leader') });
    // Make it follow the leader: a heartbeat from it in term 1.
    raft.step({ type: 'heartbeat', from: leaderId, to: 'f', term: 1, commit: 0, ctx: '', transferee: '' });
    expect(await handle(requestOf(j), from(j))).toEqual({
      ok: false,
      error: NOT_THE_LEADER,
      leader: { id: leaderId, addrs: [addrOf(leaderId, 9)] },
    });
    // The request is judged before the hint is given: a stranger's cluster is refused here already.
    expect(await handle(requestOf(j, { cluster: OTHER_CLUSTER }), from(j))).toMatchObject({ ok: false, reason: 'wrong-cluster' });
    expect(await handle(requestOf(j), from(id(1)))).toMatchObject({
      ok: false,
      error: expect.stringContaining('only ask to join for itself'),
    });
    // The leader it follows, asking to join with an empty store, is not named to itself: its own old view is no help.
    expect(await handle(requestOf(leaderId), from(leaderId))).toMatchObject({ ok: false, error: expect.stringContaining('no leader') });
    driver.stop();
  });
});

describe('joinCluster', () => {
  it('retries, asks the leader a member names, and returns the first success', async () => {
    const calls: string[] = [];
    const r = await joinCluster({
      bootstrap: ['/a', '/b', '/c'],
      request: requestOf(id(0)),
      timeoutMs: 5000,
      log,
      send: async (addr) => {
        calls.push(addr);
        if (addr === '/a') throw new Error('connection refused');
        if (addr === '/b') return { ok: false, error: NOT_THE_LEADER, leader: { id: 'L', addrs: ['/L'] } };
        if (addr === '/L') return { ok: true, leader: 'L', members: [], cluster: CLUSTER, admittedAt: 7 };
        return { ok: false, error: 'must not be asked before the leader' };
      },
    });
    expect(r).toEqual({ ok: true, leader: 'L', members: [], cluster: CLUSTER, admittedAt: 7 });
    expect(calls).toEqual(['/a', '/b', '/L']);
  });

  it('after a stale hint (the named leader refuses too), asks the rest of the list in the same round', async () => {
    const calls: string[] = [];
    const r = await joinCluster({
      bootstrap: ['/a', '/b', '/c'],
      request: requestOf(id(0)),
      timeoutMs: 5000,
      log,
      send: async (addr): Promise<JoinResponse> => {
        calls.push(addr);
        if (addr === '/a') return { ok: false, error: NOT_THE_LEADER, leader: { id: 'OLD', addrs: ['/old'] } };
        if (addr === '/c') return { ok: true, leader: 'L', members: [], cluster: CLUSTER, admittedAt: 7 };
        return { ok: false, error: 'no leader is known right now (an election may be under way); retry' };
      },
    });
    expect(r.leader).toBe('L');
    expect(calls).toEqual(['/a', '/old', '/b', '/c']);
  });

  it("ignores a hint that names the joiner itself (a member's view from before its store was lost)", async () => {
    const calls: string[] = [];
    const self = id(0);
    const r = await joinCluster({
      bootstrap: ['/a', '/b'],
      request: requestOf(self),
      timeoutMs: 5000,
      log,
      send: async (addr): Promise<JoinResponse> => {
        calls.push(addr);
        if (addr === '/a') return { ok: false, error: NOT_THE_LEADER, leader: { id: self, addrs: [addrOf(self)] } };
        if (addr === '/b') return { ok: true, leader: 'L', members: [], cluster: CLUSTER, admittedAt: 7 };
        return { ok: false, error: 'must not be asked' };
      },
    });
    expect(r.leader).toBe('L');
    expect(calls).toEqual(['/a', '/b']);
  });

  it('stops at once when the cluster says the data directory is another cluster’s', async () => {
    const calls: string[] = [];
    const error = `this data directory belongs to cluster ${OTHER_CLUSTER}, not ${CLUSTER}: start with a new --data directory`;
    const err = await joinCluster({
      bootstrap: ['/a', '/b'],
      request: requestOf(id(0), { cluster: OTHER_CLUSTER }),
      timeoutMs: 60_000,
      log,
      send: async (addr): Promise<JoinResponse> => {
        calls.push(addr);
        return { ok: false, error, reason: 'wrong-cluster' };
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrongClusterError);
    expect(err).toBeInstanceOf(JoinError);
    expect((err as Error).message).toBe(error);
    expect(calls).toEqual(['/a']);
  });

  it('gives up at the deadline naming every address tried and why', async () => {
    const started = Date.now();
    const err = await joinCluster({
      bootstrap: ['/a', '/b'],
      request: requestOf(id(0)),
      timeoutMs: 600,
      log,
      send: async () => Promise.reject(new Error('refused')),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JoinError);
    expect((err as JoinError).message).toMatch(/tried \/a, \/b \(\/a: refused; \/b: refused\)/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('announceThroughMembers', () => {
  const ok: JoinResponse = { ok: true, leader: 'L', members: [], cluster: CLUSTER, admittedAt: 7 };

  it('asks the leader a member names before the other members, each address once', async () => {
    const calls: string[] = [];
    const r = await announceThroughMembers({
      targets: ['/a', '/b', '/a'],
      request: requestOf(id(0), { emptyStore: false, cluster: CLUSTER }),
      attemptMs: 1000,
      log,
      send: async (addr) => {
        calls.push(addr);
        if (addr === '/a') return { ok: false, error: NOT_THE_LEADER, leader: { id: 'L', addrs: ['/L1', '/L2'] } };
        if (addr === '/L1') throw new Error('unreachable');
        if (addr === '/L2') return ok;
        return { ok: false, error: 'must not be asked' };
      },
    });
    expect(r).toEqual(ok);
    expect(calls).toEqual(['/a', '/L1', '/L2']);
  });

  it('gives up on a wrong cluster, and when nobody admits it', async () => {
    const wrong = await announceThroughMembers({
      targets: ['/a', '/b'],
      request: requestOf(id(0), { emptyStore: false, cluster: OTHER_CLUSTER }),
      attemptMs: 1000,
      log,
      send: async () => ({ ok: false, error: 'x', reason: 'wrong-cluster' }),
    });
    expect(wrong).toBeNull();
    const calls: string[] = [];
    const none = await announceThroughMembers({
      targets: ['/a', '/b'],
      request: requestOf(id(0), { emptyStore: false }),
      attemptMs: 1000,
      log,
      send: async (addr) => {
        calls.push(addr);
        // A member naming a leader it cannot reach, and one naming itself: each asked once.
        return { ok: false, error: NOT_THE_LEADER, leader: { id: 'L', addrs: ['/a', '/b'] } };
      },
    });
    expect(none).toBeNull();
    expect(calls).toEqual(['/a', '/b']);
  });
});

describe('leaveCluster', () => {
  it('the only voter stops without removing itself', async () => {
    const peers = await cluster(['leader']);
    const p = peers.get('leader') as Peer;
    expect(await leaveCluster({ driver: p.driver, conf: p.conf, log })).toBe('last-voter');
    stopAll(peers);
  });

  it('a follower leaves through its leave entry; a leave naming another member is refused', async () => {
    const peers = await cluster(['a', 'b', 'c']);
    const [a, b, c] = ['a', 'b', 'c'].map((id) => peers.get(id) as Peer) as [Peer, Peer, Peer];
    expect(await waitFor(() => b.raft.status().leader === 'a' && c.raft.status().leader === 'a', 5000)).toBe(true);
    // c forges b's leave: applied as refused everywhere, b stays.
    c.raft.propose(encodeNodeEntry({ kind: 'leave', id: 'b' }));
    c.driver.kick();
    expect(await waitFor(() => a.state.refused === 1 && c.state.refused === 1, 5000)).toBe(true);
    expect(a.raft.status().membership.conf.voters).toContain('b');
    expect(await leaveCluster({ driver: b.driver, conf: b.conf, log })).toBe('removed');
    expect(a.raft.status().membership.conf).toEqual({ voters: ['a', 'c'], learners: [] });
    stopAll(peers);
  });

  it('the changes a leave relies on: add, then remove, applied one after the other', async () => {
    const peers = await cluster(['leader']);
    const { raft, conf } = peers.get('leader') as Peer;
    await conf.run({ type: 'addLearner', node: 'other' }, 2000);
    expect(raft.status().membership.conf.learners).toEqual(['other']);
    // The leader removing `other` is what a leaving learner's forwarded proposal does.
    await conf.run({ type: 'remove', node: 'other' }, 2000);
    expect(raft.status().membership.conf).toEqual({ voters: ['leader'], learners: [] });
    stopAll(peers);
  });
});
