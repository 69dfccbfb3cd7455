// Outputs between tasks (docs/task-environment.md §7): committed with a successful finish, shown
// per task, handed to dependents as their inputs, kept through snapshots.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from '../../src/scheduler/command-codec.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import { OUTPUT_BYTES, type FinishItem } from '../../src/scheduler/types.js';
import { Driver, job, result, task } from './machine-helpers.js';

describe('task outputs', () => {
  it('commits a success output, shows it per task, hands it to dependents by full name (shards as name[i])', () => {
    const d = new Driver();
    d.hb('n1', { slots: 8 });
    d.submit('j', job([task('a', { shards: 2 }), task('b'), task('c', { deps: ['a', 'b'] }), task('d', { deps: ['c'] })]));
    d.claim('n1', [
      ['j', 0],
      ['j', 1],
      ['j', 2],
    ]);
    d.finish('n1', [
      result('j', 0, 1, 'succeeded', { output: 'zero' }),
      result('j', 1, 1, 'succeeded', { output: 'one' }),
      result('j', 2, 1, 'succeeded'),
    ]);
    expect(d.m.job('j')?.tasks['a[0]']?.output).toBe('zero');
    expect(d.m.job('j')?.tasks['b']?.output).toBeNull();
    // b wrote nothing: it is absent from c's inputs, as is anything that is not a direct upstream task.
    expect(d.m.inputs({ job: 'j', task: 3 })).toEqual({ 'a[0]': 'zero', 'a[1]': 'one' });
    d.claim('n1', [['j', 3]]);
    d.finish('n1', [result('j', 3, 1, 'succeeded', { output: '{"rows": 3}' })]);
    expect(d.m.inputs({ job: 'j', task: 4 })).toEqual({ c: '{"rows": 3}' });
    expect(d.m.inputs({ job: 'nope', task: 0 })).toEqual({});
    expect(d.m.inputs({ job: 'j', task: 99 })).toEqual({});
    // A replica restored from a snapshot has the same outputs and inputs.
    const restored = Scheduler.restore(d.m.encode());
    expect(restored.job('j')?.tasks['c']?.output).toBe('{"rows": 3}');
    expect(restored.inputs({ job: 'j', task: 3 })).toEqual({ 'a[0]': 'zero', 'a[1]': 'one' });
    expect(restored.encode()).toEqual(d.m.encode());
  });

  it('a failed upstream task hands nothing on to a task its trigger rule lets run', () => {
    const d = new Driver();
    d.hb('n1', { slots: 4 });
    d.submit('j', job([task('a'), task('b'), task('cleanup', { deps: ['a', 'b'], trigger: 'all_done' })]));
    d.claim('n1', [
      ['j', 0],
      ['j', 1],
    ]);
    d.finish('n1', [result('j', 0, 1, 'succeeded', { output: 'a out' }), result('j', 1, 1, 'failed')]);
    expect(d.m.job('j')?.tasks['cleanup']?.state).toBe('ready');
    expect(d.m.inputs({ job: 'j', task: 2 })).toEqual({ a: 'a out' });
  });

  it('refuses a finish carrying more than 64 KiB of output, naming the limit; exactly 64 KiB is kept', () => {
    const item = (output: string): FinishItem => ({ ...result('j', 0, 1), output });
    const bytes = encodeCommand({ type: 'finish', node: 'n', boot: 1, claimNext: false, results: [item('é'.repeat(OUTPUT_BYTES / 2))] });
    const back = decodeCommand(bytes);
    expect(back.ok && back.value.type === 'finish' && back.value.results[0]?.output?.length).toBe(OUTPUT_BYTES / 2);
    expect(() =>
      encodeCommand({ type: 'finish', node: 'n', boot: 1, claimNext: false, results: [item('x'.repeat(OUTPUT_BYTES + 1))] }),
    ).toThrow('task output is 65537 bytes (at most 65536)');
    expect(() =>
      encodeCommand({ type: 'finish', node: 'n', boot: 1, claimNext: false, results: [{ ...result('j', 0, 1, 'timeout'), output: 'x' }] }),
    ).toThrow('a timeout attempt has no output (only a successful one hands one on)');
  });

  it("a dependent's inputs are exactly its succeeded upstream tasks' non-empty outputs, on any DAG, before and after a snapshot", () => {
    // Specs s0..sN-1, each with up to 3 shards and deps on earlier specs; every task's outcome and output drawn.
    const dagArb = fc.integer({ min: 2, max: 6 }).chain((n) =>
      fc.record({
        shards: fc.array(fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }), { minLength: n, maxLength: n }),
        deps: fc.tuple(...Array.from({ length: n }, (_, i) => fc.subarray(Array.from({ length: i }, (_, j) => j)))),
        fates: fc.array(fc.tuple(fc.boolean(), fc.oneof(fc.constant(''), fc.string({ maxLength: 30 }))), {
          minLength: 3 * n,
          maxLength: 3 * n,
        }),
      }),
    );
    fc.assert(
      fc.property(dagArb, ({ shards, deps, fates }) => {
        const specs = shards.map((s, i) => task(`s${i}`, { shards: s, deps: (deps[i] ?? []).map((j) => `s${j}`), trigger: 'all_done' }));
        const d = new Driver();
        d.hb('n1', { slots: 1000 });
        d.submit('j', job(specs));
        const committed = new Map<string, string>();
        const names: string[] = [];
        specs.forEach((s) => {
          for (let k = 0; k < (s.shards ?? 1); k++) names.push(s.shards === null ? s.name : `${s.name}[${k}]`);
        });
        // Run every task in order (all_done: each runs once its upstream tasks ended, however they ended).
        for (let t = 0; t < names.length; t++) {
          const [ok, output] = fates[t] ?? [true, ''];
          const name = names[t] ?? '';
          const spec = specs.find((s) => name === s.name || name.startsWith(`${s.name}[`));
          const expected: Record<string, string> = {};
          for (const dep of spec?.deps ?? []) for (const [n, o] of committed) if (n === dep || n.startsWith(`${dep}[`)) expected[n] = o;
          expect(d.m.inputs({ job: 'j', task: t })).toEqual(expected);
          expect(Scheduler.restore(d.m.encode()).inputs({ job: 'j', task: t })).toEqual(expected);
          d.claim('n1', [['j', t]]);
          d.finish('n1', [ok ? result('j', t, 1, 'succeeded', { output }) : result('j', t, 1, 'failed')]);
          if (ok && output !== '') committed.set(name, output);
          expect(d.m.job('j')?.tasks[name]?.output).toBe(ok && output !== '' ? output : null);
        }
      }),
      { numRuns: 200 },
    );
  });
});
