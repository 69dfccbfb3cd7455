// The scheduler state machine's rules (docs/architecture.md §7), one at a time: submit and its
// validation, idempotency and shards; claims and why they are refused; fenced finishes; leases,
// restarts, retries with backoff, timeouts; cancel; retention; the ready order; claimNext;
// undecodable entries; snapshots.
import { describe, expect, it } from 'vitest';
import { at } from '../../src/invariant.js';
import { encodeCommand } from '../../src/scheduler/command-codec.js';
import { Scheduler, TIMEOUT_GRACE_MS, backoffFor } from '../../src/scheduler/machine.js';
import { MAX_BACKOFF_MS, RANGE_EVENT_MIN, type Command, type ReadyTask, type TaskEvent } from '../../src/scheduler/types.js';
import { Driver, chain, handlerTask, job, ofType, result, stateOf, task } from './machine-helpers.js';

describe('submit', () => {
  it('creates the job; tasks without deps are ready, the others wait', () => {
    const d = new Driver();
    const fx = d.submit('j1', job([task('a'), task('b', { deps: ['a'] }), task('c')]));
    expect(fx[0]).toEqual({ type: 'submitted', requested: 'j1', job: 'j1', existing: false });
    expect(ofType(fx, 'task').map((e) => [e.name, e.from, e.to])).toEqual([
      ['a', 'waiting', 'ready'],
      ['c', 'waiting', 'ready'],
    ]);
    const v = d.m.job('j1');
    expect(v?.state).toBe('running');
    expect(v?.submittedAt).toBe(1000);
    expect(v?.counts).toEqual({ waiting: 1, ready: 2, running: 0, succeeded: 0, failed: 0, skipped: 0 });
    expect(Object.keys(v?.tasks ?? {})).toEqual(['a', 'b', 'c']);
    expect(v?.tasks['b']).toMatchObject({ state: 'waiting', attempt: 0, node: null, fence: null, exitCode: null, reason: null });
    expect(d.m.readyCount()).toBe(2);
    expect(d.m.jobs()).toEqual([
      { id: 'j1', name: 'test-job', state: 'running', submittedAt: 1000, finishedAt: null, reason: null, counts: v?.counts },
    ]);
  });

  it('re-validates the spec deterministically and rejects what is invalid', () => {
    const d = new Driver();
    const fx = d.submit('j1', job([task('a', { deps: ['b'] }), task('b', { deps: ['a'] })]));
    expect(fx).toHaveLength(1);
    expect(fx[0]).toMatchObject({ type: 'submit-rejected', requested: 'j1' });
    expect((fx[0] as { error: string }).error).toMatch(/cycle|itself|depend/i);
    expect(d.m.job('j1')).toBeUndefined();
    const bad = d.submit('j2', job([task('a', { slots: 0 })]));
    expect(bad[0]).toMatchObject({ type: 'submit-rejected', requested: 'j2' });
    expect(d.m.jobs()).toEqual([]);
  });

  it('answers a second submit with the same idempotency key with the existing job', () => {
    const d = new Driver();
    d.submit('j1', chain(2), 'key-1');
    const fx = d.submit('j2', chain(3), 'key-1');
    expect(fx).toEqual([{ type: 'submitted', requested: 'j2', job: 'j1', existing: true }]);
    expect(d.m.jobs().map((j) => j.id)).toEqual(['j1']);
    expect(d.submit('j3', chain(1), 'key-2')[0]).toMatchObject({ type: 'submitted', job: 'j3', existing: false });
  });

  it('refuses a job id already taken', () => {
    const d = new Driver();
    d.submit('j1', chain(1));
    const fx = d.submit('j1', chain(2));
    expect(fx).toEqual([{ type: 'submit-rejected', requested: 'j1', error: 'job id j1 is already taken' }]);
    expect(Object.keys(d.m.job('j1')?.tasks ?? {})).toEqual(['t0']);
  });

  it('expands shards to name[0]..name[N-1]; dependents wait for all of them', () => {
    const d = new Driver();
    d.submit('j', job([task('a', { shards: 3 }), task('b', { deps: ['a'] })]));
    expect(Object.keys(d.m.job('j')?.tasks ?? {})).toEqual(['a[0]', 'a[1]', 'a[2]', 'b']);
    d.hb('n1');
    d.claim('n1', [
      ['j', 0],
      ['j', 1],
      ['j', 2],
    ]);
    const l = d.m.launch({ job: 'j', task: 2 });
    expect(l).toMatchObject({ name: 'a[2]', shard: 2, shards: 3, jobName: 'test-job', attempt: 1 });
    d.done('n1', 'j', 0);
    d.done('n1', 'j', 2);
    expect(stateOf(d.m, 'j', 'b')).toBe('waiting');
    const fx = d.done('n1', 'j', 1);
    expect(ofType(fx, 'task').map((e) => [e.name, e.to])).toEqual([
      ['a[1]', 'succeeded'],
      ['b', 'ready'],
    ]);
  });

  it('does not build an object per task for a 1,000,000-task sharded job', () => {
    const d = new Driver();
    const n = 999_999;
    const fx = d.submit('big', job([task('s', { shards: n }), task('after', { deps: ['s'] })]));
    expect(fx).toEqual([
      { type: 'submitted', requested: 'big', job: 'big', existing: false },
      { type: 'tasks', job: 'big', start: 0, end: n, from: 'waiting', to: 'ready', reason: null },
    ]);
    expect(d.m.readyCount()).toBe(n);
    expect(d.m.jobs()[0]?.counts.ready).toBe(n);
    const first = d.m.ready()[Symbol.iterator]().next().value;
    expect(first).toMatchObject({ job: 'big', task: 0 });
    // An untouched range of shards is a few bytes in the snapshot.
    expect(d.m.encode().length).toBeLessThan(1000);
    d.hb('n1', { slots: 2 });
    d.claim('n1', [
      ['big', 0],
      ['big', 1],
    ]);
    expect(d.m.readyCount()).toBe(n - 2);
    const it = d.m.ready()[Symbol.iterator]();
    const next = (): ReadyTask | undefined => (it.next() as IteratorResult<ReadyTask, undefined>).value;
    expect([next()?.task, next()?.task]).toEqual([2, 3]);
    // Cancelling reports the long run of ready shards as one effect, the rest one by one.
    const c = d.do({ type: 'cancel', job: 'big' });
    expect(ofType(c, 'tasks')).toEqual([
      { type: 'tasks', job: 'big', start: 2, end: n, from: 'ready', to: 'skipped', reason: 'cancelled' },
    ]);
    expect(ofType(c, 'task').map((e) => e.name)).toEqual(['s[0]', 's[1]', 'after']);
    expect(d.m.readyCount()).toBe(0);
    expect(RANGE_EVENT_MIN).toBeGreaterThan(1);
  });
});

describe('claim', () => {
  it('accepts a ready task for a known node with room: attempt 1, fence = the log index', () => {
    const d = new Driver();
    d.submit('j', chain(2));
    d.hb('n1', { slots: 2 });
    const fx = d.claim('n1', [['j', 0]]);
    expect(fx).toEqual([
      { type: 'task', job: 'j', task: 0, name: 't0', from: 'ready', to: 'running', node: 'n1', attempt: 1, fence: d.index, reason: null },
    ]);
    expect(d.m.launch({ job: 'j', task: 0 })).toMatchObject({
      attempt: 1,
      fence: d.index,
      exec: { kind: 'run', command: 'true' },
      timeoutMs: 60_000,
      slots: 1,
    });
    expect(d.m.node('n1')).toMatchObject({ used: 1, running: 1 });
    expect(d.m.held('n1').map((l) => l.name)).toEqual(['t0']);
    expect(d.m.stats.claimsAccepted).toBe(1);
    expect(d.m.readyCount()).toBe(0);
  });

  it('refuses, with a reason each, what the rules do not allow', () => {
    const d = new Driver();
    d.submit('j', job([task('a'), task('b', { deps: ['a'] }), handlerTask('h', 'gpu'), task('big', { slots: 3 })]));
    const reasons = (fx: ReturnType<Driver['do']>) => ofType(fx, 'ignored').map((e) => e.reason);
    expect(reasons(d.claim('ghost', [['j', 0]]))).toEqual(['j/0: unknown node ghost']);
    d.hb('n1', { slots: 2 });
    expect(reasons(d.claim('n1', [['j', 0]], 7))).toEqual(['j/0: stale boot 7 of n1']);
    expect(reasons(d.claim('n1', [['j', 1]]))).toEqual(['j/1: task is waiting']);
    expect(reasons(d.claim('n1', [['j', 2]]))).toEqual(['j/2: node lacks handler gpu']);
    expect(reasons(d.claim('n1', [['j', 3]]))).toEqual(['j/3: no free slots (2 free, 3 needed)']);
    expect(reasons(d.claim('n1', [['nope', 0]]))).toEqual(['nope/0: unknown job']);
    expect(reasons(d.claim('n1', [['j', 99]]))).toEqual(['j/99: no such task']);
    // The first claim of a task wins; a second, in the same command or later, is refused.
    expect(
      reasons(
        d.claim('n1', [
          ['j', 0],
          ['j', 0],
        ]),
      ),
    ).toEqual(['j/0: task is running']);
    d.hb('n2', { handlers: ['gpu'] });
    expect(reasons(d.claim('n2', [['j', 0]]))).toEqual(['j/0: task is running']);
    expect(reasons(d.claim('n2', [['j', 2]]))).toEqual([]);
    expect(d.m.stats.claimsRejected).toBe(9);
    expect(d.m.stats.claimsAccepted).toBe(2);
  });

  it('counts slots: a node never holds more than it has', () => {
    const d = new Driver();
    d.submit('j', job([task('a', { shards: 5, slots: 2 })]));
    d.hb('n1', { slots: 5 });
    const fx = d.claim('n1', [
      ['j', 0],
      ['j', 1],
      ['j', 2],
    ]);
    expect(ofType(fx, 'task')).toHaveLength(2);
    expect(ofType(fx, 'ignored')[0]?.reason).toBe('j/2: no free slots (1 free, 2 needed)');
    expect(d.m.node('n1')).toMatchObject({ used: 4, running: 2 });
    d.done('n1', 'j', 0);
    expect(d.m.node('n1')).toMatchObject({ used: 2, running: 1 });
    expect(ofType(d.claim('n1', [['j', 2]]), 'task')).toHaveLength(1);
  });
});

describe('finish', () => {
  it('is fenced: a stale attempt, another holder, another boot or a task not running is ignored', () => {
    const d = new Driver();
    d.submit('j', chain(2));
    d.hb('n1');
    d.hb('n2');
    d.claim('n1', [['j', 0]]);
    const reasons = (fx: ReturnType<Driver['do']>) => ofType(fx, 'ignored').map((e) => e.reason);
    expect(reasons(d.finish('n1', [result('j', 0, 2)]))).toEqual(['j/0 attempt 2: attempt is stale (current 1)']);
    expect(reasons(d.finish('n2', [result('j', 0, 1)]))).toEqual(['j/0 attempt 1: task is held by n1']);
    expect(reasons(d.finish('n1', [result('j', 0, 1)], { boot: 2 }))).toEqual(['j/0 attempt 1: stale boot 2 of n1']);
    expect(reasons(d.finish('n1', [result('j', 1, 0)]))).toEqual(['j/1 attempt 0: task is waiting']);
    expect(d.m.stats.finishesStale).toBe(4);
    expect(stateOf(d.m, 'j', 't0')).toBe('running');
    // The right one is accepted once; the same result again is stale.
    const ok = d.finish('n1', [result('j', 0, 1, 'succeeded', { stdout: 'out', exitCode: 0, durationMs: 12 })]);
    expect(ofType(ok, 'task').map((e) => [e.name, e.to])).toEqual([
      ['t0', 'succeeded'],
      ['t1', 'ready'],
    ]);
    expect(reasons(d.finish('n1', [result('j', 0, 1)]))).toEqual(['j/0 attempt 1: task is succeeded']);
    expect(d.m.stats.finishesAccepted).toBe(1);
    expect(d.m.job('j')?.tasks['t0']).toMatchObject({
      state: 'succeeded',
      exitCode: 0,
      durationMs: 12,
      stdout: 'out',
      stderr: '',
      node: 'n1',
      attempt: 1,
    });
  });

  it('ends the job once every task is final: succeeded, with a removal at finishedAt + retention', () => {
    const d = new Driver();
    d.submit('j', chain(2, {}), null);
    d.hb('n1');
    d.claim('n1', [['j', 0]]);
    d.done('n1', 'j', 0, 'succeeded', {}, 10);
    d.claim('n1', [['j', 1]]);
    const fx = d.done('n1', 'j', 1, 'succeeded', {}, 10);
    expect(ofType(fx, 'job')).toEqual([{ type: 'job', job: 'j', state: 'succeeded' }]);
    expect(d.m.job('j')).toMatchObject({ state: 'succeeded', finishedAt: 1020 });
    expect(d.m.nextDeadline()).toBe(1020 + 3_600_000);
  });

  it('claimNext moves a chain one commit per hop on the same node', () => {
    const d = new Driver();
    d.submit('j', chain(4));
    d.hb('n1', { slots: 1 });
    d.claim('n1', [['j', 0]]);
    for (let i = 0; i < 3; i++) {
      const fx = d.done('n1', 'j', i, 'succeeded', { claimNext: true });
      const events = ofType(fx, 'task').map((e) => `${e.name}:${e.from}->${e.to}`);
      expect(events).toEqual([`t${i}:running->succeeded`, `t${i + 1}:waiting->ready`, `t${i + 1}:ready->running`]);
      expect(d.m.launch({ job: 'j', task: i + 1 })).toMatchObject({ attempt: 1, fence: d.index });
    }
    expect(d.done('n1', 'j', 3, 'succeeded', { claimNext: true }).some((e) => e.type === 'job')).toBe(true);
  });

  it('claimNext takes only what fits and what the node can run', () => {
    const d = new Driver();
    d.submit('j', job([task('a'), task('b', { deps: ['a'], shards: 4 }), handlerTask('h', 'gpu', { deps: ['a'] })]));
    d.hb('n1', { slots: 3 });
    d.claim('n1', [['j', 0]]);
    const fx = d.done('n1', 'j', 0, 'succeeded', { claimNext: true });
    expect(
      ofType(fx, 'task')
        .filter((e) => e.to === 'running')
        .map((e) => e.name),
    ).toEqual(['b[0]', 'b[1]', 'b[2]']);
    expect(d.m.readyCount()).toBe(2);
    // Without claimNext nothing is claimed.
    const d2 = new Driver();
    d2.submit('j', chain(2));
    d2.hb('n1');
    d2.claim('n1', [['j', 0]]);
    expect(ofType(d2.done('n1', 'j', 0), 'task').filter((e) => e.to === 'running')).toEqual([]);
  });
});

describe('finish with claims', () => {
  it('the results free their slots, claimNext takes the dependents first, the claims take what is left', () => {
    const d = new Driver();
    d.submit('j', job([task('a'), task('b', { deps: ['a'] }), task('x', { shards: 4 })]));
    d.hb('n1', { slots: 2 });
    d.claim('n1', [
      ['j', 0],
      ['j', 2],
    ]);
    const a = d.m.launch({ job: 'j', task: 0 })?.attempt as number;
    // n1 is full; its finish of `a` frees one slot, which `b` (claimNext) takes: of x[1] and x[2], none fits.
    const fx = d.do({
      type: 'finish',
      node: 'n1',
      boot: 1,
      results: [result('j', 0, a)],
      claimNext: true,
      claims: [
        { job: 'j', task: 3 },
        { job: 'j', task: 4 },
      ],
    });
    expect(
      ofType(fx, 'task')
        .filter((e) => e.to === 'running')
        .map((e) => e.name),
    ).toEqual(['b']);
    expect(ofType(fx, 'ignored').map((e) => e.command)).toEqual(['claim', 'claim']);
    expect(d.m.stats.claimsRejected).toBe(2);
    // Without dependents to take it, the freed slot goes to the first claim that fits.
    const b = d.m.launch({ job: 'j', task: 1 })?.attempt as number;
    const fx2 = d.do({
      type: 'finish',
      node: 'n1',
      boot: 1,
      results: [result('j', 1, b)],
      claimNext: true,
      claims: [
        { job: 'j', task: 3 },
        { job: 'j', task: 4 },
      ],
    });
    const started = ofType(fx2, 'task').filter((e) => e.to === 'running');
    expect(started.map((e) => e.name)).toEqual(['x[1]']);
    expect(started[0]?.fence).toBe(d.index);
    expect(d.m.stats.claimsRejected).toBe(3);
  });

  it('claims of a finish from a stale boot are all rejected', () => {
    const d = new Driver();
    d.submit('j', job([task('x', { shards: 2 })]));
    d.hb('n1', { slots: 2 });
    const fx = d.do({ type: 'finish', node: 'n1', boot: 99, results: [], claimNext: true, claims: [{ job: 'j', task: 0 }] });
    expect(ofType(fx, 'task')).toEqual([]);
    expect(d.m.stats.claimsRejected).toBe(1);
  });
});

describe('failures, retries and skips', () => {
  it('retries with doubling backoff, then fails and skips every transitive dependent', () => {
    const d = new Driver();
    d.submit(
      'j',
      job([task('a', { retries: 2, backoffMs: 1000 }), task('b', { deps: ['a'] }), task('c', { deps: ['b'], shards: 2 }), task('x')]),
    );
    d.hb('n1', { leaseMs: 100_000 });
    const failOnce = (expectedRetryAt: number | null) => {
      d.claim('n1', [['j', 0]]);
      const fx = d.done('n1', 'j', 0, 'failed');
      const view = d.m.job('j')?.tasks['a'];
      expect(view?.retryAt).toBe(expectedRetryAt);
      return fx;
    };
    let fx = failOnce(d.time + 1000);
    expect(ofType(fx, 'task')[0]).toMatchObject({ from: 'running', to: 'waiting', reason: 'attempt failed' });
    expect(d.m.stats.retries).toBe(1);
    // Not ready before the backoff has passed; ready once it has.
    expect(ofType(d.tick(999), 'task')).toEqual([]);
    expect(ofType(d.tick(1), 'task')[0]).toMatchObject({ name: 'a', from: 'waiting', to: 'ready', reason: 'retry' });
    fx = failOnce(d.time + 2000);
    d.tick(2000);
    fx = failOnce(null);
    expect(ofType(fx, 'task').map((e) => `${e.name}:${e.to}:${e.reason}`)).toEqual([
      'a:failed:attempt failed',
      'b:skipped:upstream failed: a',
      'c[0]:skipped:upstream failed: a',
      'c[1]:skipped:upstream failed: a',
    ]);
    expect(ofType(fx, 'job')).toEqual([]);
    expect(d.m.job('j')?.tasks['a']?.attempt).toBe(3);
    // x still runs; the job fails once it is done.
    d.claim('n1', [['j', 4]]);
    expect(ofType(d.done('n1', 'j', 4), 'job')).toEqual([{ type: 'job', job: 'j', state: 'failed' }]);
    expect(d.m.job('j')?.counts).toEqual({ waiting: 0, ready: 0, running: 0, succeeded: 1, failed: 1, skipped: 3 });
  });

  it('caps the backoff at MAX_BACKOFF_MS', () => {
    expect(backoffFor(1000, 1)).toBe(1000);
    expect(backoffFor(1000, 2)).toBe(2000);
    expect(backoffFor(1000, 5)).toBe(16_000);
    expect(backoffFor(1000, 20)).toBe(MAX_BACKOFF_MS);
    expect(backoffFor(1000, 100)).toBe(MAX_BACKOFF_MS);
  });

  it('a backoff of 0 makes the task ready again at once', () => {
    const d = new Driver();
    d.submit('j', job([task('a', { retries: 1, backoffMs: 0 })]));
    d.hb('n1');
    d.claim('n1', [['j', 0]]);
    const fx = d.done('n1', 'j', 0, 'failed');
    expect(ofType(fx, 'task')[0]).toMatchObject({ from: 'running', to: 'ready', reason: 'attempt failed' });
    expect(d.m.readyCount()).toBe(1);
  });

  it('a timeout outcome counts as a failure with reason timeout', () => {
    const d = new Driver();
    d.submit('j', job([task('a')]));
    d.hb('n1');
    d.claim('n1', [['j', 0]]);
    const fx = d.done('n1', 'j', 0, 'timeout');
    expect(ofType(fx, 'task')[0]).toMatchObject({ to: 'failed', reason: 'timeout' });
    expect(ofType(fx, 'job')[0]).toMatchObject({ state: 'failed' });
  });
});

describe('leases and restarts', () => {
  it('an expired lease returns the tasks to ready without counting a failure, and stops the holder', () => {
    const d = new Driver();
    d.submit('j', job([task('a', { retries: 0 }), task('b')]));
    d.hb('n1', { leaseMs: 5000 });
    d.claim('n1', [
      ['j', 0],
      ['j', 1],
    ]);
    expect(d.m.nextDeadline()).toBe(1000 + 5000 + 1);
    expect(d.tick(5000)).toEqual([]);
    const fx = d.tick(1);
    expect(ofType(fx, 'stop')).toEqual([
      { type: 'stop', job: 'j', task: 0, node: 'n1', attempt: 1, reason: 'lease expired' },
      { type: 'stop', job: 'j', task: 1, node: 'n1', attempt: 1, reason: 'lease expired' },
    ]);
    expect(ofType(fx, 'task').map((e) => `${e.name}:${e.from}->${e.to}:${e.reason}`)).toEqual([
      'a:running->ready:lease expired',
      'b:running->ready:lease expired',
    ]);
    expect(d.m.stats.leaseExpiries).toBe(2);
    expect(d.m.node('n1')).toMatchObject({ used: 0, running: 0 });
    // retries: 0, yet it may run again: an expiry is not a failure. The new attempt fences the old.
    d.hb('n2');
    d.claim('n2', [['j', 0]]);
    expect(d.m.launch({ job: 'j', task: 0 })).toMatchObject({ attempt: 2 });
    expect(ofType(d.finish('n1', [result('j', 0, 1)]), 'ignored')).toHaveLength(1);
    expect(ofType(d.done('n2', 'j', 0), 'task')[0]).toMatchObject({ to: 'succeeded' });
  });

  it('heartbeats, claims and finishes renew the lease', () => {
    const d = new Driver();
    d.submit('j', job([task('a'), task('b')]));
    d.hb('n1', { leaseMs: 5000 });
    d.claim('n1', [['j', 0]]);
    for (let i = 0; i < 5; i++) expect(d.hb('n1', {}, 4000)).toEqual([]);
    d.claim('n1', [['j', 1]], 1, 4000);
    d.done('n1', 'j', 1, 'succeeded', {}, 4000);
    expect(d.m.nextDeadline()).toBe(d.time + 5001);
    expect(stateOf(d.m, 'j', 'a')).toBe('running');
    expect(ofType(d.tick(5001), 'stop')).toHaveLength(1);
  });

  it('ignores a heartbeat with an old seq for the same boot', () => {
    const d = new Driver();
    d.hb('n1', { seq: 5, slots: 2 });
    const fx = d.hb('n1', { seq: 4, slots: 9 });
    expect(ofType(fx, 'ignored')[0]?.reason).toMatch(/seq 4/);
    expect(d.m.node('n1')).toMatchObject({ heartbeatSeq: 5, slots: 2 });
    d.hb('n1', { seq: 6, slots: 3 });
    expect(d.m.node('n1')).toMatchObject({ heartbeatSeq: 6, slots: 3 });
  });

  it('a heartbeat with a new boot fails what the old incarnation held; the old boot is stale from then on', () => {
    const d = new Driver();
    d.submit('j', job([task('a', { retries: 1, backoffMs: 500 }), task('b'), task('c', { deps: ['b'] })]));
    d.hb('n1');
    d.claim('n1', [
      ['j', 0],
      ['j', 1],
    ]);
    const fx = d.hb('n1', { boot: 2 });
    expect(ofType(fx, 'task').map((e) => `${e.name}:${e.to}:${e.reason}`)).toEqual([
      'a:waiting:holder restarted',
      'b:failed:holder restarted',
      'c:skipped:upstream failed: b',
    ]);
    expect(d.m.node('n1')).toMatchObject({ boot: 2, used: 0, running: 0 });
    expect(d.m.stats.retries).toBe(1);
    // The old incarnation's late commands change nothing.
    expect(ofType(d.hb('n1', { boot: 1 }), 'ignored')[0]?.reason).toMatch(/earlier incarnation/);
    expect(d.m.node('n1')?.boot).toBe(2);
    expect(ofType(d.finish('n1', [result('j', 0, 1)], { boot: 1 }), 'ignored')).toHaveLength(1);
    d.tick(500);
    expect(ofType(d.claim('n1', [['j', 0]], 1), 'ignored')[0]?.reason).toMatch(/stale boot/);
    expect(ofType(d.claim('n1', [['j', 0]], 2), 'task')[0]).toMatchObject({ attempt: 2 });
  });

  it('fails a running task whose holder never reports, timeoutMs + grace after it started', () => {
    const d = new Driver();
    d.submit('j', job([task('a', { timeoutMs: 10_000, retries: 1, backoffMs: 1000 })]));
    d.hb('n1', { leaseMs: 1_000_000 });
    d.claim('n1', [['j', 0]]);
    const startedAt = d.time;
    expect(d.m.nextDeadline()).toBe(startedAt + 10_000 + TIMEOUT_GRACE_MS);
    expect(d.tick(10_000 + TIMEOUT_GRACE_MS - 1)).toEqual([]);
    const fx = d.tick(1);
    expect(ofType(fx, 'stop')).toEqual([{ type: 'stop', job: 'j', task: 0, node: 'n1', attempt: 1, reason: 'timeout' }]);
    expect(ofType(fx, 'task')[0]).toMatchObject({ from: 'running', to: 'waiting', reason: 'timeout' });
    expect(d.m.node('n1')?.running).toBe(0);
  });
});

describe('cancel', () => {
  it('stops running tasks and skips the rest; the job is cancelled', () => {
    const d = new Driver();
    d.submit('j', job([task('a'), task('b'), task('c', { deps: ['a'] }), task('r', { retries: 3 })]));
    d.hb('n1');
    d.claim('n1', [
      ['j', 0],
      ['j', 3],
    ]);
    d.done('n1', 'j', 3, 'failed');
    const fx = d.do({ type: 'cancel', job: 'j' });
    expect(ofType(fx, 'stop')).toEqual([{ type: 'stop', job: 'j', task: 0, node: 'n1', attempt: 1, reason: 'cancelled' }]);
    expect(ofType(fx, 'task').map((e) => `${e.name}:${e.from}->${e.to}:${e.reason}`)).toEqual([
      'a:running->skipped:cancelled',
      'b:ready->skipped:cancelled',
      'c:waiting->skipped:cancelled',
      'r:waiting->skipped:cancelled',
    ]);
    expect(ofType(fx, 'job')).toEqual([{ type: 'job', job: 'j', state: 'cancelled' }]);
    expect(d.m.readyCount()).toBe(0);
    expect(d.m.node('n1')).toMatchObject({ used: 0, running: 0 });
    expect(d.m.job('j')?.tasks['a']?.reason).toBe('cancelled');
    // Only the removal timer is left.
    expect(d.m.nextDeadline()).toBe(d.time + 3_600_000);
    expect(ofType(d.do({ type: 'cancel', job: 'j' }), 'ignored')[0]?.reason).toMatch(/already ended: cancelled/);
    expect(ofType(d.do({ type: 'cancel', job: 'nope' }), 'ignored')[0]?.reason).toMatch(/unknown job/);
    expect(ofType(d.finish('n1', [result('j', 0, 1)]), 'ignored')[0]?.reason).toMatch(/job is cancelled/);
  });
});

describe('retention', () => {
  it('removes a finished job after its retention; its id and key can be used again', () => {
    const d = new Driver();
    d.submit('j', job([task('a')], { retentionMs: 60_000 }), 'k');
    d.hb('n1', { leaseMs: 1_000_000 });
    d.claim('n1', [['j', 0]]);
    d.done('n1', 'j', 0);
    expect(d.tick(59_999)).toEqual([]);
    expect(d.tick(1)).toEqual([{ type: 'removed', job: 'j' }]);
    expect(d.m.job('j')).toBeUndefined();
    expect(d.m.stats.jobsRemoved).toBe(1);
    expect(d.m.nextDeadline()).toBeNull();
    expect(d.submit('j2', chain(1), 'k')[0]).toMatchObject({ job: 'j2', existing: false });
    expect(d.submit('j', chain(1))[0]).toMatchObject({ type: 'submitted', job: 'j' });
  });
});

describe('the ready queue', () => {
  it('hands out tasks by priority, then by the time they became ready', () => {
    const d = new Driver();
    d.submit('j1', job([task('low', { priority: -1 }), task('mid'), task('high', { priority: 5, shards: 2 })]));
    d.submit('j2', job([task('mid2'), task('top', { priority: 9 })]), null, 10);
    const order = () => [...d.m.ready()].map((r) => `${r.job}/${r.task}`);
    expect(order()).toEqual(['j2/1', 'j1/2', 'j1/3', 'j1/1', 'j2/0', 'j1/0']);
    expect([...d.m.ready()][0]).toEqual({ job: 'j2', task: 1, priority: 9, readyAt: 1010, slots: 1, handler: null });
    // A task back from an expired lease queues behind those already waiting at its priority.
    d.hb('n1', { leaseMs: 100 });
    d.claim('n1', [['j1', 1]]);
    d.tick(101);
    expect(order()).toEqual(['j2/1', 'j1/2', 'j1/3', 'j2/0', 'j1/1', 'j1/0']);
    // ready() is lazy: reading the first costs nothing of the rest.
    const it = d.m.ready()[Symbol.iterator]();
    expect(it.next().value).toMatchObject({ job: 'j2', task: 1 });
  });
});

describe('entries', () => {
  it('counts undecodable bytes and ignores them, yet still moves time', () => {
    const d = new Driver();
    d.submit('j', job([task('a')], { retentionMs: 0 }));
    d.hb('n1', { leaseMs: 100 });
    d.claim('n1', [['j', 0]]);
    const fx = d.m.apply(new Uint8Array([0xff, 1, 2]), 99, 5000);
    expect(d.m.stats.undecodable).toBe(1);
    expect(ofType(fx, 'stop')).toHaveLength(1);
    expect(d.m.now).toBe(5000);
    expect(() => d.m.apply(new Uint8Array([]), 100, 5000)).not.toThrow();
    expect(d.m.stats.undecodable).toBe(2);
  });

  it('applies encoded commands as decoded ones, and never moves time backwards', () => {
    const a = new Scheduler();
    const b = new Scheduler();
    const cmds: Command[] = [
      { type: 'submit', id: 'j', key: 'k', spec: chain(3) },
      { type: 'heartbeat', node: 'n1', boot: 3, slots: 2, handlers: ['noop'], leaseMs: 5000, seq: 1 },
      { type: 'claim', node: 'n1', boot: 3, tasks: [{ job: 'j', task: 0 }] },
      { type: 'finish', node: 'n1', boot: 3, results: [result('j', 0, 1, 'succeeded', { stderr: 'warn' })], claimNext: true },
      { type: 'tick' },
    ];
    cmds.forEach((c, i) => {
      const time = at([100, 200, 150, 300, 400], i, 'five finishes');
      expect(a.apply(encodeCommand(c), i + 1, time)).toEqual(b.applyCommand(c, i + 1, time));
    });
    expect(a.hash()).toBe(b.hash());
    expect(a.now).toBe(400);
    expect(a.job('j')?.tasks['t1']?.startedAt).toBe(300);
  });
});

describe('snapshots', () => {
  it('restores a state that encodes to the same bytes and behaves the same', () => {
    const d = new Driver();
    d.submit(
      'j',
      job([
        task('a', { retries: 2 }),
        task('b', { deps: ['a'], shards: 3, priority: 2 }),
        handlerTask('h', 'gpu', { env: { X: '1' }, cwd: '/tmp' }),
      ]),
      'key',
    );
    d.hb('n1', { handlers: ['gpu'] });
    d.hb('n1', { boot: 2, handlers: ['gpu'] });
    d.claim(
      'n1',
      [
        ['j', 0],
        ['j', 4],
      ],
      2,
    );
    d.done('n1', 'j', 0, 'failed', { boot: 2 });
    const bytes = d.m.encode();
    const r = Scheduler.restore(bytes);
    expect(r.encode()).toEqual(bytes);
    expect(r.hash()).toBe(d.m.hash());
    expect(r.job('j')).toEqual(d.m.job('j'));
    expect(r.nodes()).toEqual(d.m.nodes());
    expect(r.held('n1')).toEqual(d.m.held('n1'));
    expect([...r.ready()]).toEqual([...d.m.ready()]);
    expect(r.nextDeadline()).toBe(d.m.nextDeadline());
    const next: Command[] = [
      { type: 'tick' },
      { type: 'claim', node: 'n1', boot: 2, tasks: [{ job: 'j', task: 0 }] },
      { type: 'heartbeat', node: 'n1', boot: 1, slots: 4, handlers: [], leaseMs: 5000, seq: 9 },
      { type: 'submit', id: 'j2', key: 'key', spec: chain(1) },
    ];
    next.forEach((c, i) => {
      const time = d.time + 1000 * (i + 1);
      expect(r.applyCommand(c, 100 + i, time)).toEqual(d.m.applyCommand(c, 100 + i, time));
    });
    expect(r.hash()).toBe(d.m.hash());
  });

  it('refuses bytes that are not a snapshot', () => {
    expect(() => Scheduler.restore(new Uint8Array([9, 9, 9]))).toThrow(/snapshot/);
    const bytes = new Driver().m.encode();
    expect(() => Scheduler.restore(bytes.subarray(0, bytes.length - 1))).toThrow(/snapshot/);
    expect(Scheduler.restore(bytes).hash()).toBe(new Scheduler().hash());
  });
});

describe('events', () => {
  it('task events carry the latest claim: node, attempt and fence', () => {
    const d = new Driver();
    d.submit('j', job([task('a', { retries: 1, backoffMs: 10 })]));
    d.hb('n1');
    d.claim('n1', [['j', 0]]);
    const fence = d.index;
    const fx = d.done('n1', 'j', 0, 'failed');
    expect(ofType(fx, 'task')[0] as TaskEvent).toMatchObject({ node: 'n1', attempt: 1, fence, to: 'waiting' });
    const retry = d.tick(10);
    expect(ofType(retry, 'task')[0] as TaskEvent).toMatchObject({ node: 'n1', attempt: 1, fence, from: 'waiting', to: 'ready' });
  });
});
