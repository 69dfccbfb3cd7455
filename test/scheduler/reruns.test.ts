// Re-runs (docs/dag-file.md §13): a `rerun` command puts tasks of a finished job back to waiting,
// keeps their earlier attempts, and lets their trigger rules decide again on the results that stand.
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from '../../src/scheduler/command-codec.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import type { Effect, JobView, RerunCommand } from '../../src/scheduler/types.js';
import { Driver, job, result, task } from './machine-helpers.js';

function rerun(over: Partial<RerunCommand>): RerunCommand {
  return { type: 'rerun', job: 'j', failed: false, tasks: [], downstream: false, ...over };
}

function view(d: Driver): JobView {
  const v = d.m.job('j');
  if (v === undefined) throw new Error('no job j');
  return v;
}

const states = (d: Driver): Record<string, string> => Object.fromEntries(Object.entries(view(d).tasks).map(([n, t]) => [n, t.state]));
const refusal = (effects: Effect[]) => effects.find((e) => e.type === 'rerun-rejected');

/** load fails; report (all_success) is skipped behind it; cleanup (all_done) and side (no deps) succeed. */
function failedEtl(): Driver {
  const d = new Driver();
  d.hb('n1');
  d.submit(
    'j',
    job([task('load'), task('side'), task('report', { deps: ['load'] }), task('cleanup', { deps: ['load'], trigger: 'all_done' })]),
  );
  d.claim('n1', [
    ['j', 0],
    ['j', 1],
  ]);
  d.done('n1', 'j', 0, 'failed', {}, 10);
  d.finish('n1', [result('j', 1, 1, 'succeeded', { output: 'side-out' })], {}, 10);
  d.claim('n1', [['j', 3]]);
  d.done('n1', 'j', 3, 'succeeded', {}, 10);
  expect(view(d).state).toBe('failed');
  return d;
}

describe('rerun', () => {
  it('failed: the failed task and the one skipped behind it go back; the job runs again and ends succeeded', () => {
    const d = failedEtl();
    const effects = d.do(rerun({ failed: true }), 100);
    expect(effects).toContainEqual({ type: 'rerun', job: 'j', tasks: 2 });
    expect(effects).toContainEqual({ type: 'job', job: 'j', state: 'running' });
    expect(states(d)).toEqual({ load: 'ready', side: 'succeeded', report: 'waiting', cleanup: 'succeeded' });
    expect(view(d)).toMatchObject({ state: 'running', finishedAt: null });
    // Attempt numbers go on: the new claim is attempt 2, and the failure of attempt 1 is kept.
    d.claim('n1', [['j', 0]]);
    expect(d.m.launch({ job: 'j', task: 0 })?.attempt).toBe(2);
    d.done('n1', 'j', 0, 'succeeded', {}, 10);
    expect(states(d).report).toBe('ready');
    d.claim('n1', [['j', 2]]);
    d.done('n1', 'j', 2, 'succeeded', {}, 10);
    expect(view(d).state).toBe('succeeded');
    expect(view(d).tasks['load']?.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    // A success that was not re-run keeps its output.
    expect(view(d).tasks['side']?.output).toBe('side-out');
  });

  it('a finish of the attempt before the re-run is refused (fencing holds)', () => {
    const d = failedEtl();
    d.do(rerun({ failed: true }));
    d.claim('n1', [['j', 0]]);
    const effects = d.finish('n1', [result('j', 0, 1, 'succeeded')]);
    expect(effects.some((e) => e.type === 'ignored' && e.reason.includes('attempt is stale'))).toBe(true);
    expect(states(d).load).toBe('running');
  });

  it('tasks with downstream: a success re-runs with everything after it, its success kept in its history and its output cleared', () => {
    const d = new Driver();
    d.hb('n1');
    d.submit('j', job([task('a'), task('b', { deps: ['a'] }), task('c')]));
    d.claim('n1', [
      ['j', 0],
      ['j', 2],
    ]);
    d.finish('n1', [result('j', 0, 1, 'succeeded', { output: 'one' }), result('j', 2, 1)]);
    d.claim('n1', [['j', 1]]);
    d.done('n1', 'j', 1);
    expect(view(d).state).toBe('succeeded');
    d.do(rerun({ tasks: ['a'], downstream: true }), 50);
    expect(states(d)).toEqual({ a: 'ready', b: 'waiting', c: 'succeeded' });
    const a = view(d).tasks['a'];
    expect(a?.output).toBeNull();
    expect(a?.attempts.map((x) => [x.attempt, x.outcome, x.node])).toEqual([[1, 'succeeded', 'n1']]);
    expect(d.m.inputs({ job: 'j', task: 1 })).toEqual({});
    // The same, read from a snapshot.
    const restored = Scheduler.restore(d.m.encode());
    expect(restored.job('j')).toEqual(view(d));
    d.claim('n1', [['j', 0]]);
    d.finish('n1', [result('j', 0, 2, 'succeeded', { output: 'two' })]);
    expect(d.m.inputs({ job: 'j', task: 1 })).toEqual({ a: 'two' });
  });

  it('a waiting re-run task readies when its re-run upstream settles, on a replica restored from a snapshot as well', () => {
    const d = failedEtl();
    d.do(rerun({ failed: true }));
    const restored = Scheduler.restore(d.m.encode());
    const replay = (m: Scheduler, index: number): Effect[] => {
      m.applyCommand({ type: 'claim', node: 'n1', boot: 1, tasks: [{ job: 'j', task: 0 }] }, index, d.time + 1);
      return m.applyCommand({ type: 'finish', node: 'n1', boot: 1, results: [result('j', 0, 2)], claimNext: false }, index + 1, d.time + 2);
    };
    const a = replay(d.m, d.index + 1);
    const b = replay(restored, d.index + 1);
    expect(b).toEqual(a);
    expect(restored.job('j')?.tasks['report']?.state).toBe('ready');
    expect(restored.encode()).toEqual(d.m.encode());
  });

  it('trigger rules decide again: a re-run whose upstream still failed is skipped at once and the job ends again', () => {
    const d = failedEtl();
    const effects = d.do(rerun({ tasks: ['report'] }));
    expect(states(d).report).toBe('skipped');
    expect(view(d).tasks['report']?.reason).toBe('upstream failed: load');
    expect(effects.flatMap((e) => (e.type === 'job' ? [e.state] : []))).toEqual(['running', 'failed']);
  });

  it('a re-run cleanup (all_done) waits for its re-run upstream, then runs whatever the outcome', () => {
    const d = failedEtl();
    d.do(rerun({ tasks: ['load'], downstream: true }));
    expect(states(d)).toMatchObject({ load: 'ready', report: 'waiting', cleanup: 'waiting' });
    d.claim('n1', [['j', 0]]);
    d.done('n1', 'j', 0, 'failed');
    expect(states(d)).toMatchObject({ load: 'failed', report: 'skipped', cleanup: 'ready' });
    d.claim('n1', [['j', 3]]);
    d.done('n1', 'j', 3);
    expect(view(d).state).toBe('failed');
    expect(view(d).tasks['cleanup']?.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'succeeded'],
      [2, 'succeeded'],
    ]);
  });

  it('one failed shard re-runs alone; its siblings keep their success', () => {
    const d = new Driver();
    d.hb('n1', { slots: 8 });
    d.submit('j', job([task('s', { shards: 3 }), task('after', { deps: ['s'] })]));
    d.claim('n1', [
      ['j', 0],
      ['j', 1],
      ['j', 2],
    ]);
    d.finish('n1', [result('j', 0, 1), result('j', 1, 1, 'failed'), result('j', 2, 1)]);
    expect(states(d)).toEqual({ 's[0]': 'succeeded', 's[1]': 'failed', 's[2]': 'succeeded', after: 'skipped' });
    expect(refusal(d.do(rerun({ tasks: ['s[5]'] })))).toMatchObject({ error: 'job j has no task "s[5]": s has shards s[0] to s[2]' });
    d.do(rerun({ failed: true }));
    expect(states(d)).toEqual({ 's[0]': 'succeeded', 's[1]': 'ready', 's[2]': 'succeeded', after: 'waiting' });
    d.claim('n1', [['j', 1]]);
    d.done('n1', 'j', 1);
    expect(states(d).after).toBe('ready');
  });

  it('a cancelled job re-runs what the cancel skipped, and a timed-out one what its timeout ended', () => {
    const d = new Driver();
    d.hb('n1');
    d.submit('j', job([task('a'), task('b', { deps: ['a'] })], { timeoutMs: 1000 }));
    d.claim('n1', [['j', 0]]);
    d.tick(2000);
    expect(view(d)).toMatchObject({ state: 'failed' });
    d.do(rerun({ failed: true }));
    expect(states(d)).toEqual({ a: 'ready', b: 'waiting' });
    expect(view(d).reason).toBeNull();
    // The job's timeout counts afresh from the re-run.
    d.claim('n1', [['j', 0]], 1, 500);
    d.done('n1', 'j', 0, 'succeeded', {}, 400);
    d.claim('n1', [['j', 1]]);
    d.done('n1', 'j', 1);
    expect(view(d).state).toBe('succeeded');
    expect(view(d).tasks['a']?.attempts.map((a) => [a.attempt, a.outcome, a.reason])).toEqual([
      [1, 'timeout', 'job timeout'],
      [2, 'succeeded', null],
    ]);
  });

  it('a re-run of a cancelled job that leaves cancelled tasks standing ends cancelled again, not succeeded', () => {
    const d = new Driver();
    d.hb('n1');
    d.submit('j', job([task('a'), task('b', { deps: ['a'] }), task('c')]));
    d.do({ type: 'cancel', job: 'j' });
    // b alone: its upstream a stays skipped by the cancel, so b is skipped again at once.
    d.do(rerun({ tasks: ['b'] }));
    expect(view(d).state).toBe('cancelled');
    // c alone runs and succeeds; a and b still never ran.
    d.do(rerun({ tasks: ['c'] }));
    d.claim('n1', [['j', 2]]);
    d.done('n1', 'j', 2);
    expect(view(d).state).toBe('cancelled');
    d.do(rerun({ failed: true }));
    d.claim('n1', [['j', 0]]);
    d.done('n1', 'j', 0);
    d.claim('n1', [['j', 1]]);
    d.done('n1', 'j', 1);
    expect(view(d).state).toBe('succeeded');
  });

  it('a cancel while re-run tasks wait leaves nothing waiting: a later re-run applies alike on a restored replica', () => {
    const d = failedEtl();
    d.do(rerun({ tasks: ['load'], downstream: true }));
    expect(states(d)).toMatchObject({ load: 'ready', report: 'waiting', cleanup: 'waiting' });
    d.do({ type: 'cancel', job: 'j' });
    const restored = Scheduler.restore(d.m.encode());
    const next = (m: Scheduler, index: number): Effect[] => [
      ...m.applyCommand(rerun({ tasks: ['load'] }), index, d.time + 1),
      ...m.applyCommand({ type: 'claim', node: 'n1', boot: 1, tasks: [{ job: 'j', task: 0 }] }, index + 1, d.time + 2),
      ...m.applyCommand(
        { type: 'finish', node: 'n1', boot: 1, results: [result('j', 0, 3, 'failed')], claimNext: false },
        index + 2,
        d.time + 3,
      ),
    ];
    expect(next(restored, d.index + 1)).toEqual(next(d.m, d.index + 1));
    expect(restored.encode()).toEqual(d.m.encode());
  });

  it('refuses with a named reason: unknown job, job still running, unknown task, nothing to re-run', () => {
    const d = failedEtl();
    expect(refusal(d.do(rerun({ job: 'nope', failed: true })))).toMatchObject({ why: 'unknown-job' });
    expect(refusal(d.do(rerun({ tasks: ['lod'] })))).toMatchObject({
      why: 'unknown-task',
      error: `job j has no task "lod" (did you mean 'load'?)`,
    });
    expect(refusal(d.do(rerun({ tasks: ['load[0]'] })))).toMatchObject({ why: 'unknown-task' });
    expect(refusal(d.do(rerun({})))).toMatchObject({ why: 'nothing' });
    d.do(rerun({ failed: true }));
    expect(refusal(d.do(rerun({ failed: true })))).toMatchObject({ why: 'not-finished' });
    d.claim('n1', [['j', 0]]);
    d.done('n1', 'j', 0);
    d.claim('n1', [['j', 2]]);
    d.done('n1', 'j', 2);
    expect(view(d).state).toBe('succeeded');
    expect(refusal(d.do(rerun({ failed: true })))).toMatchObject({ why: 'nothing', error: expect.stringContaining('nothing to re-run') });
  });

  it('round-trips through the command codec', () => {
    const cmd = rerun({ failed: true, tasks: ['a', 'b[3]'], downstream: true });
    expect(decodeCommand(encodeCommand(cmd))).toEqual({ ok: true, value: cmd });
  });
});
