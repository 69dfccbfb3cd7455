// The job read routes (docs/http-api.md §6) over a real state machine: the job answer has specs
// with counts and no tasks, pages follow their cursor to the end, one task reads by name, and every
// bad parameter is a 400 naming it.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerJobReads } from '../../src/api/job-read-routes.js';
import type { ApiError } from '../../src/api/types.js';
import type { JobDetail, JobProgress, TaskItem, TaskPage } from '../../src/scheduler/types.js';
import { Driver, job, task } from '../scheduler/machine-helpers.js';

function app() {
  const d = new Driver();
  d.submit('abc123', job([task('a', { shards: 1200 }), task('b', { deps: ['a'] })]));
  d.hb('n1');
  d.claim('n1', [['abc123', 0]]);
  d.done('n1', 'abc123', 0, 'failed');
  const a = Fastify();
  registerJobReads(a, {
    detail: (id) => d.m.jobDetail(id),
    progress: (id) => d.m.jobProgress(id),
    task: (id, name) => d.m.task(id, name),
    page: (id, q) => d.m.taskPage(id, q),
    exists: (id) => d.m.jobSummary(id) !== undefined,
  });
  return { a, d };
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
