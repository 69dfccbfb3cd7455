// A job's own `timeout` (docs/dag-file.md §2): past it, running tasks are stopped, the rest skipped,
// and the job ends failed with the reason; kept through snapshots.
import { describe, expect, it } from 'vitest';
import { normalizeDag } from '../../src/dag/parse.js';
import { decodeCommand, encodeCommand } from '../../src/scheduler/command-codec.js';
import { checkJobSpec } from '../../src/scheduler/dag-check.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import { Driver, job, ofType, stateOf, task } from './machine-helpers.js';

describe('job timeout', () => {
  it('stops what runs, skips the rest, and fails the job with the reason', () => {
    const d = new Driver();
    d.hb('n1');
    d.submit('j', job([task('a'), task('b'), task('c', { deps: ['a'] })], { timeoutMs: 10_000 }));
    d.claim('n1', [['j', 0]]);
    d.done('n1', 'j', 0);
    d.claim('n1', [['j', 1]]);
    d.hb('n1', {}, 4_000);
    d.hb('n1', {}, 4_000);
    expect(d.tick(1_999).some((e) => e.type === 'job')).toBe(false);
    const restored = Scheduler.restore(d.m.encode());
    const effects = d.hb('n1', {}, 1);
    expect(ofType(effects, 'stop')).toEqual([{ type: 'stop', job: 'j', task: 1, node: 'n1', attempt: 1, reason: 'job timeout' }]);
    expect(ofType(effects, 'job')).toEqual([{ type: 'job', job: 'j', state: 'failed' }]);
    const v = d.m.job('j');
    expect(v).toMatchObject({ state: 'failed', reason: 'job timeout: still running after 10s' });
    expect(v?.tasks['a']?.state).toBe('succeeded');
    expect(v?.tasks['b']).toMatchObject({ state: 'skipped', reason: 'job timeout' });
    expect(v?.tasks['b']?.attempts.map((a) => [a.outcome, a.reason])).toEqual([['timeout', 'job timeout']]);
    expect(v?.tasks['c']).toMatchObject({ state: 'skipped', reason: 'job timeout' });
    // A replica restored before the deadline does the same.
    const last = d.log.at(-1);
    if (last !== undefined) restored.applyCommand(last.cmd, last.index, last.time);
    expect(restored.hash()).toBe(d.m.hash());
    expect(Scheduler.restore(d.m.encode()).job('j')?.reason).toBe('job timeout: still running after 10s');
  });

  it('is disarmed when the job ends first', () => {
    const d = new Driver();
    d.hb('n1');
    d.submit('j', job([task('a')], { timeoutMs: 1_000 }));
    d.claim('n1', [['j', 0]]);
    d.done('n1', 'j', 0);
    expect(d.m.job('j')).toMatchObject({ state: 'succeeded', reason: null });
    d.tick(5_000);
    expect(stateOf(d.m, 'j', 'a')).toBe('succeeded');
    expect(d.m.job('j')?.state).toBe('succeeded');
  });

  it('is read from the file, carried by the submit and re-checked on every replica', () => {
    const spec = normalizeDag({ name: 'j', timeout: '1h30m', tasks: { a: { run: 'true' } } });
    expect(spec.timeoutMs).toBe(5_400_000);
    expect(decodeCommand(encodeCommand({ type: 'submit', id: 'x', key: null, spec }))).toEqual({
      ok: true,
      value: { type: 'submit', id: 'x', key: null, spec },
    });
    expect(checkJobSpec({ ...spec, timeoutMs: 0 })).toMatchObject({
      ok: false,
      error: expect.stringContaining('timeoutMs: must be an integer from 1 to'),
    });
    expect(normalizeDag({ name: 'j', tasks: { a: { run: 'true' } } }).timeoutMs).toBeUndefined();
  });
});
