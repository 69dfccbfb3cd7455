// Log compaction and InstallSnapshot in chunks (thesis chapter 5).
import { describe, expect, it } from 'vitest';
import type { ConfState, SnapshotChunk } from '../../src/raft/types.js';
import { Network, cluster, encodeItems, isType, makeEntries } from './harness.js';

const CHUNK = 16;

/** a leads; c is cut off while 20 entries commit; a and b compact. */
function laggingFollower(opts: { crash?: boolean } = {}): Network {
  const net = cluster(3, { config: { snapshotChunkBytes: CHUNK } });
  net.elect('a');
  if (opts.crash) net.crash('c');
  else net.isolate('c');
  for (let i = 0; i < 20; i++) net.propose('a', `entry-${String(i).padStart(2, '0')}`);
  net.stabilize();
  net.compact('a');
  net.compact('b');
  net.stabilize();
  expect(net.status('a').firstIndex).toBe(22);
  expect(net.peer('a').storage.snapshot?.meta.index).toBe(21);
  expect(net.log('a')).toEqual([]);
  return net;
}

function snapChunks(net: Network, to: string): SnapshotChunk[] {
  return net.delivered.filter(isType('snap')).filter((m) => m.to === to);
}

describe('compaction', () => {
  it('compact() drops the log up to the applied index and hands the snapshot to storage', () => {
    const net = cluster(3);
    net.elect('a');
    for (let i = 0; i < 5; i++) net.propose('a', `x${i}`);
    net.stabilize();
    net.compact('a');
    net.stabilize();
    const s = net.status('a');
    expect(s.firstIndex).toBe(7);
    expect(s.lastIndex).toBe(6);
    const snap = net.peer('a').storage.snapshot;
    expect(snap?.meta).toMatchObject({ index: 6, term: 1 });
    expect(snap?.meta.conf.voters.slice().sort()).toEqual(['a', 'b', 'c']);
    // Replication goes on from there.
    net.propose('a', 'y');
    net.stabilize();
    for (const id of net.ids) expect(net.items(id)).toEqual(['x0', 'x1', 'x2', 'x3', 'x4', 'y']);
  });

  it('compact() takes a snapshot of an earlier applied index (a state encoded while more was applied), never a later one', () => {
    const net = cluster(3);
    net.elect('a');
    for (let i = 0; i < 3; i++) net.propose('a', `x${i}`);
    net.stabilize();
    const p = net.peer('a');
    const index = p.app.appliedIndex;
    const data = p.app.encode();
    net.propose('a', 'y');
    net.stabilize();
    expect(net.node('a').compact(p.app.appliedIndex + 1, p.app.encode())).toBe(false);
    expect(net.node('a').compact(index, data)).toBe(true);
    net.stabilize();
    expect(net.status('a').firstIndex).toBe(index + 1);
    expect(p.storage.snapshot?.meta.index).toBe(index);
    // The entry after the snapshot stays in the log, and a restart rebuilds the same state from both.
    net.crash('a');
    net.restart('a');
    net.stabilize();
    expect(net.items('a')).toEqual(['x0', 'x1', 'x2', 'y']);
  });

  it('compact() refuses an index before the latest membership change: the snapshot would carry the wrong members', () => {
    const net = new Network({ voters: ['a', 'b', 'c'], others: ['d'] });
    net.elect('a');
    net.propose('a', 'x');
    net.stabilize();
    const p = net.peer('a');
    const index = p.app.appliedIndex;
    const data = p.app.encode();
    expect(net.proposeConfChange('a', { type: 'addLearner', node: 'd' }).ok).toBe(true);
    net.stabilize();
    net.tickAll(3);
    expect(net.node('a').compact(index, data)).toBe(false);
    net.compact('a');
    net.stabilize();
    expect(p.storage.snapshot?.meta.conf.learners).toEqual(['d']);
  });

  it('a node restarted after compacting rebuilds its state from the snapshot and the entries after it', () => {
    const net = cluster(3);
    net.elect('a');
    for (let i = 0; i < 3; i++) net.propose('a', `x${i}`);
    net.stabilize();
    net.compact('b');
    net.propose('a', 'y');
    net.stabilize();
    net.crash('b');
    net.restart('b');
    expect(net.status('b').firstIndex).toBe(5);
    net.stabilize();
    expect(net.items('b')).toEqual(['x0', 'x1', 'x2', 'y']);
    expect(net.appliedIndex('b')).toBe(5);
  });
});

describe('InstallSnapshot', () => {
  it('a follower whose next entry was compacted away is caught up with a snapshot sent in chunks', () => {
    const net = laggingFollower();
    net.heal();
    net.tickAll(5);
    const chunks = snapChunks(net, 'c');
    const total = net.peer('a').storage.snapshot?.data.length ?? 0;
    expect(total).toBeGreaterThan(3 * CHUNK);
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(total / CHUNK));
    for (const m of chunks) {
      expect(m.chunk.length).toBeLessThanOrEqual(CHUNK);
      expect(m.total).toBe(total);
      expect(m.meta.index).toBe(21);
    }
    // The chunks cover the snapshot from byte 0 to the end.
    const offsets = new Set(chunks.map((m) => m.offset));
    for (let off = 0; off < total; off += CHUNK) expect(offsets.has(off)).toBe(true);
    expect(net.delivered.some((m) => m.type === 'snapResp' && m.from === 'c')).toBe(true);
    expect(net.node('a').stats.snapshotsSent).toBeGreaterThanOrEqual(1);
    expect(net.node('c').stats.snapshotsInstalled).toBe(1);
    expect(net.items('c')).toEqual(net.items('a'));
    expect(net.peer('c').storage.snapshot?.meta).toMatchObject({ index: 21, term: 1 });
    expect(net.status('c')).toMatchObject({ commit: 21, firstIndex: 22 });
    // The log continues after the snapshot.
    net.propose('a', 'after');
    net.stabilize();
    expect(net.items('c')).toHaveLength(21);
    expect(net.items('c')[20]).toBe('after');
    expect(net.log('c').map((e) => e.index)).toEqual([22]);
    expect(net.status('a').progress?.get('c')?.state).toBe('replicate');
  });

  it('a follower that was down while the leader compacted is caught up by snapshot after it restarts', () => {
    const net = laggingFollower({ crash: true });
    net.restart('c');
    net.tickAll(5);
    expect(net.node('c').stats.snapshotsInstalled).toBe(1);
    expect(snapChunks(net, 'c').length).toBeGreaterThan(1);
    expect(net.items('c')).toEqual(net.items('a'));
  });

  it('a node restarted after installing a snapshot recovers from it', () => {
    const net = laggingFollower();
    net.heal();
    net.tickAll(5);
    net.propose('a', 'after');
    net.stabilize();
    const items = net.items('c');
    net.crash('c');
    net.restart('c');
    expect(net.status('c').firstIndex).toBe(22);
    expect(net.status('c').commit).toBe(22);
    net.stabilize();
    expect(net.items('c')).toEqual(items);
    net.propose('a', 'later');
    net.stabilize();
    expect(net.items('c')).toEqual([...items, 'later']);
  });

  it('a lost chunk is sent again and the transfer completes', () => {
    const net = laggingFollower();
    net.heal();
    let dropped = 0;
    const stop = net.dropIf((m) => {
      if (m.type === 'snap' && m.offset === 2 * CHUNK && dropped < 2) {
        dropped++;
        return true;
      }
      return false;
    });
    net.tickAll(10);
    stop();
    net.tickAll(10);
    expect(dropped).toBeGreaterThan(0);
    expect(net.node('c').stats.snapshotsInstalled).toBe(1);
    expect(net.items('c')).toEqual(net.items('a'));
  });

  it('a lost acknowledgement does not stall the transfer', () => {
    const net = laggingFollower();
    net.heal();
    let dropped = 0;
    const stop = net.dropIf((m) => {
      if (m.type === 'snapResp' && dropped < 3) {
        dropped++;
        return true;
      }
      return false;
    });
    net.tickAll(20);
    stop();
    net.tickAll(5);
    expect(net.node('c').stats.snapshotsInstalled).toBe(1);
    expect(net.items('c')).toEqual(net.items('a'));
  });

  it('a follower that restarts in the middle of a transfer receives the snapshot again from the start', () => {
    const net = laggingFollower();
    net.heal();
    // Let a few chunks through, then crash c: its partial copy is gone.
    let seen = 0;
    const stop = net.dropIf((m) => m.type === 'snap' && m.to === 'c' && ++seen > 3);
    net.tickAll(3);
    expect(net.node('c').stats.snapshotsInstalled).toBe(0);
    net.crash('c');
    stop();
    net.restart('c');
    net.tickAll(15);
    expect(net.node('c').stats.snapshotsInstalled).toBe(1);
    expect(net.items('c')).toEqual(net.items('a'));
  });

  it('a leader that compacts again during a transfer ends up installing a snapshot on the follower that it can continue from', () => {
    const net = laggingFollower();
    net.heal();
    let seen = 0;
    const held = net.hold((m) => m.type === 'snap' && m.to === 'c' && ++seen > 2);
    net.tickAll(2);
    for (let i = 0; i < 5; i++) net.propose('a', `more-${i}`);
    net.stabilize();
    net.compact('a');
    net.stabilize();
    held.release();
    net.tickAll(20);
    expect(net.items('c')).toEqual(net.items('a'));
    expect(net.items('c')).toHaveLength(25);
    net.propose('a', 'end');
    net.stabilize();
    expect(net.items('c').at(-1)).toBe('end');
  });

  it('the leader restarted after compacting can still bring a lagging follower up to date', () => {
    const net = laggingFollower();
    net.crash('a');
    net.restart('a');
    net.heal();
    const leader = net.tickUntilLeader(300);
    expect(leader === 'a' || leader === 'b').toBe(true);
    net.tickAll(10);
    expect(net.items('c')).toEqual(net.items(leader));
    expect(net.items('c')).toHaveLength(20);
  });

  it('a follower ignores a snapshot older than what it has committed', () => {
    const conf: ConfState = { voters: ['a', 'b', 'c'], learners: [] };
    const net = cluster(3);
    net.elect('a');
    for (let i = 0; i < 4; i++) net.propose('a', `x${i}`);
    net.stabilize();
    const log = net.log('b');
    const data = encodeItems(['x0']);
    net.node('b').receive({
      type: 'snap',
      from: 'a',
      to: 'b',
      term: 1,
      meta: { index: 2, term: 1, conf },
      offset: 0,
      total: data.length,
      chunk: data,
    });
    net.stabilize();
    expect(net.node('b').stats.snapshotsInstalled).toBe(0);
    expect(net.log('b')).toEqual(log);
    expect(net.items('b')).toEqual(['x0', 'x1', 'x2', 'x3']);
  });

  it('a snapshot whose last entry a follower already holds only moves its commit index', () => {
    const conf: ConfState = { voters: ['a', 'b', 'c'], learners: [] };
    const init = {
      hardState: { term: 1, vote: null, commit: 1 },
      membership: { conf, index: 0 },
      snapshot: null,
      entries: makeEntries([1, 1, 1, 1]),
    };
    const net = new Network({ voters: ['a', 'b', 'c'], config: { preVote: false, checkQuorum: false }, initial: { b: init } });
    const data = encodeItems(['1/1', '2/1', '3/1']);
    net.node('b').receive({
      type: 'snap',
      from: 'a',
      to: 'b',
      term: 1,
      meta: { index: 3, term: 1, conf },
      offset: 0,
      total: data.length,
      chunk: data,
    });
    net.stabilize();
    expect(net.status('b').commit).toBe(3);
    expect(net.logTerms('b')).toEqual([1, 1, 1, 1]);
  });
});
