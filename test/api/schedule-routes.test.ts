// The schedule endpoints (docs/http-api.md §15) over the real ScheduleService and state machine:
// a proposal is applied to the machine as the log would apply it.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerScheduleRoutes } from '../../src/api/schedule-routes.js';
import { ScheduleService } from '../../src/node/schedule-service.js';
import { decodeCommand } from '../../src/scheduler/command-codec.js';
import { Scheduler } from '../../src/scheduler/machine.js';
import type { ApiError, ScheduleInfo } from '../../src/api/types.js';

const T0 = Date.UTC(2026, 0, 1);
const DAG = { name: 'etl', tasks: { a: { run: 'true' } } };

function app() {
  const m = new Scheduler();
  let index = 0;
  let time = T0;
  // As RaftDriver.requestPropose answers: with the effects of the command once applied.
  const service = new ScheduleService({
    propose: (data, _opts, reply) => {
      const d = decodeCommand(data);
      if (!d.ok) return reply.reject(new Error(d.error));
      reply.resolve(m.applyCommand(d.value, ++index, (time += 10)));
    },
    now: () => T0,
  });
  const a = Fastify();
  registerScheduleRoutes(a, {
    put: (s) => service.put(s),
    act: (x, n) => service.act(x, n),
    list: () => m.schedules(),
    get: (n) => m.schedule(n),
  });
  return { a, m };
}

describe('schedule routes', () => {
  it('creates (201), replaces (200), lists, shows, pauses, resumes, triggers and deletes', async () => {
    const { a, m } = app();
    const created = await a.inject({
      method: 'POST',
      url: '/v1/schedules',
      payload: { name: 'n', every: '1m', overlap: 'forbid', dag: DAG },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      name: 'n',
      every: '1m',
      timezone: 'UTC',
      overlap: 'forbid',
      catchup: 'latest',
      paused: false,
      nextAt: T0 + 60_000,
      runs: [],
    });
    const replaced = await a.inject({
      method: 'POST',
      url: '/v1/schedules',
      payload: { name: 'n', cron: '0 * * * *', timezone: 'Asia/Tokyo', overlap: 'forbid', dag: DAG },
    });
    expect([replaced.statusCode, replaced.json<ScheduleInfo>().cron]).toEqual([200, '0 * * * *']);
    expect((await a.inject({ url: '/v1/schedules' })).json<{ schedules: ScheduleInfo[] }>().schedules.map((s) => s.name)).toEqual(['n']);
    expect((await a.inject({ method: 'POST', url: '/v1/schedules/n/pause' })).json()).toMatchObject({ paused: true, nextAt: null });
    expect((await a.inject({ method: 'POST', url: '/v1/schedules/n/resume' })).json()).toMatchObject({ paused: false });
    const trig = await a.inject({ method: 'POST', url: '/v1/schedules/n/trigger' });
    expect(trig.statusCode).toBe(200);
    const job = trig.json<{ job: string }>().job;
    expect(m.job(job)).toMatchObject({ schedule: 'n' });
    const shown = (await a.inject({ url: '/v1/schedules/n' })).json<ScheduleInfo>();
    expect(shown.runs).toEqual([{ tick: m.job(job)?.tick, job, state: 'running', triggered: true }]);
    // forbid: a second trigger while the run is active.
    const again = await a.inject({ method: 'POST', url: '/v1/schedules/n/trigger' });
    expect([again.statusCode, again.json<ApiError>().error]).toEqual([
      409,
      `a run of 'n' is active (job ${job}) and its overlap is forbid`,
    ]);
    expect((await a.inject({ method: 'DELETE', url: '/v1/schedules/n' })).json()).toEqual({ name: 'n', deleted: true });
    expect((await a.inject({ url: '/v1/schedules/n' })).statusCode).toBe(404);
  });

  it('answers 400 naming each field, and 404 for an unknown name', async () => {
    const { a } = app();
    const bad = await a.inject({
      method: 'POST',
      url: '/v1/schedules',
      payload: { name: 'n', every: '1m', catchup: 'some', dag: { name: 'x', tasks: {} } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ details: { problems: string[] } }>().details.problems).toEqual([
      'catchup: catchup must be one of none, latest, all, got "some"',
      'dag.tasks: a job needs at least one task',
    ]);
    for (const [method, url] of [
      ['POST', '/v1/schedules/zz/pause'],
      ['POST', '/v1/schedules/zz/trigger'],
      ['DELETE', '/v1/schedules/zz'],
      ['GET', '/v1/schedules/zz'],
    ] as const) {
      const r = await a.inject({ method, url });
      expect([r.statusCode, r.json<ApiError>().error], url).toEqual([
        404,
        method === 'GET' ? 'no schedule named "zz"' : "no schedule named 'zz'",
      ]);
    }
  });
});
