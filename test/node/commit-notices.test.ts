import { describe, expect, it } from 'vitest';
import { CommitNotices } from '../../src/node/commit-notices.js';
import { RaftDriver, type RaftPersistence } from '../../src/node/driver.js';
import { decodeEnvelope, envelope } from '../../src/node/entry-envelope.js';
import type { Decision } from '../../src/node/proposal.js';
import { RaftNode } from '../../src/raft/raft.js';
import { SeededRng } from '../../src/raft/rng.js';
import { defaultRaftConfig, type AppendRequest, type Entry, type Message, type NodeId } from '../../src/raft/types.js';
import { ManualTimers, storeOn } from './manual-timers.js';

const entry: Entry = { index: 5, term: 1, type: 'normal', time: 0, proposer: 'a', data: new Uint8Array(0) };
const notice = (to: NodeId, commit: number): AppendRequest => ({
  type: 'app',
  from: 'a',
  to,
  term: 1,
  prevIndex: 4,
  prevTerm: 1,
  entries: [],
  commit,
});
const heartbeat: Message = { type: 'heartbeat', from: 'a', to: 'c', term: 1, commit: 4, ctx: '', transferee: '' };
const append = (to: NodeId, commit: number): AppendRequest => ({ ...notice(to, commit), entries: [entry] });

describe('CommitNotices', () => {
  it('holds a notice for one cycle and drops it when that cycle appends to the same follower', () => {
    const n = new CommitNotices();
    expect(n.merge([notice('b', 3), notice('c', 3)])).toEqual([]);
    expect(n.size).toBe(2);
    // Next cycle: b gets entries (with a commit index at least as new), c gets nothing.
    const out = n.merge([append('b', 4)]);
    expect(out).toEqual([notice('c', 3), append('b', 4)]);
    expect(n.superseded).toBe(1);
    expect(n.size).toBe(0);
  });

  it('drops at once a notice whose follower gets an append in the same cycle', () => {
    const n = new CommitNotices();
    expect(n.merge([append('b', 4), notice('b', 4), heartbeat])).toHaveLength(2);
    expect(n.size).toBe(0);
    expect(n.superseded).toBe(1);
  });

  it('sends the older notice and holds the newer one when two cycles in a row only move the commit', () => {
    const n = new CommitNotices();
    n.merge([notice('b', 3)]);
    expect(n.merge([notice('b', 4)])).toEqual([notice('b', 3)]);
    expect(n.take()).toEqual([notice('b', 4)]);
    expect(n.size).toBe(0);
  });
});

/** Answers each entry's proposal with its request id, as ClusterState does. */
function answer(e: Entry): Decision<unknown> | undefined {
  const d = e.data.length > 0 ? decodeEnvelope(e.data) : null;
  return d?.ok ? { request: d.value.request, result: null } : undefined;
}

/**
 * Two voters on one hand-cranked clock, messages delivered at the next turn; the leader proposes
 * one entry at a time, the next once the previous is applied (the benchmark's single proposer).
 */
function pair(): { timers: ManualTimers; leader: RaftDriver; follower: RaftDriver; sent: Message[] } {
  const timers = new ManualTimers();
  const drivers = new Map<NodeId, RaftDriver>();
  const sent: Message[] = [];
  const storage: RaftPersistence = storeOn(timers);
  for (const [id, seed] of [
    ['a', 1],
    ['b', 2],
  ] as const) {
    const raft = new RaftNode({ ...defaultRaftConfig, id, rng: new SeededRng(seed) }, null, { voters: ['a', 'b'], learners: [] });
    const send = (msgs: readonly Message[]): void => {
      for (const m of msgs) {
        if (id === 'a') sent.push(m);
        timers.after(0, () => drivers.get(m.to)?.receive(m));
      }
    };
    drivers.set(
      id,
      new RaftDriver({ raft, storage, send, machine: { restore: () => undefined, apply: answer }, timers, now: () => timers.now }),
    );
  }
  const leader = drivers.get('a') as RaftDriver;
  const follower = drivers.get('b') as RaftDriver;
  leader.start(10);
  follower.start(10);
  leader.campaign();
  timers.advanceTo(100);
  return { timers, leader, follower, sent };
}

describe('RaftDriver commit notices', () => {
  it('a single proposer costs the follower one append per commit, not an append and a notice', () => {
    const { timers, leader, follower, sent } = pair();
    expect(leader.status().role).toBe('leader');
    sent.length = 0;
    const total = 50;
    let done = 0;
    const next = (): void => {
      if (done === total) return;
      leader.requestPropose(
        envelope({ kind: 'probe', nonce: '', value: String(done) }),
        { timeoutMs: 5_000 },
        {
          resolve: () => {
            done++;
            next();
          },
          reject: (err) => {
            throw err;
          },
        },
      );
    };
    next();
    // Less than one tick (10 ms) of manual time: the commits do not ride on heartbeats.
    timers.advanceTo(timers.now + 5);
    expect(done).toBe(total);
    const toFollower = sent.filter((m) => m.to === 'b' && m.type === 'app');
    const empty = toFollower.filter((m) => m.type === 'app' && m.entries.length === 0);
    expect(toFollower.length - empty.length).toBe(total);
    // Without holding, every commit sent one empty append more; only the last one is left.
    expect(empty.length).toBeLessThanOrEqual(1);
    // And the follower still learns the last commit without waiting for a heartbeat.
    expect(follower.status().commit).toBe(leader.status().commit);
    leader.stop();
    follower.stop();
  });
});
