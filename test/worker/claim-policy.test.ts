// The claim policy and rendezvous hashing: agreement between nodes, proportional shares, the
// slot budget, handler filtering, work stealing and the scan bound.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { known } from '../../src/invariant.js';
import type { ReadyTask, TaskRef } from '../../src/scheduler/types.js';
import { chooseClaims, OwnerCache, preferredOwner } from '../../src/worker/claim-policy.js';
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
        // claims the task (before the steal delay) exactly when it is that owner and has room now.
        for (const p of peers) {
          const claims = chooseClaims(
            input({ self: p.node, free: p.free, handlers: new Set(p.handlers), ready: [t], peers: rotated, now: 10 }),
          );
          expect(claims.length === 1).toBe(expected === p.node && p.free >= t.slots);
        }
      }),
    );
  });

  it('owner can run the task: it has the handler and enough slots', () => {
    fc.assert(
      fc.property(peerArb, taskArb, (peers, t) => {
        const owner = preferredOwner(t, peers);
        const capable = peers.filter((p) => p.slots >= t.slots && (t.handler === null || p.handlers.includes(t.handler)));
        if (capable.length === 0) expect(owner).toBeNull();
        else expect(capable.map((p) => p.node)).toContain(owner);
      }),
    );
  });

  it('shares are proportional to slots (capacity), whatever the free slots of the moment', () => {
    const peers: PeerLoad[] = [
      { node: 'alpha', slots: 1, free: 1, handlers: [] },
      { node: 'beta', slots: 2, free: 0, handlers: [] },
      { node: 'gamma', slots: 3, free: 3, handlers: [] },
      { node: 'delta', slots: 6, free: 2, handlers: [] },
    ];
    const n = 24_000;
    const wins = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const owner = preferredOwner(task(`job-${i % 7}`, i), peers) as string;
      wins.set(owner, (wins.get(owner) ?? 0) + 1);
    }
    for (const p of peers) {
      const expected = (n * p.slots) / 12;
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
      fc.property(fc.array(taskArb, { maxLength: 60 }), fc.integer({ min: -2, max: 12 }), fc.boolean(), (ready, free, steal) => {
        const claims = chooseClaims(input({ self: 'me', free, ready, handlers: new Set(['noop', 'gpu']), now: steal ? 5000 : 0 }));
        const used = claims.reduce((s, t) => s + t.slots, 0);
        expect(used).toBeLessThanOrEqual(Math.max(0, free));
        // Claims come in ready-queue order, each task at most once.
        const idx = claims.map((c) => ready.indexOf(c));
        expect([...idx].sort((a, b) => a - b)).toEqual(idx);
      }),
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
    const mine = (self: string, now: number): number[] => chooseClaims(input({ self, free: 100, ready, peers, now })).map((t) => t.task);
    const fresh = peers.map((p) => mine(p.node, 1500));
    const all = fresh.flat();
    expect(new Set(all).size).toBe(all.length);
    for (const share of fresh) expect(share.length).toBeGreaterThan(60);
    // Past stealAfterMs n1 first takes its own share, then (busy owners' next batches left alone)
    // steals up to its free slots: nothing outside n2's and n3's first 100 each is left to steal here.
    const later = mine('n1', 3000);
    expect(later).toEqual(fresh[0]);
    // With owners that run nothing, their tasks are stealable once a thief's own are taken; thieves
    // split them by rendezvous among the nodes other than the owner, so two thieves never collide.
    const steal = (self: string): number[] =>
      chooseClaims(input({ self, free: 150, ready, peers, now: 3000, claimsSoon: () => false })).map((t) => t.task);
    const ownAll = ready.filter((t) => preferredOwner(t, peers) === 'n1').map((t) => t.task);
    const n1 = steal('n1');
    expect(n1).toEqual(expect.arrayContaining(ownAll));
    expect([...n1].sort((a, b) => a - b)).toEqual(n1);
    const stolen = n1.filter((t) => !ownAll.includes(t));
    expect(stolen.length).toBeGreaterThan(40);
    for (const t of stolen) {
      const owner = preferredOwner(ready[t] as ReadyTask, peers) as string;
      expect(
        preferredOwner(
          ready[t] as ReadyTask,
          peers.filter((p) => p.node !== owner),
        ),
      ).toBe('n1');
    }
    const n2Own = ready.filter((t) => preferredOwner(t, peers) === 'n2').map((t) => t.task);
    const n2Stolen = steal('n2').filter((t) => !n2Own.includes(t));
    expect(stolen.filter((t) => n2Stolen.includes(t))).toEqual([]);
  });

  it('a task stealable by age is claimed when its preferred owner runs nothing, and left to a busy owner', () => {
    const peers: PeerLoad[] = [{ node: 'big', slots: 1000, free: 1000, handlers: [] }];
    const ready = [task('j', 0, { readyAt: 0 }), task('j', 1, { readyAt: 900 })];
    const idle = chooseClaims(input({ self: 'small', free: 1, ready, peers, now: 2000, stealAfterMs: 2000, claimsSoon: () => false }));
    expect(idle.map((c) => c.task)).toEqual([0]);
    const busy = chooseClaims(input({ self: 'small', free: 1, ready, peers, now: 2000, stealAfterMs: 2000, claimsSoon: () => true }));
    expect(busy).toEqual([]);
  });

  it('nodes partition the ready set even when their free slots differ from what gossip says', () => {
    // The bug behind a 54 % conflict rate: each node weighed itself by its exact free slots and its
    // peers by a stale gossip sample (often 0, which left them out), so all claimed the queue's head.
    const gossip: PeerLoad[] = [
      { node: 'n1', slots: 64, free: 0, handlers: ['noop'] },
      { node: 'n2', slots: 64, free: 3, handlers: ['noop'] },
      { node: 'n3', slots: 64, free: 64, handlers: ['noop'] },
    ];
    const ready = tasks(3000, { readyAt: 0, handler: 'noop' });
    const local = new Map([
      ['n1', 64],
      ['n2', 40],
      ['n3', 7],
    ]);
    for (const now of [100, 60_000]) {
      // Fresh tasks, then a backlog older than stealAfterMs that every node is busy working through.
      const claims = gossip.map((p) =>
        chooseClaims(
          input({
            self: p.node,
            free: known(local.get(p.node), 'every peer has a free count'),
            slots: 64,
            handlers: new Set(['noop']),
            ready,
            peers: gossip,
            now,
          }),
        ),
      );
      const all = claims.flat().map((t) => t.task);
      expect(new Set(all).size).toBe(all.length);
      claims.forEach((c, i) => expect(c.length).toBe(local.get(gossip[i]!.node)));
    }
  });

  it("a node out of its own work steals past the head of each busy owner's share (claims in flight, next batch)", () => {
    const peers: PeerLoad[] = [
      { node: 'owner', slots: 10, free: 0, handlers: [] },
      { node: 'thief', slots: 1, free: 1, handlers: [] },
    ];
    const ready = tasks(400, { readyAt: 0 });
    const ownerTasks = ready.filter((t) => preferredOwner(t, peers) === 'owner').map((t) => t.task);
    const stolen = chooseClaims(
      input({ self: 'thief', free: 1, ready: ready.filter((t) => ownerTasks.includes(t.task)), peers, now: 5000 }),
    );
    // The owner's first 2 x 10 tasks are its claims in flight and its next batch; the thief takes the 21st.
    expect(stolen.map((t) => t.task)).toEqual([ownerTasks[20]]);
    // Own tasks come first: with some of its own left, a node steals only with the slots they leave.
    const mixed = chooseClaims(input({ self: 'thief', free: 3, ready, peers, now: 5000 }));
    const own = mixed.filter((t) => preferredOwner(t, peers) === 'thief');
    expect(own.length).toBe(3);
  });

  it('a stealable task is never left to a thief that is full: the thieves that have room split it', () => {
    const peers: PeerLoad[] = ['owner', 't1', 't2', 't3'].map((node) => ({ node, slots: 2, free: 0, handlers: [] }));
    const ready = tasks(200, { readyAt: 0 }).filter((t) => preferredOwner(t, peers) === 'owner');
    const steal = (self: string, full: readonly string[]): number[] =>
      chooseClaims(input({ self, free: 200, ready, peers, now: 5000, claimsSoon: () => false, canSteal: (n) => !full.includes(n) })).map(
        (t) => t.task,
      );
    // Everyone has room: three thieves split the owner's tasks without overlap.
    const all = ['t1', 't2', 't3'].map((t) => steal(t, []));
    expect(all.flat().length).toBe(ready.length);
    expect(new Set(all.flat()).size).toBe(ready.length);
    // t2 and t3 are full: t1 takes all of them.
    expect(steal('t1', ['t2', 't3'])).toEqual(ready.map((t) => t.task));
  });

  it('does not steal with slots left over only because its own tasks are claimed already (in flight)', () => {
    const peers: PeerLoad[] = ['me', 'other'].map((node) => ({ node, slots: 64, free: 0, handlers: [] }));
    const ready = tasks(80, { readyAt: 0 });
    const mine = new Set(ready.filter((t) => preferredOwner(t, peers) === 'me').map((t) => t.task));
    const steal = (inFlight: boolean): ReadyTask[] =>
      chooseClaims(
        input({ self: 'me', free: 1, ready, peers, now: 5000, claimsSoon: () => false, skip: (r) => inFlight && mine.has(r.task) }),
      );
    expect(steal(true)).toEqual([]);
    // The same window without claims of ours in flight: its own task first.
    expect(steal(false).map((t) => mine.has(t.task))).toEqual([true]);
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

describe('abandoned tasks', () => {
  it('a task whose owner and chosen thief both gossip but never claim goes to any node after 5 x stealAfterMs', () => {
    // Four live-looking peers; only `me` actually claims. Every task's owner and thief are someone.
    const peers: PeerLoad[] = ['me', 'ghost1', 'ghost2', 'ghost3'].map((node) => ({ node, slots: 4, free: 4, handlers: [] }));
    const ready = tasks(40);
    const at = (now: number): number[] =>
      chooseClaims(input({ self: 'me', free: 40, ready, peers, now, claimsSoon: () => false })).map((t) => t.task);
    const early = at(2500);
    // Before: me takes its own share and what it was chosen to steal, not everything.
    expect(early.length).toBeGreaterThan(0);
    expect(early.length).toBeLessThan(40);
    // After 5 x 2000 ms nothing is left waiting on a node that never claims.
    expect(at(10_000)).toHaveLength(40);
  });
});

describe('placement and limits (docs/dag-file.md §14)', () => {
  const peers: PeerLoad[] = [
    { node: 'a', slots: 4, free: 4, handlers: [] },
    { node: 'b', slots: 4, free: 4, handlers: [] },
    { node: 'c', slots: 4, free: 4, handlers: [] },
  ];
  const labels: Record<string, Record<string, string>> = { b: { gpu: 'a100' } };
  const labelsOf = (n: string) => labels[n];

  it('never claims a task whose on: labels it lacks, however long it waited; the labelled node owns all of them', () => {
    const pinned = tasks(12, { on: { gpu: 'a100' } });
    for (const self of ['a', 'c']) {
      const mine = chooseClaims(input({ self, free: 4, peers, ready: pinned, labelsOf, now: 60_000 }));
      expect(mine).toEqual([]);
    }
    const b = chooseClaims(input({ self: 'b', free: 4, peers, ready: pinned, labels: { gpu: 'a100' }, labelsOf }));
    expect(b).toHaveLength(4);
    for (const t of pinned) expect(preferredOwner(t, peers, labelsOf)).toBe('b');
  });

  it('claims no more tasks of a pool, or of a limited job, than the room the state shows', () => {
    const ready = [...tasks(6, { pool: 'db' }), ...Array.from({ length: 6 }, (_, i) => task('job-c', i, { concurrency: 3 }))];
    const room = {
      pool: (name: string) => (name === 'db' ? 2 : 0),
      job: (job: string, limit: number) => (job === 'job-c' ? limit - 2 : limit),
    };
    const chosen = chooseClaims(input({ self: 'a', free: 16, peers: [peers[0] as PeerLoad], ready, room }));
    expect(chosen.filter((t) => t.pool === 'db')).toHaveLength(2);
    expect(chosen.filter((t) => t.job === 'job-c')).toHaveLength(1);
    // No room at all: nothing of the pool is tried.
    const none = chooseClaims(
      input({
        self: 'a',
        free: 16,
        peers: [peers[0] as PeerLoad],
        ready: tasks(3, { pool: 'db' }),
        room: { pool: () => 0, job: (_j, l) => l },
      }),
    );
    expect(none).toEqual([]);
  });
});

describe('owner cache (big clusters)', () => {
  const peersOf = (n: number, handlers: readonly string[] = ['noop']): PeerLoad[] =>
    Array.from({ length: n }, (_, i) => ({ node: `n${i + 1}`, slots: 4, free: 4, handlers: [...handlers] }));
  const backlog = tasks(5_000, { handler: 'noop' });
  const at = (peers: PeerLoad[], now: number, owners?: OwnerCache): ClaimInput =>
    input({
      self: 'n1',
      free: 4,
      slots: 4,
      handlers: new Set(['noop']),
      now,
      ready: backlog,
      peers,
      maxScan: 64 + 16 * (peers.length + 1),
      ...(owners ? { owners } : {}),
    });

  it('chooses what the policy chooses without it, run after run, as the ring changes', () => {
    const owners = new OwnerCache();
    const rings = [peersOf(100), peersOf(100), peersOf(60), peersOf(100, ['noop', 'sleep']), peersOf(100)];
    for (const [i, peers] of rings.entries()) {
      for (const now of [0, 30_000]) {
        expect(chooseClaims(at(peers, now, owners)), `ring ${i} at ${now}`).toEqual(chooseClaims(at(peers, now)));
      }
    }
  });

  it('ranks each scanned task once per ring: a second run over the same ring computes no owner', () => {
    const owners = new OwnerCache();
    const peers = peersOf(200);
    chooseClaims(at(peers, 0, owners));
    const first = owners.misses;
    // The scan passes about free x nodes tasks to find this node's 4, each ranked over all 200 nodes on the first run.
    expect(first).toBeGreaterThan(400);
    chooseClaims(at(peers, 0, owners));
    expect(owners.misses).toBe(first);
    // A node gone from gossip is a new ring: the owners are found again.
    chooseClaims(at(peers.slice(0, 150), 0, owners));
    expect(owners.misses).toBeGreaterThan(first);
    expect(owners.size).toBeLessThanOrEqual(first);
  });
});
