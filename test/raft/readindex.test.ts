// Linearizable reads with ReadIndex (thesis section 6.4).
import { describe, expect, it } from 'vitest';
import { Network, cluster, isType } from './harness.js';

const RAW = { preVote: false, checkQuorum: false } as const;

describe('ReadIndex', () => {
  it('the leader serves a read at its commit index after a quorum confirms its leadership', () => {
    const net = cluster(3);
    net.elect('a');
    net.propose('a', 'x');
    net.stabilize();
    net.read('a', 'r1');
    // Not before a heartbeat round: the leader's own Ready carries the confirmation request.
    net.processReady('a');
    expect(net.peer('a').readStates).toEqual([]);
    const hbs = net.queued(isType('heartbeat')).filter((m) => m.from === 'a');
    expect(hbs.map((m) => m.to).sort()).toEqual(['b', 'c']);
    // Both carry the driver's context for this read.
    expect(hbs.every((m) => m.ctx !== '' && m.ctx === hbs[0]?.ctx)).toBe(true);
    net.stabilize();
    expect(net.peer('a').readStates).toEqual([{ ctx: 'r1', index: 2 }]);
  });

  it('one acknowledging follower is enough in a three-node cluster', () => {
    const net = cluster(3);
    net.elect('a');
    net.crash('c');
    net.read('a', 'r');
    net.stabilize();
    expect(net.peer('a').readStates).toEqual([{ ctx: 'r', index: 1 }]);
  });

  it('several reads are served in order, each at the commit index it arrived at', () => {
    const net = cluster(3);
    net.elect('a');
    net.read('a', 'r1');
    net.propose('a', 'x');
    net.stabilize();
    net.read('a', 'r2');
    net.read('a', 'r3');
    net.stabilize();
    expect(net.peer('a').readStates).toEqual([
      { ctx: 'r1', index: 1 },
      { ctx: 'r2', index: 2 },
      { ctx: 'r3', index: 2 },
    ]);
  });

  it('a single-voter leader serves a read without any messages', () => {
    const net = new Network({ voters: ['a'] });
    net.elect('a');
    net.clearTrace();
    net.read('a', 'solo');
    net.stabilize();
    expect(net.peer('a').readStates).toEqual([{ ctx: 'solo', index: 1 }]);
    expect(net.sent).toEqual([]);
  });

  it("a follower forwards a read to the leader and receives the leader's read index", () => {
    const net = cluster(3);
    net.elect('a');
    net.propose('a', 'x');
    net.propose('a', 'y');
    net.stabilize();
    net.read('b', 'rb');
    net.stabilize();
    expect(net.peer('b').readStates).toEqual([{ ctx: 'rb', index: 3 }]);
    expect(net.peer('a').readStates).toEqual([]);
    expect(net.delivered.some((m) => m.type === 'readIndex' && m.from === 'b' && m.to === 'a')).toBe(true);
  });

  it('a leader cut off from its quorum does not serve a read; when it steps down the read fails', () => {
    const net = cluster(3, { config: { checkQuorum: true } });
    net.elect('a');
    net.isolate('a');
    net.read('a', 'r');
    net.stabilize();
    expect(net.peer('a').readStates).toEqual([]);
    net.tickAll(3 * net.peer('a').config.electionTicks, { only: ['a'] });
    expect(net.status('a').role).not.toBe('leader');
    expect(net.peer('a').readStates).toEqual([]);
    expect(net.peer('a').readFailures).toEqual([{ ctx: 'r', reason: 'not-leader' }]);
  });

  it('a read that waited out a partition is served once the quorum answers again', () => {
    const net = cluster(3, { config: RAW });
    net.elect('a');
    net.isolate('a');
    net.read('a', 'r');
    net.stabilize();
    expect(net.peer('a').readStates).toEqual([]);
    net.heal();
    net.tickAll(2);
    expect(net.peer('a').readStates).toEqual([{ ctx: 'r', index: 1 }]);
  });

  it('a new leader defers reads until it has committed an entry of its own term', () => {
    const net = cluster(3, { config: RAW });
    net.elect('a');
    net.propose('a', 'x');
    net.stabilize();
    // b takes over in term 2, but its no-op (index 3) is held back.
    const held = net.hold((m) => m.type === 'app' && m.from === 'b');
    net.elect('b');
    expect(net.status('b').commit).toBe(2);
    net.read('b', 'rb');
    net.stabilize();
    net.tickAll(3);
    // c has heard b's heartbeats by now, so it knows whom to ask.
    expect(net.status('c').leader).toBe('b');
    net.read('c', 'rc');
    net.stabilize();
    net.tickAll(3);
    // Index 2 might not be everything committed in term 2: the reads must wait.
    expect(net.peer('b').readStates).toEqual([]);
    expect(net.peer('c').readStates).toEqual([]);
    held.release();
    net.stabilize();
    net.tickAll(2);
    expect(net.status('b').commit).toBe(3);
    expect(net.peer('b').readStates).toEqual([{ ctx: 'rb', index: 3 }]);
    expect(net.peer('c').readStates).toEqual([{ ctx: 'rc', index: 3 }]);
  });

  it('reads deferred by a new leader fail with not-leader if it is deposed before committing in its term', () => {
    const net = cluster(3, { config: RAW });
    net.elect('a');
    const held = net.hold((m) => m.type === 'app' && m.from === 'b');
    net.elect('b');
    net.tickAll(2); // c learns that b leads, from its heartbeats
    expect(net.status('c').leader).toBe('b');
    net.read('b', 'rb');
    net.read('c', 'rc');
    net.stabilize();
    expect(net.peer('b').readStates).toEqual([]);
    // c campaigns (term 3) and deposes b before b's no-op commits: neither read can be served by b
    // any more, and the askers must hear so rather than wait forever.
    expect(net.campaign('c')).toBe(true);
    expect(net.status('b').role).toBe('follower');
    expect(net.peer('b').readStates).toEqual([]);
    expect(net.peer('b').readFailures).toEqual([{ ctx: 'rb', reason: 'not-leader' }]);
    expect(net.peer('c').readStates).toEqual([]);
    expect(net.peer('c').readFailures).toEqual([{ ctx: 'rc', reason: 'not-leader' }]);
    held.release();
  });

  it("a learner can ask for a read, but learners' acknowledgements do not confirm one", () => {
    const net = new Network({ voters: ['a', 'b', 'c'], learners: ['d', 'e'] });
    net.elect('a');
    net.propose('a', 'x');
    net.stabilize();
    net.read('d', 'rd');
    net.stabilize();
    expect(net.peer('d').readStates).toEqual([{ ctx: 'rd', index: 2 }]);
    // Only learners can answer a's heartbeats now: a + d + e are three of five members but one voter.
    net.crash('b');
    net.crash('c');
    net.read('a', 'ra');
    net.stabilize();
    net.tickAll(3, { only: ['a', 'd', 'e'] });
    expect(net.peer('a').readStates).toEqual([]);
  });

  it('a read with no known leader fails at once with no-leader', () => {
    const net = cluster(3);
    net.read('a', 'r');
    net.stabilize();
    expect(net.peer('a').readStates).toEqual([]);
    expect(net.peer('a').readFailures).toEqual([{ ctx: 'r', reason: 'no-leader' }]);
  });

  it('a read request that reaches a node that is not the leader is refused, and the asker sees not-leader', () => {
    const net = cluster(3, { config: RAW });
    net.elect('a');
    // b's forwarded read goes to c (say, b's view of the leader was out of date).
    net.read('b', 'rb');
    net.processReady('b');
    net.queue = net.queue.map((m) => (m.type === 'readIndex' && m.from === 'b' ? { ...m, to: 'c' } : m));
    net.deliverAll();
    net.processReady('c');
    const resp = net.queued(isType('readIndexResp'));
    expect(resp).toHaveLength(1);
    expect(resp[0]).toMatchObject({ from: 'c', to: 'b', reject: true });
    net.stabilize();
    expect(net.peer('b').readStates).toEqual([]);
    expect(net.peer('b').readFailures).toEqual([{ ctx: 'rb', reason: 'not-leader' }]);
  });
});
