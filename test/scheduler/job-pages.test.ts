// Paged reads of a job (docs/http-api.md §6): the per-spec counts, pages of tasks and one task by
// name agree with the full view (every task, the shape tests keep), whatever the filters and the
// page size; bad filters and cursors are named.
import { describe, expect, it } from 'vitest';
import type { TaskItem, TaskQuery, TaskState } from '../../src/scheduler/types.js';
import { Driver, handlerTask, job, task } from './machine-helpers.js';

/** a[0..4] (2 succeeded, 1 failed, 1 running, 1 ready), b after a (skipped), c a handler nobody has (ready, stuck). */
function mixed(): Driver {
  const d = new Driver();
  d.submit('j', job([task('a', { shards: 5 }), task('b', { deps: ['a'] }), handlerTask('c', 'gpu')]));
  d.hb('n1', { slots: 8 });
  d.claim('n1', [
    ['j', 0],
    ['j', 1],
    ['j', 2],
    ['j', 3],
  ]);
  d.done('n1', 'j', 0);
  d.done('n1', 'j', 1);
  d.done('n1', 'j', 2, 'failed');
  return d;
}

/** Every page of `query` from the start, following `next`. */
function allPages(d: Driver, query: Omit<TaskQuery, 'after'>): TaskItem[][] {
  const pages: TaskItem[][] = [];
  let after: string | undefined;
  for (let i = 0; i < 100; i++) {
    const r = d.m.taskPage('j', after === undefined ? query : { ...query, after });
    if (!r?.ok) throw new Error(`no page: ${r?.ok === false ? r.error : 'no job'}`);
    pages.push([...r.page.tasks]);
    if (r.page.next === null) return pages;
    after = r.page.next;
  }
  throw new Error('pages never ended');
}

describe('job detail', () => {
  it('counts each spec’s tasks by state and says why ready tasks are stuck, without listing tasks', () => {
    const d = mixed();
    const detail = d.m.jobDetail('j');
    expect(detail).not.toHaveProperty('tasks');
    expect(detail?.counts).toEqual(d.m.job('j')?.counts);
    expect(detail?.specs).toEqual([
      {
        name: 'a',
        deps: [],
        shards: 5,
        counts: { waiting: 0, ready: 1, running: 1, succeeded: 2, failed: 1, skipped: 0 },
        cancelled: 0,
        stuck: null,
      },
      {
        name: 'b',
        deps: ['a'],
        shards: null,
        counts: { waiting: 0, ready: 0, running: 0, succeeded: 0, failed: 0, skipped: 1 },
        cancelled: 0,
        stuck: null,
      },
      {
        name: 'c',
        deps: [],
        shards: null,
        counts: { waiting: 0, ready: 1, running: 0, succeeded: 0, failed: 0, skipped: 0 },
        cancelled: 0,
        stuck: "no node has handler 'gpu' (known: none)",
      },
    ]);
    expect(d.m.jobDetail('nope')).toBeUndefined();
  });

  it('counts the tasks a cancel skipped apart from those skipped upstream', () => {
    const d = mixed();
    d.do({ type: 'cancel', job: 'j' });
    const detail = d.m.jobDetail('j');
    const specs = detail?.specs ?? [];
    // a[3] was running and a[4] ready: both cancelled; b was already skipped upstream; c cancelled.
    expect(specs.map((s) => [s.name, s.counts.skipped, s.cancelled])).toEqual([
      ['a', 2, 2],
      ['b', 1, 0],
      ['c', 1, 1],
    ]);
    // The job's own count, which a client of a paged spec list cannot sum itself.
    expect(detail?.cancelled).toBe(3);
  });
});

describe('job progress', () => {
  it('is the summary plus the specs whose ready tasks no live node can run, naming the first', () => {
    const d = new Driver();
    d.submit('j', job([handlerTask('gpu', 'cuda', { shards: 3 }), task('plain'), handlerTask('late', 'cuda', { deps: ['plain'] })]));
    d.hb('n1', { handlers: ['noop'] });
    const p = d.m.jobProgress('j');
    expect(p).toEqual({
      ...d.m.jobSummary('j'),
      stuck: [{ spec: 'gpu', first: 'gpu[0]', ready: 3, reason: "no node has handler 'cuda' (known: noop)" }],
    });
    d.claim('n1', [['j', 3]]);
    d.done('n1', 'j', 3);
    expect(d.m.jobProgress('j')?.stuck.map((s) => [s.spec, s.ready])).toEqual([
      ['gpu', 3],
      ['late', 1],
    ]);
    d.hb('n1', { handlers: ['cuda'] });
    expect(d.m.jobProgress('j')?.stuck).toEqual([]);
    expect(d.m.jobProgress('nope')).toBeUndefined();
  });
});

describe('task pages', () => {
  const states: (TaskState | undefined)[] = [undefined, 'waiting', 'ready', 'running', 'succeeded', 'failed', 'skipped'];
  const specs = [undefined, 'a', 'b', 'c'];

  it('list, page after page, exactly the tasks of the full view that match, in task order, for any page size', () => {
    const d = mixed();
    const full = Object.entries(d.m.job('j')?.tasks ?? {}).map(([name, t]) => ({ name, ...t }));
    for (const state of states)
      for (const spec of specs)
        for (const limit of [1, 2, 3, 500]) {
          const want = full.filter(
            (t) => (state === undefined || t.state === state) && (spec === undefined || t.name.split('[')[0] === spec),
          );
          const pages = allPages(d, { limit, ...(state && { state }), ...(spec && { spec }) });
          expect(pages.flat()).toEqual(want);
          // No page is over its limit, and only a query with no match at all has an empty page.
          for (const p of pages) expect(p.length).toBeLessThanOrEqual(limit);
          expect(pages.filter((p) => p.length === 0).length).toBe(want.length === 0 ? 1 : 0);
        }
  });

  it('names an unknown spec or cursor', () => {
    const d = mixed();
    expect(d.m.taskPage('j', { spec: 'zz', limit: 5 })).toEqual({ ok: false, error: 'job j has no spec "zz"' });
    for (const after of ['a[5]', 'b[0]', 'a', 'zz', 'a[01]'])
      expect(d.m.taskPage('j', { after, limit: 5 })).toEqual({ ok: false, error: `after: job j has no task ${JSON.stringify(after)}` });
    expect(d.m.taskPage('nope', { limit: 5 })).toBeUndefined();
  });

  it('reads one task by name as the full view has it, the stuck reason included', () => {
    const d = mixed();
    const full = d.m.job('j')?.tasks ?? {};
    for (const name of ['a[0]', 'a[2]', 'a[4]', 'b', 'c']) expect(d.m.task('j', name)).toEqual({ name, ...full[name] });
    expect(d.m.task('j', 'c')?.reason).toBe("no node has handler 'gpu' (known: none)");
    expect(d.m.task('j', 'a[5]')).toBeUndefined();
    expect(d.m.task('nope', 'a[0]')).toBeUndefined();
  });

  it('reads a page of a 1,000,000-shard job without visiting the tasks before its cursor', () => {
    const d = new Driver();
    d.submit('j', job([task('big', { shards: 1_000_000 })]));
    const r = d.m.taskPage('j', { after: 'big[999997]', limit: 5 });
    expect(r?.ok && r.page.tasks.map((t) => t.name)).toEqual(['big[999998]', 'big[999999]']);
    expect(r?.ok && r.page.next).toBeNull();
    expect(d.m.jobDetail('j')?.specs[0]?.counts.ready).toBe(1_000_000);
  });
});
