// A big DAG's submit in parts (src/scheduler/staging.ts, docs/architecture.md §3): staged where
// no reader looks until the last part, then the same job a whole submit makes; repeated parts,
// gaps, expiry, retries under the same key, refused DAGs, limits and snapshots mid-way.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from '../../src/scheduler/command-codec.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import { STAGING_LIMITS } from '../../src/scheduler/staging-limits.js';
import type { Command, Effect, JobSpec, TaskSpec } from '../../src/scheduler/types.js';
import { Driver, job, ofType, task } from './machine-helpers.js';

type Part = Extract<Command, { type: 'submit-part' }>;

/** `spec` cut before each of `cuts` (spec positions, ascending), as its parts in order. */
function partsOf(id: string, spec: JobSpec, cuts: readonly number[], key: string | null = null): Part[] {
  const bounds = [0, ...cuts, spec.tasks.length];
  const { tasks, ...header } = spec;
  const parts = bounds.length - 1;
  return Array.from({ length: parts }, (_, part) => ({
    type: 'submit-part',
    id,
    key,
    part,
    parts,
    spec: { ...header, tasks: tasks.slice(bounds[part], bounds[part + 1]) },
  }));
}

/** Through the codec, as a replica gets it from the log. */
function logged(cmd: Command): Command {
  const d = decodeCommand(encodeCommand(cmd));
  if (!d.ok) throw new Error(d.error);
  return d.value;
}

/** A DAG whose deps point both ways across parts: t0 <- t5 -> t3, t4 -> t1. */
function mixed(): JobSpec {
  return job([
    task('t0'),
    task('t1', { deps: ['t4'] }),
    task('t2', { deps: ['t0'] }),
    task('t3'),
    task('t4', { deps: ['t2', 't3'] }),
    task('t5', { deps: ['t0', 't3'], shards: 3 }),
  ]);
}

describe('submit in parts', () => {
  it('stages parts out of sight while other commands apply, then makes the job a whole submit makes', () => {
    const whole = new Driver();
    whole.hb('n1');
    whole.hb('n1', {}, 10);
    const wholeFx = whole.submit('j1', mixed(), 'k');
    const d = new Driver();
    d.hb('n1');
    const [p0, p1, p2] = partsOf('j1', mixed(), [2, 4], 'k');
    expect(d.do(logged(p0 as Part))).toEqual([{ type: 'submit-staged', requested: 'j1', part: 0, parts: 3 }]);
    d.hb('n1', {}, 10);
    expect(d.do(logged(p1 as Part))).toEqual([{ type: 'submit-staged', requested: 'j1', part: 1, parts: 3 }]);
    // Nothing of it shows: no job, no key, nothing ready, claims refused.
    expect(d.m.jobs()).toEqual([]);
    expect(d.m.job('j1')).toBeUndefined();
    expect(d.m.jobWithKey('k')).toBeUndefined();
    expect(d.m.readyCount()).toBe(0);
    const claim = d.do({ type: 'claim', node: 'n1', boot: 1, tasks: [{ job: 'j1', task: 0 }] });
    expect(ofType(claim, 'ignored').map((e) => e.reason)).toEqual(['j1/0: unknown job']);
    const fx = d.do(logged(p2 as Part));
    expect(fx).toEqual(wholeFx);
    expect(d.m.job('j1')).toEqual(whole.m.job('j1'));
    expect(d.m.jobWithKey('k')).toBe('j1');
    expect([...d.m.ready()]).toEqual([...whole.m.ready()]);
  });

  it('ignores a repeated part and makes the job once', () => {
    const d = new Driver();
    const parts = partsOf('j1', mixed(), [3]);
    d.do(parts[0] as Part);
    const again = d.do(parts[0] as Part);
    expect(again).toEqual([{ type: 'ignored', command: 'submit-part', reason: 'part 0 of job j1 is already staged' }]);
    expect(ofType(d.do(parts[1] as Part), 'submitted')).toEqual([{ type: 'submitted', requested: 'j1', job: 'j1', existing: false }]);
    expect(d.do(parts[1] as Part)).toEqual([{ type: 'submit-rejected', requested: 'j1', error: 'job id j1 is already taken' }]);
    expect(d.m.jobs().map((j) => j.id)).toEqual(['j1']);
  });

  it('drops a submit whose next part does not come within the bound of scheduler time, and refuses the late part', () => {
    const d = new Driver();
    const parts = partsOf('j1', mixed(), [2, 4]);
    d.do(parts[0] as Part);
    d.do(parts[1] as Part);
    expect(d.tick(STAGING_LIMITS.idleMs)).toEqual([]);
    const dropped = d.tick(1);
    expect(dropped).toEqual([{ type: 'ignored', command: 'submit-part', reason: 'job j1: 2 of 3 parts staged, none for 60 s: dropped' }]);
    const late = d.do(parts[2] as Part);
    expect(late).toEqual([
      {
        type: 'submit-rejected',
        requested: 'j1',
        error: 'part 2 of job j1 came without its earlier parts (dropped after 60 s without a part, or refused)',
        retry: true,
      },
    ]);
    expect(d.m.jobs()).toEqual([]);
  });

  it('a retry under the same key makes one job, never one of two attempts’ parts', () => {
    const d = new Driver();
    const first = partsOf('a1', mixed(), [3], 'key');
    const retry = partsOf('a2', mixed(), [2, 4], 'key');
    d.do(first[0] as Part);
    for (const p of retry) d.do(p);
    expect(d.m.jobWithKey('key')).toBe('a2');
    // The first attempt's last part finds the key taken: answered with the retry's job, its parts dropped.
    expect(d.do(first[1] as Part)).toEqual([{ type: 'submitted', requested: 'a1', job: 'a2', existing: true }]);
    expect(d.m.jobs().map((j) => j.id)).toEqual(['a2']);
    // And a third attempt is answered at its first part.
    expect(d.do(partsOf('a3', mixed(), [3], 'key')[0] as Part)).toEqual([
      { type: 'submitted', requested: 'a3', job: 'a2', existing: true },
    ]);
  });

  it('a part mixed from another attempt (same id, another header or count) is refused and drops the staged parts', () => {
    const d = new Driver();
    d.do(partsOf('j1', mixed(), [3])[0] as Part);
    const other = partsOf('j1', { ...mixed(), name: 'other' }, [3])[1] as Part;
    expect(d.do(other)).toEqual([
      {
        type: 'submit-rejected',
        requested: 'j1',
        error: 'part 1 of job j1 has another job header (name, retention, timeout, concurrency) than its part 0',
      },
    ]);
    expect(d.do(partsOf('j1', mixed(), [3])[1] as Part)[0]).toMatchObject({ type: 'submit-rejected' });
    d.do(partsOf('j2', mixed(), [2])[0] as Part);
    expect(d.do(partsOf('j2', mixed(), [2, 4])[1] as Part)).toEqual([
      { type: 'submit-rejected', requested: 'j2', error: 'part 1 of job j2 says 3 parts and key null, unlike its part 0' },
    ]);
  });

  it('refuses a DAG with a cycle or an unknown dep across parts with the error of a whole submit', () => {
    for (const bad of [
      job([task('a', { deps: ['c'] }), task('b', { deps: ['a'] }), task('c', { deps: ['b'] }), task('d')]),
      job([task('a'), task('b', { deps: ['a', 'nope'] }), task('c'), task('d', { deps: ['c'] })]),
    ]) {
      const whole = new Driver().submit('j1', bad);
      const d = new Driver();
      const parts = partsOf('j1', bad, [2]);
      d.do(parts[0] as Part);
      const fx = d.do(parts[1] as Part);
      expect(fx).toEqual(whole);
      expect(fx[0]).toMatchObject({ type: 'submit-rejected' });
      expect(d.m.jobs()).toEqual([]);
      // Dropped: a part 0 again starts afresh.
      expect(d.do(parts[0] as Part)[0]).toMatchObject({ type: 'submit-staged' });
    }
  });

  it('refuses a name used twice or a bad task at the part that shows it', () => {
    const d = new Driver();
    const dup = partsOf('j1', job([task('a'), task('b'), task('a')]), [2]);
    d.do(dup[0] as Part);
    expect(d.do(dup[1] as Part)).toEqual([
      { type: 'submit-rejected', requested: 'j1', error: "invalid job spec: tasks[2]: task name 'a' is used twice (specs 0 and 2)" },
    ]);
    const bad = partsOf('j2', job([task('a'), task('b', { slots: 0 })]), [1]);
    d.do(bad[0] as Part);
    expect(d.do(bad[1] as Part)[0]).toMatchObject({ type: 'submit-rejected', error: expect.stringMatching(/tasks\[1\]\.slots/) });
  });

  it('bounds the submits staged at once', () => {
    const d = new Driver();
    for (let k = 0; k < STAGING_LIMITS.maxStaged; k++) d.do(partsOf(`j${k}`, mixed(), [3])[0] as Part);
    expect(d.do(partsOf('late', mixed(), [3])[0] as Part)).toEqual([
      {
        type: 'submit-rejected',
        requested: 'late',
        error: `${STAGING_LIMITS.maxStaged} big submits are being staged already (at most ${STAGING_LIMITS.maxStaged}); submit again shortly`,
        retry: true,
      },
    ]);
    d.do(partsOf('j0', mixed(), [3])[1] as Part);
    expect(d.do(partsOf('late', mixed(), [3])[0] as Part)[0]).toMatchObject({ type: 'submit-staged' });
  });

  it('keeps staged parts in the snapshot: a replica restored mid-way makes the same job', () => {
    const d = new Driver();
    const parts = partsOf('j1', mixed(), [2, 4], 'k');
    d.do(parts[0] as Part);
    d.do(parts[1] as Part);
    const restored = new Driver(Scheduler.restore(d.m.encode()));
    restored.index = d.index;
    restored.time = d.time;
    expect(restored.m.hash()).toBe(d.m.hash());
    expect(restored.do(parts[2] as Part)).toEqual(d.do(parts[2] as Part));
    expect(restored.m.hash()).toBe(d.m.hash());
    // And the expiry bound survives it too.
    const e = new Driver();
    e.do(parts[0] as Part);
    const later = new Driver(Scheduler.restore(e.m.encode()));
    later.time = e.time;
    expect(later.tick(STAGING_LIMITS.idleMs + 1)).toEqual(e.tick(STAGING_LIMITS.idleMs + 1));
    expect(later.m.hash()).toBe(e.m.hash());
  });

  it('a random DAG cut anywhere, parts among other entries, ends as its whole submit does (and a snapshot mid-way changes nothing)', () => {
    const dag = fc.array(fc.tuple(fc.nat(7), fc.array(fc.nat(12), { maxLength: 3 })), { minLength: 2, maxLength: 12 }).map((rows) => {
      const tasks: TaskSpec[] = rows.map(([shards, deps], i) =>
        task(`t${i}`, { deps: [...new Set(deps.map((j) => `t${j % (rows.length + 1)}`))], shards: shards > 4 ? shards - 3 : null }),
      );
      return job(tasks);
    });
    fc.assert(
      fc.property(dag, fc.array(fc.nat(20), { maxLength: 4 }), fc.nat(10), (spec, rawCuts, snapAt) => {
        const cuts = [...new Set(rawCuts.map((c) => 1 + (c % (spec.tasks.length - 1))))].sort((a, b) => a - b);
        const parts = partsOf('j1', spec, cuts.length === 0 ? [1] : cuts, 'k');
        const whole = new Driver();
        whole.hb('n1');
        whole.tick(parts.length);
        const wholeFx = whole.submit('j1', spec, 'k');
        const d = new Driver();
        d.hb('n1');
        let last: Effect[] = [];
        let m = d;
        parts.forEach((p, i) => {
          if (i === snapAt % parts.length && i > 0) {
            const r = new Driver(Scheduler.restore(m.m.encode()));
            r.index = m.index;
            r.time = m.time;
            m = r;
          }
          m.tick(1);
          last = m.do(logged(p));
        });
        expect(last).toEqual(wholeFx);
        expect(m.m.job('j1')).toEqual(whole.m.job('j1'));
        expect(m.m.readyCount()).toBe(whole.m.readyCount());
      }),
      { numRuns: 200, seed: 16 },
    );
  });
});
