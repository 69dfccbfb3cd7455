// Trigger rules (docs/dag-file.md §12): the pure verdict, and the state machine carrying it out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/scheduler/machine.js';
import { TRIGGER_RULES, triggerVerdict, type TriggerRule, type UpstreamCounts } from '../../src/scheduler/trigger-rules.js';
import { Driver, job, stateOf, task } from './machine-helpers.js';

const counts = (total: number, succeeded: number, failed: number, skipped: number): UpstreamCounts => ({
  total,
  succeeded,
  failed,
  skipped,
});

describe('triggerVerdict', () => {
  it.each([
    ['all_success', counts(2, 2, 0, 0), 'run'],
    ['all_success', counts(2, 1, 0, 0), 'wait'],
    ['all_success', counts(2, 0, 1, 0), 'skip-failed'],
    ['all_success', counts(2, 0, 0, 1), 'skip'],
    ['all_done', counts(3, 1, 1, 0), 'wait'],
    ['all_done', counts(3, 1, 1, 1), 'run'],
    ['all_failed', counts(2, 0, 2, 0), 'run'],
    ['all_failed', counts(2, 0, 1, 0), 'wait'],
    ['all_failed', counts(2, 1, 0, 0), 'skip'],
    ['one_success', counts(3, 1, 0, 0), 'run'],
    ['one_success', counts(3, 0, 2, 0), 'wait'],
    ['one_success', counts(3, 0, 2, 1), 'skip-failed'],
    ['one_success', counts(2, 0, 0, 2), 'skip'],
    ['one_failed', counts(3, 0, 1, 0), 'run'],
    ['one_failed', counts(2, 2, 0, 0), 'skip'],
    ['none_failed', counts(2, 1, 0, 1), 'run'],
    ['none_failed', counts(2, 1, 0, 0), 'wait'],
    ['none_failed', counts(2, 1, 1, 0), 'skip-failed'],
  ] as const)('%s on %o is %s', (rule, c, verdict) => {
    expect(triggerVerdict(rule, c)).toBe(verdict);
  });

  it('lets a task without upstream tasks run, whatever its rule', () => {
    for (const rule of TRIGGER_RULES) expect(triggerVerdict(rule, counts(0, 0, 0, 0))).toBe('run');
  });

  const outcomes = fc.array(fc.constantFrom('succeeded', 'failed', 'skipped'), { minLength: 1, maxLength: 12 });
  const tally = (os: readonly string[], upTo: number): UpstreamCounts => {
    const done = os.slice(0, upTo);
    return counts(
      os.length,
      done.filter((o) => o === 'succeeded').length,
      done.filter((o) => o === 'failed').length,
      done.filter((o) => o === 'skipped').length,
    );
  };

  it('decides once every upstream task is final, and never changes its mind as results arrive', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TRIGGER_RULES), outcomes, (rule: TriggerRule, os) => {
        let decided: string | null = null;
        for (let k = 0; k <= os.length; k++) {
          const v = triggerVerdict(rule, tally(os, k));
          if (decided !== null) expect(v === 'run').toBe(decided === 'run');
          if (v !== 'wait') decided ??= v;
        }
        expect(decided).not.toBeNull();
      }),
    );
  });
});

/** Finishes task `t` of job j on node n with `outcome` (claiming it first). */
function run(d: Driver, t: number, outcome: 'succeeded' | 'failed'): void {
  d.claim('n', [['j', t]]);
  d.done('n', 'j', t, outcome);
}

describe('trigger rules in the state machine', () => {
  it('runs an all_done cleanup after a failure, skips the all_success report, and the job still fails', () => {
    const d = new Driver();
    d.hb('n');
    d.submit('j', job([task('load'), task('report', { deps: ['load'] }), task('cleanup', { deps: ['load'], trigger: 'all_done' })]));
    run(d, 0, 'failed');
    const v = d.m.job('j');
    expect(v?.tasks['report']).toMatchObject({ state: 'skipped', reason: 'upstream failed: load' });
    expect(v?.tasks['cleanup']?.state).toBe('ready');
    run(d, 2, 'succeeded');
    expect(d.m.job('j')?.state).toBe('failed');
  });

  it('skips a one_failed alert when everything succeeded, with the reason, and the job succeeds', () => {
    const d = new Driver();
    d.hb('n');
    d.submit('j', job([task('a'), task('b'), task('alert', { deps: ['a', 'b'], trigger: 'one_failed' })]));
    run(d, 0, 'succeeded');
    expect(stateOf(d.m, 'j', 'alert')).toBe('waiting');
    run(d, 1, 'succeeded');
    expect(d.m.job('j')?.tasks['alert']).toMatchObject({ state: 'skipped', reason: 'trigger rule one_failed: no upstream task failed' });
    expect(d.m.job('j')?.state).toBe('succeeded');
  });

  it('runs one_success as soon as one upstream task succeeded, before the others end', () => {
    const d = new Driver();
    d.hb('n');
    d.submit('j', job([task('a'), task('b'), task('either', { deps: ['a', 'b'], trigger: 'one_success' })]));
    d.claim('n', [['j', 1]]);
    run(d, 0, 'succeeded');
    expect(stateOf(d.m, 'j', 'either')).toBe('ready');
  });

  it('counts a task skipped for a failure upstream as failed, and one skipped by its rule as skipped', () => {
    const d = new Driver();
    d.hb('n');
    d.submit(
      'j',
      job([
        task('a'),
        task('b', { deps: ['a'] }), // skipped: upstream failed (counts as failed)
        task('c', { deps: ['b'], trigger: 'all_failed' }), // runs: b counts as failed
        task('d', { deps: ['b'], trigger: 'none_failed' }), // skipped because of the failure
        task('e', { deps: ['a'], trigger: 'one_success' }), // skipped: nothing succeeded, a failed
        task('f', { deps: ['c'], trigger: 'one_failed' }), // skipped by its rule once c succeeds
        task('g', { deps: ['f'], trigger: 'none_failed' }), // runs: f counts as skipped
      ]),
    );
    run(d, 0, 'failed');
    const v = d.m.job('j');
    expect(v?.tasks['b']?.reason).toBe('upstream failed: a');
    expect(v?.tasks['c']?.state).toBe('ready');
    expect(v?.tasks['d']).toMatchObject({ state: 'skipped', reason: 'upstream failed: a' });
    expect(v?.tasks['e']).toMatchObject({ state: 'skipped', reason: 'upstream failed: a' });
    run(d, 2, 'succeeded');
    expect(d.m.job('j')?.tasks['f']).toMatchObject({ state: 'skipped', reason: 'trigger rule one_failed: no upstream task failed' });
    expect(stateOf(d.m, 'j', 'g')).toBe('ready');
  });

  it('names the upstream task that broke an all_success or all_failed rule', () => {
    const d = new Driver();
    d.hb('n');
    d.submit('j', job([task('a'), task('b', { deps: ['a'], trigger: 'all_failed' }), task('c', { deps: ['b'] })]));
    run(d, 0, 'succeeded');
    const v = d.m.job('j');
    expect(v?.tasks['b']).toMatchObject({ state: 'skipped', reason: 'trigger rule all_failed: upstream a succeeded' });
    expect(v?.tasks['c']).toMatchObject({ state: 'skipped', reason: 'trigger rule all_success: upstream b skipped' });
    expect(v?.state).toBe('succeeded');
  });

  it('waits for every shard of a sharded upstream task, and a snapshot keeps the counts', () => {
    const d = new Driver();
    d.hb('n');
    d.submit('j', job([task('s', { shards: 3 }), task('after', { deps: ['s'], trigger: 'all_done' })]));
    run(d, 0, 'failed');
    run(d, 1, 'succeeded');
    const restored = new Driver(Scheduler.restore(d.m.encode()));
    restored.index = d.index;
    restored.time = d.time;
    for (const x of [d, restored]) {
      x.hb('n', { seq: 100 });
      expect(stateOf(x.m, 'j', 'after')).toBe('waiting');
      run(x, 2, 'failed');
      expect(stateOf(x.m, 'j', 'after')).toBe('ready');
    }
    expect(restored.m.hash()).toBe(d.m.hash());
  });
});
