// Attempt history (docs/http-api.md §6): every attempt of a task is kept in the replicated state,
// the last MAX_ATTEMPTS_KEPT, through snapshots.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS_KEPT } from '../../src/scheduler/attempts.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import { Driver, job, result, task } from './machine-helpers.js';

const attemptsOf = (d: Driver, name: string) => d.m.job('j')?.tasks[name]?.attempts ?? [];

describe('attempt history', () => {
  it('keeps each way an attempt ends: failed with its exit, killed by a signal, lease lost, holder restarted, then the success', () => {
    const d = new Driver();
    d.hb('n1');
    d.hb('n2');
    d.submit('j', job([task('a', { retries: 5, backoffMs: 0 })]));
    d.claim('n1', [['j', 0]]);
    d.done('n1', 'j', 0, 'failed', {}, 100);
    d.claim('n1', [['j', 0]]);
    d.finish('n1', [result('j', 0, 2, 'failed', { exitCode: null, stderr: 'x\nmeshrun: killed by SIGKILL\n' })]);
    d.claim('n2', [['j', 0]], 1, 10);
    d.hb('n1', {}, 6_000); // n2 is silent past its lease
    d.claim('n1', [['j', 0]]);
    d.hb('n1', { boot: 2 }); // n1 restarts
    d.hb('n2', {}, 10);
    d.claim('n2', [['j', 0]]);
    expect(attemptsOf(d, 'a').at(-1)).toMatchObject({ attempt: 5, node: 'n2', outcome: 'running', finishedAt: null });
    d.done('n2', 'j', 0, 'succeeded', {}, 50);
    const attempts = attemptsOf(d, 'a');
    expect(attempts.map((a) => [a.attempt, a.node, a.outcome, a.exitCode, a.signal, a.reason])).toEqual([
      [1, 'n1', 'failed', 1, null, null],
      [2, 'n1', 'failed', null, 'SIGKILL', null],
      [3, 'n2', 'lost', null, null, 'lease expired'],
      [4, 'n1', 'failed', null, null, 'holder restarted'],
      [5, 'n2', 'succeeded', 0, null, null],
    ]);
    for (const a of attempts) expect(a.finishedAt).toBeGreaterThanOrEqual(a.startedAt ?? Infinity);
    // The replica restored from a snapshot shows the same.
    expect(Scheduler.restore(d.m.encode()).job('j')?.tasks['a']?.attempts).toEqual(attempts);
  });

  it('keeps a cancelled attempt and a timed-out one', () => {
    const d = new Driver();
    d.hb('n1', { slots: 2 });
    d.submit('j', job([task('a'), task('b', { timeoutMs: 100 })]));
    d.claim('n1', [
      ['j', 0],
      ['j', 1],
    ]);
    d.done('n1', 'j', 1, 'timeout');
    d.do({ type: 'cancel', job: 'j' });
    expect(attemptsOf(d, 'a').map((a) => [a.outcome, a.reason])).toEqual([['cancelled', 'cancelled']]);
    expect(attemptsOf(d, 'b').map((a) => [a.outcome, a.reason, a.exitCode])).toEqual([['timeout', 'timeout', 1]]);
  });

  it('a task never claimed has none; one that succeeded at once has one, from its own columns', () => {
    const d = new Driver();
    d.hb('n1');
    d.submit('j', job([task('a'), task('b', { deps: ['a'] })]));
    d.claim('n1', [['j', 0]]);
    d.done('n1', 'j', 0);
    expect(attemptsOf(d, 'b')).toEqual([]);
    expect(attemptsOf(d, 'a')).toEqual([
      { attempt: 1, node: 'n1', startedAt: 1000, finishedAt: 1000, exitCode: 0, signal: null, outcome: 'succeeded', reason: null },
    ]);
  });

  it(`keeps the last ${MAX_ATTEMPTS_KEPT}, whatever the number of attempts, and snapshots keep them alike`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 45 }), fc.boolean(), (failures, succeedAtEnd) => {
        const d = new Driver();
        d.hb('n1');
        d.submit('j', job([task('a', { retries: 100, backoffMs: 0 })]));
        for (let k = 0; k < failures; k++) {
          d.claim('n1', [['j', 0]]);
          d.done('n1', 'j', 0, 'failed', {}, 1);
        }
        if (succeedAtEnd) {
          d.claim('n1', [['j', 0]]);
          d.done('n1', 'j', 0);
        }
        const total = failures + (succeedAtEnd ? 1 : 0);
        const attempts = attemptsOf(d, 'a');
        expect(attempts.map((a) => a.attempt)).toEqual(
          Array.from({ length: Math.min(total, MAX_ATTEMPTS_KEPT) }, (_, i) => total - Math.min(total, MAX_ATTEMPTS_KEPT) + i + 1),
        );
        const restored = Scheduler.restore(d.m.encode());
        expect(restored.job('j')?.tasks['a']?.attempts).toEqual(attempts);
        expect(restored.hash()).toBe(d.m.hash());
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a snapshot of a format it does not read, saying which it reads', () => {
    const bytes = new Scheduler().encode();
    bytes[0] = 9;
    expect(() => Scheduler.restore(bytes)).toThrow(/unknown format 9 \(this meshrun reads formats 2, 3, 4, 5, 6, 7\)/);
  });
});
