// readTaskFast reads a task field by field with the checks the zod schema wraps, for speed on big
// DAGs (issue 16); it must never take a task zod refuses, and must read what it takes as zod does.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DagError, normalizeDag, normalizeDagInSlices } from '../../src/dag/parse.js';
import { TASKS_PER_STEP } from '../../src/dag/read.js';
import { readTaskFast, taskSchema } from '../../src/dag/schema.js';

const VALUES: Record<string, readonly unknown[]> = {
  run: ['echo hi', '', 5, null, 'a\u0000b'],
  handler: ['noop', 'sleep', 'bad name', 3],
  args: [{ ms: 5 }, null, [1, 2], { x: -0 }, 'text', Infinity],
  deps: [[], ['a'], [10], ['a', 2], 'a', [-1], [1.5], [null]],
  shards: [1, 0, 1.5, 1_000_000, '3'],
  priority: [0, -5, 1e9, '1'],
  retries: [0, 3, -1, 100, null],
  backoff: ['1s', '250ms', 5, 'soon', '100d'],
  timeout: ['1m', '0s', 30, '1h'],
  slots: [1, 0, 2, 'x'],
  env: [{ A: '1' }, { A: 1, B: true }, { 'BAD-KEY': 'x' }, { A: null }, [], 'A=1'],
  cwd: ['/tmp', '', 7],
  trigger: ['all_done', 'one_success', 'all_sucess', 1],
  dep: [['a']],
  __proto__: [{}],
};

const task = fc.dictionary(fc.constantFrom(...Object.keys(VALUES)), fc.nat(), { maxKeys: 5 }).map((picks) => {
  const out: Record<string, unknown> = {};
  for (const [k, i] of Object.entries(picks)) {
    const vs = VALUES[k] ?? [];
    Object.defineProperty(out, k, { value: vs[i % vs.length], enumerable: true, writable: true, configurable: true });
  }
  return out;
});

describe('readTaskFast', () => {
  it('takes only what zod takes, and reads it as zod does', () => {
    let taken = 0;
    fc.assert(
      fc.property(task, (raw) => {
        const fast = readTaskFast(raw);
        const slow = taskSchema.safeParse(raw);
        if (fast === null) return;
        taken++;
        expect(slow.success).toBe(true);
        expect(fast).toEqual(slow.data);
      }),
      { numRuns: 2000 },
    );
    // Not vacuous: plenty of the generated tasks are valid.
    expect(taken).toBeGreaterThan(100);
  });

  it('leaves an unknown field (a typo like dep) to zod, which names it', () => {
    expect(readTaskFast({ run: 'x', dep: ['a'] })).toBeNull();
    expect(readTaskFast({ run: 'x', deps: ['a'] })).toEqual({ run: 'x', deps: ['a'] });
  });
});

describe('normalizeDagInSlices', () => {
  const big = (n: number, bad = -1): unknown => ({
    name: 'big',
    tasks: Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`t${i}`, i === bad ? { handler: 'noop', retries: -1 } : { handler: 'noop' }]),
    ),
  });

  it('reads what normalizeDag reads, pausing after every slice of tasks', async () => {
    let pauses = 0;
    const pause = async (): Promise<void> => {
      pauses++;
    };
    const raw = big(5 * TASKS_PER_STEP + 7);
    expect(await normalizeDagInSlices(raw, pause)).toEqual(normalizeDag(raw));
    // One pause per full slice, and one before the tasks are built.
    expect(pauses).toBe(6);
  });

  it('throws the DagError normalizeDag throws', async () => {
    const raw = big(3 * TASKS_PER_STEP, 2 * TASKS_PER_STEP + 1);
    const sync = (() => {
      try {
        normalizeDag(raw);
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(sync).toBeInstanceOf(DagError);
    await expect(normalizeDagInSlices(raw, () => Promise.resolve())).rejects.toEqual(sync);
  });
});
