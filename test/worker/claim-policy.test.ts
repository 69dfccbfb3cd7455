// The claim policy and rendezvous hashing: agreement between nodes, proportional shares, the
// slot budget, handler filtering, work stealing and the scan bound.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReadyTask, TaskRef } from '../../src/scheduler/types.js';
import { chooseClaims, preferredOwner } from '../../src/worker/claim-policy.js';
import type { ClaimInput } from '../../src/worker/claim-policy.js';
import { rendezvousHash, weightedScore } from '../../src/worker/rendezvous.js';
import type { PeerLoad } from '../../src/worker/types.js';

function task(job: string, index: number, over: Partial<ReadyTask> = {}): ReadyTask {
  return { job, task: index, priority: 0, readyAt: 0, slots: 1, handler: null, ...over };
}

function tasks(n: number, over: Partial<ReadyTask> = {}): ReadyTask[] {
  return Array.from({ length: n }, (_, i) => task('job-a', i, over));
}

function input(over: Partial<ClaimInput> & Pick<ClaimInput, 'self' | 'free'>): ClaimInput {
  return {
    handlers: new Set<string>(),
    now: 0,
    ready: [],
    peers: [],
    skip: () => false,
    stealAfterMs: 2000,
    maxScan: 1_000_000,
    ...over,
  };
}

const peerArb: fc.Arbitrary<PeerLoad[]> = fc
  .uniqueArray(
    fc.record({
      node: fc.stringMatching(/^[a-z0-9]{1,12}$/),
      slots: fc.constant(16),
      free: fc.integer({ min: 0, max: 16 }),
      handlers: fc.subarray(['noop', 'sleep', 'gpu']),
    }),
    { selector: (p) => p.node, minLength: 1, maxLength: 8 },
  )
  .map((ps) => ps.map((p) => ({ ...p, handlers: [...p.handlers] })));

const taskArb: fc.Arbitrary<ReadyTask> = fc.record({
  job: fc.string({ minLength: 1, maxLength: 10 }),
  task: fc.nat(100_000),
  priority: fc.integer({ min: -5, max: 5 }),
  readyAt: fc.constant(0),
  slots: fc.integer({ min: 1, max: 4 }),
  handler: fc.constantFrom(null, 'noop', 'gpu'),
});

describe('rendezvous', () => {
  it('scores lie in (0, inf) and grow with the weight', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.integer({ min: 1, max: 1000 }), (h, w) => {
        const s = weightedScore(h, w);
        expect(s).toBeGreaterThan(0);
        expect(Number.isFinite(s)).toBe(true);
        expect(weightedScore(h, w + 1)).toBeGreaterThan(s);
      }),
    );
  });

  it('hashes are spread evenly over the 32-bit range for similar node ids', () => {
    const buckets = new Array<number>(16).fill(0);
    for (let n = 0; n < 10; n++) {
      for (let t = 0; t < 2000; t++) buckets[rendezvousHash(`n${n}`, { job: 'j', task: t }) >>> 28]! += 1;
    }
    // 20,000 samples into 16 buckets: 1,250 expected each, sd about 34.
    for (const b of buckets) expect(Math.abs(b - 1250)).toBeLessThan(200);
  });
});

describe('preferred owner', () => {
  it('every node computes the same owner, whatever order it sees the peers in', () => {
    fc.assert(
      fc.property(peerArb, taskArb, fc.nat(), (peers, t, shift) => {
        const expected = preferredOwner(t, peers);
        const rotated = peers.map((_, i) => peers[(i + shift) % peers.length] as PeerLoad);
        expect(preferredOwner(t, rotated)).toBe(expected);
        // Each node's own policy, with itself as `self` and its free slots as local knowledge,
        // claims the task (before the steal delay) exactly when it is that owner.
        for (const p of peers) {
          const claims = chooseClaims(
            input({ self: p.node, free: p.free, handlers: new Set(p.handlers), ready: [t], peers: rotated, now: 10 }),
          );
          expect(claims.length === 1).toBe(expected === p.node);
        }
      }),
    );
  });

  it('owner can run the task: it has the handler and enough free slots', () => {
    fc.assert(
      fc.property(peerArb, taskArb, (peers, t) => {
        const owner = preferredOwner(t, peers);
        const capable = peers.filter((p) => p.free >= t.slots && (t.handler === null || p.handlers.includes(t.handler)));
        if (capable.length === 0) expect(owner).toBeNull();
        else expect(capable.map((p) => p.node)).toContain(owner);
      }),
    );
  });

  it('shares are proportional to free slots', () => {
    const peers: PeerLoad[] = [
      { node: 'alpha', slots: 8, free: 1, handlers: [] },
      { node: 'beta', slots: 8, free: 2, handlers: [] },
      { node: 'gamma', slots: 8, free: 3, handlers: [] },
      { node: 'delta', slots: 8, free: 6, handlers: [] },
    ];
    const n = 24_000;
    const wins = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const owner = preferredOwner(task(`job-${i % 7}`, i), peers) as string;
      wins.set(owner, (wins.get(owner) ?? 0) + 1);
    }
    for (const p of peers) {
      const expected = (n * p.free) / 12;
      // Generous: the binomial sd is at most about 77 here; 5% of n is 15 of them.
      expect(Math.abs((wins.get(p.node) ?? 0) - expected)).toBeLessThan(n * 0.05);
    }
  });

  it('removing a node only moves the tasks it owned', () => {
    const peers: PeerLoad[] = ['a', 'b', 'c', 'd'].map((node) => ({ node, slots: 4, free: 4, handlers: [] }));
    const without = peers.filter((p) => p.node !== 'c');
    for (let i = 0; i < 2000; i++) {
      const t = task('j', i);
      const before = preferredOwner(t, peers);
      if (before !== 'c') expect(preferredOwner(t, without)).toBe(before);
    }
  });
});

describe('chooseClaims', () => {
  it('never takes more than the free slots', () => {
    fc.assert(
      fc.property(
        fc.array(taskArb, { maxLength: 60 }),
        fc.integer({ min: -2, max: 12 }),
        fc.boolean(),
        (ready, free, steal) => {
          const claims = chooseClaims(
            input({ self: 'me', free, ready, handlers: new Set(['noop', 'gpu']), now: steal ? 5000 : 0 }),
          );
          const used = claims.reduce((s, t) => s + t.slots, 0);
          expect(used).toBeLessThanOrEqual(Math.max(0, free));
          // Claims come in ready-queue order, each task at most once.
          const idx = claims.map((c) => ready.indexOf(c));
          expect([...idx].sort((a, b) => a - b)).toEqual(idx);
        },
      ),
    );
  });

  it('alone, a node claims everything it can run up to its free slots', () => {
    const ready = [task('j', 0), task('j', 1, { handler: 'gpu' }), task('j', 2, { slots: 3 }), task('j', 3), task('j', 4)];
    const claims = chooseClaims(input({ self: 'me', free: 4, ready, handlers: new Set(['noop']) }));
    // The gpu task is not runnable here; the 3-slot task fits after task 0; then nothing is left.
    expect(claims.map((c) => c.task)).toEqual([0, 2]);
  });

  it('handler tasks only where the handler is registered, run tasks anywhere', () => {
    const ready = [task('j', 0, { handler: 'gpu' }), task('j', 1, { handler: 'noop' }), task('j', 2)];
    const claims = chooseClaims(input({ self: 'me', free: 10, ready, handlers: new Set(['noop']), now: 99_999 }));
    expect(claims.map((c) => c.task)).toEqual([1, 2]);
  });

  it('a handler task goes to a peer that has the handler even if this node weighs more', () => {
    const peers: PeerLoad[] = [{ node: 'gpu-box', slots: 1, free: 1, handlers: ['gpu'] }];
    const ready = tasks(50, { handler: 'gpu' });
    // `me` cannot run them at all; `gpu-box` is the only owner.
    expect(chooseClaims(input({ self: 'me', free: 50, ready, peers }))).toEqual([]);
    for (const t of ready) expect(preferredOwner(t, [...peers, { node: 'me', slots: 50, free: 50, handlers: [] }])).toBe('gpu-box');
  });

  it('splits fresh tasks between nodes without overlap, then steals after the delay', () => {
    const peers: PeerLoad[] = [
      { node: 'n1', slots: 100, free: 100, handlers: [] },
      { node: 'n2', slots: 100, free: 100, handlers: [] },
      { node: 'n3', slots: 100, free: 100, handlers: [] },
    ];
    const ready = tasks(300, { readyAt: 1000 });
    const mine = (self: string, now: number): number[] =>
      chooseClaims(input({ self, free: 100, ready, peers, now })).map((t) => t.task);
    const fresh = peers.map((p) => mine(p.node, 1500));
    const all = fresh.flat();
    expect(new Set(all).size).toBe(all.length);
    for (const share of fresh) expect(share.length).toBeGreaterThan(60);
    // Once the tasks have waited stealAfterMs, n1 takes any, up to its free slots.
    const stolen = mine('n1', 3000);
    expect(stolen).toEqual(ready.slice(0, 100).map((t) => t.task));
  });

  it('a task stealable by age is claimed even when the preferred owner is another node', () => {
    const peers: PeerLoad[] = [{ node: 'big', slots: 1000, free: 1000, handlers: [] }];
    const ready = [task('j', 0, { readyAt: 0 }), task('j', 1, { readyAt: 900 })];
    const claims = chooseClaims(input({ self: 'small', free: 1, ready, peers, now: 2000, stealAfterMs: 2000 }));
    expect(claims.map((c) => c.task)).toEqual([0]);
  });

  it('skips tasks with a claim in flight', () => {
    const ready = tasks(5);
    const skip = (r: TaskRef): boolean => r.task % 2 === 0;
    const claims = chooseClaims(input({ self: 'me', free: 10, ready, skip }));
    expect(claims.map((c) => c.task)).toEqual([1, 3]);
  });

  it('reads at most maxScan tasks and stops early when the slots are spent', () => {
    let read = 0;
    function* lazy(): Generator<ReadyTask> {
      for (let i = 0; i < 1_000_000; i++) {
        read++;
        yield task('j', i);
      }
    }
    expect(chooseClaims(input({ self: 'me', free: 1000, ready: lazy(), maxScan: 7 }))).toHaveLength(7);
    expect(read).toBe(7);
    read = 0;
    expect(chooseClaims(input({ self: 'me', free: 3, ready: lazy(), maxScan: 100 }))).toHaveLength(3);
    expect(read).toBe(3);
    read = 0;
    // Another node owns every task: the scan still ends at maxScan.
    const peers: PeerLoad[] = [{ node: 'other', slots: 1e6, free: 1e6, handlers: [] }];
    const claims = chooseClaims(input({ self: 'me', free: 1, ready: lazy(), peers, maxScan: 50 }));
    expect(claims.length).toBeLessThanOrEqual(1);
    expect(read).toBe(50);
  });

  it('is deterministic and has no claims with no free slots', () => {
    fc.assert(
      fc.property(peerArb, fc.array(taskArb, { maxLength: 30 }), (peers, ready) => {
        const a = chooseClaims(input({ self: peers[0]!.node, free: 5, ready, peers, handlers: new Set(['noop']) }));
        const b = chooseClaims(input({ self: peers[0]!.node, free: 5, ready, peers, handlers: new Set(['noop']) }));
        expect(a).toEqual(b);
        expect(chooseClaims(input({ self: 'x', free: 0, ready, peers, now: 1e9 }))).toEqual([]);
      }),
    );
  });
});
