// `POST /v1/jobs/{id}/rerun` (docs/http-api.md §16) over the real JobService and state machine: a
// proposal is applied to the machine as the log would apply it, and the route answers with the
// machine's decision (200, or 400/404/409 naming the problem).
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerRerunRoute } from '../../src/api/rerun-route.js';
import { JobService } from '../../src/node/job-service.js';
import { decodeCommand } from '../../src/scheduler/command-codec.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import type { Effect } from '../../src/scheduler/types.js';
import { job, result, task } from '../scheduler/machine-helpers.js';

function app() {
  const m = new Scheduler();
  let index = 0;
  let time = 1_000;
  const apply = (data: Uint8Array): Effect[] => {
    const d = decodeCommand(data);
    if (!d.ok) throw new Error(d.error);
    return m.applyCommand(d.value, ++index, (time += 10));
  };
  const jobs = new JobService({ view: m, propose: (data, _opts, reply) => reply.resolve(apply(data)) });
  const a = Fastify();
  registerRerunRoute(a, (id, req) => jobs.rerun(id, req));
  // A job whose `load` failed, `report` skipped behind it.
  m.applyCommand({ type: 'heartbeat', node: 'n1', boot: 1, slots: 4, handlers: [], leaseMs: 5000, seq: 1 }, ++index, time);
  m.applyCommand({ type: 'submit', id: 'j', key: null, spec: job([task('load'), task('report', { deps: ['load'] })]) }, ++index, time);
  m.applyCommand({ type: 'claim', node: 'n1', boot: 1, tasks: [{ job: 'j', task: 0 }] }, ++index, time);
  m.applyCommand({ type: 'finish', node: 'n1', boot: 1, results: [result('j', 0, 1, 'failed')], claimNext: false }, ++index, time);
  return { a, m };
}

const post = (a: ReturnType<typeof app>['a'], url: string, payload: unknown) =>
  a.inject({ method: 'POST', url, payload: payload as object });

describe('POST /v1/jobs/{id}/rerun', () => {
  it('re-runs the failed part of a finished job: 200 with the job running again and how many tasks', async () => {
    const { a, m } = app();
    expect(m.job('j')?.state).toBe('failed');
    const r = await post(a, '/v1/jobs/j/rerun', { failed: true });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ id: 'j', state: 'running', tasks: 2 });
    expect(m.job('j')?.tasks['load']?.state).toBe('ready');
  });

  it('409 while the job runs, 404 for an unknown job, 400 for an unknown task', async () => {
    const { a } = app();
    expect((await post(a, '/v1/jobs/nope/rerun', { failed: true })).statusCode).toBe(404);
    const unknown = await post(a, '/v1/jobs/j/rerun', { tasks: ['lod'] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({ error: `job j has no task "lod" (did you mean 'load'?)` });
    await post(a, '/v1/jobs/j/rerun', { tasks: ['load'], downstream: true });
    const running = await post(a, '/v1/jobs/j/rerun', { failed: true });
    expect(running.statusCode).toBe(409);
    expect(running.json()).toEqual({ error: 'job j is still running: only a finished job can be re-run' });
  });

  it('400 for a body that says nothing, says it badly, or has unknown fields', async () => {
    const { a } = app();
    for (const [body, says] of [
      [{}, 'say what to re-run'],
      [{ downstream: true, failed: true }, '"downstream" goes with "tasks"'],
      [{ tasks: [] }, 'tasks:'],
      [{ tasks: ['a b'] }, 'tasks.0: a task name'],
      [{ failed: 'yes' }, 'failed:'],
      [{ failed: true, force: true }, 'force'],
    ] as const) {
      const r = await post(a, '/v1/jobs/j/rerun', body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.json<{ error: string }>().error).toContain(says);
    }
  });
});
