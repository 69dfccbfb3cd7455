// The job read routes (docs/http-api.md §6) over a real state machine: the job answer has its first
// specs with counts and no tasks, task and spec pages follow their cursor to the end, one task
// reads by name, and every bad parameter is a 400 naming it.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerJobReads } from '../../src/api/job-read-routes.js';
import type { ApiError } from '../../src/api/types.js';
import type { JobDetail, JobProgress, SpecPage, TaskItem, TaskPage } from '../../src/scheduler/types.js';
import { Driver, job, task } from '../scheduler/machine-helpers.js';

/** The read routes over `d`'s state machine. */
function routesOver(d: Driver) {
  const a = Fastify();
  registerJobReads(a, {
    detail: (id) => d.m.jobDetail(id),
    progress: (id) => d.m.jobProgress(id),
    task: (id, name) => d.m.task(id, name),
    page: (id, q) => d.m.taskPage(id, q),
    specs: (id, q) => d.m.specPage(id, q),
    exists: (id) => d.m.jobSummary(id) !== undefined,
  });
  return a;
}

function app() {
  const d = new Driver();
  d.submit('abc123', job([task('a', { shards: 1200 }), task('b', { deps: ['a'] })]));
  d.hb('n1');
  d.claim('n1', [['abc123', 0]]);
  d.done('n1', 'abc123', 0, 'failed');
  return { a: routesOver(d), d };
}

/** A job of 1,201 distinct specs (s0 and, each on it, s1..s1200), s0 done so s1..s1200 are ready. */
function manySpecs() {
  const d = new Driver();
  const specs = [task('s0'), ...Array.from({ length: 1200 }, (_, i) => task(`s${i + 1}`, { deps: ['s0'] }))];
  d.submit('wide', job(specs));
  d.hb('n1');
  d.claim('n1', [['wide', 0]]);
  d.done('n1', 'wide', 0, 'succeeded');
  return routesOver(d);
}

describe('job read routes', () => {
  it('GET /v1/jobs/{id}: the summary and the specs with counts, never the tasks', async () => {
    const { a } = app();
    const r = await a.inject({ url: '/v1/jobs/abc123' });
    expect(r.statusCode).toBe(200);
    const body = r.json<JobDetail>();
    expect(body).not.toHaveProperty('tasks');
    expect(body.specs.map((s) => [s.name, s.shards, s.counts.failed, s.counts.ready, s.counts.skipped])).toEqual([
      ['a', 1200, 1, 1199, 0],
      ['b', null, 0, 0, 1],
    ]);
    const p = await a.inject({ url: '/v1/jobs/abc123/summary' });
    expect(p.json<JobProgress>()).toMatchObject({ id: 'abc123', state: 'running', stuck: [] });
    for (const url of ['/v1/jobs/nope', '/v1/jobs/nope/summary', '/v1/jobs/nope/tasks', '/v1/jobs/nope/tasks/a', '/v1/jobs/BAD!/tasks'])
      expect((await a.inject({ url })).statusCode, url).toBe(404);
  });

  it('GET /v1/jobs/{id}/tasks: 500 a page by default, following next to the end', async () => {
    const { a } = app();
    const names: string[] = [];
    let url = '/v1/jobs/abc123/tasks';
    for (let i = 0; i < 10; i++) {
      const page = (await a.inject({ url })).json<TaskPage>();
      expect(page.tasks.length).toBeLessThanOrEqual(500);
      names.push(...page.tasks.map((t) => t.name));
      if (page.next === null) break;
      url = `/v1/jobs/abc123/tasks?after=${encodeURIComponent(page.next)}`;
    }
    expect(names).toHaveLength(1201);
    expect(names.at(0)).toBe('a[0]');
    expect(names.at(-1)).toBe('b');
    const failed = (await a.inject({ url: '/v1/jobs/abc123/tasks?state=failed&limit=5000' })).json<TaskPage>();
    expect(failed).toMatchObject({ tasks: [{ name: 'a[0]', state: 'failed', attempt: 1 }], next: null });
    const ofB = (await a.inject({ url: '/v1/jobs/abc123/tasks?spec=b' })).json<TaskPage>();
    expect(ofB.tasks.map((t) => [t.name, t.state, t.reason])).toEqual([['b', 'skipped', 'upstream failed: a[0]']]);
  });

  it('GET /v1/jobs/{id}/tasks/{task}: one task, or 404 naming it', async () => {
    const { a } = app();
    const r = await a.inject({ url: '/v1/jobs/abc123/tasks/a%5B0%5D' });
    expect(r.json<TaskItem>()).toMatchObject({ name: 'a[0]', state: 'failed', attempts: [{ attempt: 1, outcome: 'failed' }] });
    const missing = await a.inject({ url: '/v1/jobs/abc123/tasks/a%5B1200%5D' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json<ApiError>().error).toBe('job abc123 has no task "a[1200]" (a shard is named like name[3])');
  });

  it('GET /v1/jobs/{id} of a job of many specs: the first 500, how many in all and the cursor of the rest', async () => {
    const a = manySpecs();
    const body = (await a.inject({ url: '/v1/jobs/wide' })).json<JobDetail>();
    expect(body.specCount).toBe(1201);
    expect(body.cancelled).toBe(0);
    expect(body.specs).toHaveLength(500);
    expect(body.specs.at(0)).toMatchObject({ name: 's0', counts: { succeeded: 1 } });
    expect(body.specsNext).toBe('s499');
    const small = (await app().a.inject({ url: '/v1/jobs/abc123' })).json<JobDetail>();
    expect(small).toMatchObject({ specCount: 2, specsNext: null, cancelled: 0 });
  });

  it('GET /v1/jobs/{id}/specs: pages in DAG order to the end, and only specs with a task in a state', async () => {
    const a = manySpecs();
    const names: string[] = [];
    let url = '/v1/jobs/wide/specs?limit=300';
    for (let i = 0; i < 10; i++) {
      const page = (await a.inject({ url })).json<SpecPage>();
      expect(page.specs.length).toBeLessThanOrEqual(300);
      names.push(...page.specs.map((s) => s.name));
      if (page.next === null) break;
      url = `/v1/jobs/wide/specs?limit=300&after=${page.next}`;
    }
    expect(names).toEqual(Array.from({ length: 1201 }, (_, i) => `s${i}`));
    const byDefault = (await a.inject({ url: '/v1/jobs/wide/specs?after=s499' })).json<SpecPage>();
    expect(byDefault.specs.map((s) => s.name)).toEqual(Array.from({ length: 500 }, (_, i) => `s${i + 500}`));
    expect(byDefault.next).toBe('s999');
    const succeeded = (await a.inject({ url: '/v1/jobs/wide/specs?state=succeeded' })).json<SpecPage>();
    expect(succeeded).toEqual({ specs: [expect.objectContaining({ name: 's0' })], next: null });
    const ready = (await a.inject({ url: '/v1/jobs/wide/specs?state=ready&limit=2&after=s1198' })).json<SpecPage>();
    expect(ready.specs.map((s) => [s.name, s.counts.ready])).toEqual([
      ['s1199', 1],
      ['s1200', 1],
    ]);
    expect(ready.next).toBeNull();
    expect((await a.inject({ url: '/v1/jobs/wide/specs?state=failed' })).json<SpecPage>()).toEqual({ specs: [], next: null });
    expect((await a.inject({ url: '/v1/jobs/nope/specs' })).statusCode).toBe(404);
  });

  it.each([
    ['state=done', /^state must be one of waiting, ready, running, succeeded, failed, skipped; got "done"$/],
    ['limit=0', /^limit must be an integer from 1 to 5000; got "0"$/],
    ['limit=5001', /^limit must be an integer from 1 to 5000/],
    ['limit=-3', /^limit must be an integer from 1 to 5000/],
    ['spec=a', /^unknown query parameter "spec" \(known: state, after, limit\)$/],
    ['after=s1&after=s2', /^after may be given once/],
    ['after=a%5B0%5D', /^after must be a spec name/],
    ['after=zz', /^after: job wide has no spec "zz"$/],
  ])('GET /v1/jobs/{id}/specs?%s is a 400 naming the problem', async (query, message) => {
    const r = await manySpecs().inject({ url: `/v1/jobs/wide/specs?${query}` });
    expect(r.statusCode).toBe(400);
    expect(r.json<ApiError>().error).toMatch(message);
  });

  it.each([
    ['state=done', /^state must be one of waiting, ready, running, succeeded, failed, skipped; got "done"$/],
    ['limit=0', /^limit must be an integer from 1 to 5000; got "0"$/],
    ['limit=5001', /^limit must be an integer from 1 to 5000/],
    ['limit=ten', /^limit must be an integer from 1 to 5000/],
    ['status=failed', /^unknown query parameter "status" \(known: state, spec, after, limit\)$/],
    [`state=${'x'.repeat(500)}`, /got "x{64}…"$/],
    ['state=failed&state=ready', /^state may be given once/],
    ['spec=a%2Fb', /^spec must be a spec name/],
    ['spec=zz', /^job abc123 has no spec "zz"$/],
    ['after=a%5B9999%5D', /^after: job abc123 has no task "a\[9999\]"$/],
    ['after=%3Cx%3E', /^after must be a task name/],
  ])('GET /v1/jobs/{id}/tasks?%s is a 400 naming the problem', async (query, message) => {
    const { a } = app();
    const r = await a.inject({ url: `/v1/jobs/abc123/tasks?${query}` });
    expect(r.statusCode).toBe(400);
    expect(r.json<ApiError>().error).toMatch(message);
  });
});
