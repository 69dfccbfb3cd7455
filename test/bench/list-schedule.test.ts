import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chain, layers, taskCount, type Dag, type TaskSpec } from '../../bench/dags.js';
import { listSchedule } from '../../bench/list-schedule.js';
import { epigenomics, montage } from '../../bench/workflows.js';

/** A random DAG: task i may depend only on tasks before it, so it has no cycle. */
const arbDag = fc
  .array(fc.record({ ms: fc.integer({ min: 0, max: 100 }), deps: fc.array(fc.nat(), { maxLength: 4 }) }), { minLength: 1, maxLength: 40 })
  .map((rows): Dag => {
    const tasks: Record<string, TaskSpec> = {};
    rows.forEach((r, i) => {
      const deps = i === 0 ? [] : [...new Set(r.deps.map((d) => `t${d % i}`))];
      tasks[`t${i}`] = { handler: 'sleep', args: { ms: r.ms }, ...(deps.length > 0 ? { deps } : {}) };
    });
    return { name: 'random', tasks };
  });

describe('listSchedule', () => {
  it('lies between the lower bound and Graham’s bound for list schedules', () => {
    fc.assert(
      fc.property(arbDag, fc.integer({ min: 1, max: 8 }), (dag, slots) => {
        const s = listSchedule(dag, slots);
        expect(s.makespanMs).toBeGreaterThanOrEqual(s.lowerBoundMs);
        // Graham (1969): a list schedule idles a slot only while a critical-path task runs.
        expect(s.makespanMs).toBeLessThanOrEqual((s.workMs - s.criticalPathMs) / slots + s.criticalPathMs + 1e-9);
      }),
    );
  });

  it('is the total work on one slot and the critical path on as many slots as tasks', () => {
    fc.assert(
      fc.property(arbDag, (dag) => {
        expect(listSchedule(dag, 1).makespanMs).toBe(listSchedule(dag, 1).workMs);
        const wide = listSchedule(dag, taskCount(dag));
        expect(wide.makespanMs).toBe(wide.criticalPathMs);
      }),
    );
  });

  it('schedules known shapes exactly', () => {
    const timed = (dag: Dag, ms: number): Dag => ({
      name: dag.name,
      tasks: Object.fromEntries(Object.entries(dag.tasks).map(([n, t]) => [n, { ...t, handler: 'sleep', args: { ms } }])),
    });
    expect(listSchedule(timed(chain(5), 10), 3)).toEqual({ makespanMs: 50, criticalPathMs: 50, workMs: 50, lowerBoundMs: 50 });
    // 3 layers of 4 tasks of 10 ms on 2 slots: each layer takes two rounds.
    expect(listSchedule(timed(layers(3, 4), 10), 2).makespanMs).toBe(60);
    // Critical path first: the long task starts at once, so 2 slots finish at 30, not 40.
    const dag: Dag = {
      name: 'p',
      tasks: {
        a: { handler: 'sleep', args: { ms: 10 } },
        b: { handler: 'sleep', args: { ms: 10 } },
        c: { handler: 'sleep', args: { ms: 10 } },
        z: { handler: 'sleep', args: { ms: 30 } },
      },
    };
    expect(listSchedule(dag, 2).makespanMs).toBe(30);
  });

  it('refuses a cycle, an unknown dependency, shards and a bad slot count', () => {
    expect(() => listSchedule({ name: 'c', tasks: { a: { deps: ['b'] }, b: { deps: ['a'] } } }, 2)).toThrow(/cycle/);
    expect(() => listSchedule({ name: 'u', tasks: { a: { deps: ['x'] } } }, 2)).toThrow(/unknown task x/);
    expect(() => listSchedule({ name: 's', tasks: { a: { shards: 3 } } }, 2)).toThrow(/shards/);
    expect(() => listSchedule(chain(2), 0)).toThrow(/slots/);
  });
});

describe('workflow generators', () => {
  it('make the same DAG from the same seed, another from another', () => {
    expect(montage(20, 1)).toEqual(montage(20, 1));
    expect(montage(20, 1)).not.toEqual(montage(20, 2));
    expect(epigenomics(2, 5, 1)).toEqual(epigenomics(2, 5, 1));
  });

  it('have the documented sizes, known deps, no cycle and run times in the tens of ms', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 30 }),
        fc.nat(),
        (images, lanes, chunks, seed) => {
          const m = montage(images, seed);
          // Each image overlaps its next three: 3 pairs per image, fewer for the last three.
          const diffs = images >= 3 ? 3 * images - 6 : 1;
          expect(taskCount(m)).toBe(2 * images + diffs + 6);
          const e = epigenomics(lanes, chunks, seed);
          expect(taskCount(e)).toBe(lanes * (4 * chunks + 2) + 3);
          for (const dag of [m, e]) {
            const s = listSchedule(dag, 24); // throws on an unknown dependency or a cycle
            expect(s.criticalPathMs).toBeGreaterThan(0);
            for (const t of Object.values(dag.tasks)) expect(t.args?.ms).toBeGreaterThanOrEqual(7);
            for (const t of Object.values(dag.tasks)) expect(t.args?.ms).toBeLessThanOrEqual(104);
          }
        },
      ),
    );
  });
});
