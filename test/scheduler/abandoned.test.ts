// An `abandoned` finish (docs/architecture.md §9): the holder killed its attempt when it could not
// renew its lease in time, and the scheduler still gave it the task. The task runs again without
// spending a retry, as after a lease expiry, so a starved node cannot fail a job of `retries: 0`.
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from '../../src/scheduler/command-codec.js';
import type { Command } from '../../src/scheduler/types.js';
import { Driver, job, result, stateOf, task } from './machine-helpers.js';

describe('abandoned attempts', () => {
  it('go back to ready with no retry spent, listed as lost, and the task runs again and succeeds', () => {
    const d = new Driver();
    d.hb('n');
    d.submit('j', job([task('t', { retries: 0 })]));
    d.claim('n', [['j', 0]]);
    d.finish('n', [result('j', 0, 1, 'abandoned')]);
    expect(stateOf(d.m, 'j', 't')).toBe('ready');
    expect(d.m.job('j')?.state).toBe('running');
    d.claim('n', [['j', 0]]);
    d.done('n', 'j', 0);
    expect(d.m.job('j')?.state).toBe('succeeded');
    const attempts = d.m.job('j')?.tasks['t']?.attempts ?? [];
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'lost'],
      [2, 'succeeded'],
    ]);
  });

  it('are fenced like any finish: a stale or foreign one changes nothing', () => {
    const d = new Driver();
    d.hb('n');
    d.hb('m');
    d.submit('j', job([task('t')]));
    d.claim('n', [['j', 0]]);
    d.finish('m', [result('j', 0, 1, 'abandoned')]);
    d.finish('n', [result('j', 0, 7, 'abandoned')]);
    expect(stateOf(d.m, 'j', 't')).toBe('running');
  });

  it('travel as their own outcome on the wire', () => {
    const cmd: Command = { type: 'finish', node: 'n', boot: 1, claimNext: true, results: [result('j', 0, 1, 'abandoned')] };
    expect(decodeCommand(encodeCommand(cmd))).toEqual({ ok: true, value: cmd });
  });
});
