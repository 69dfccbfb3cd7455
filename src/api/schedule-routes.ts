// The schedule endpoints (docs/http-api.md §15): create or replace, list, show, pause, resume,
// trigger and delete. Bodies are read by the schedule file front end (src/schedule/file.ts); every
// change is answered once this node has applied it.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { formatDuration } from '../dag/duration.js';
import { ScheduleError, normalizeSchedule } from '../schedule/file.js';
import type { ScheduleSpec, ScheduleView } from '../scheduler/schedule-types.js';
import type { ScheduleInfo } from './types.js';
import { sendFailure, type FailureReason, type ScheduleAction, type ScheduleOutcome } from './outcomes.js';

export interface ScheduleBackend {
  put(spec: ScheduleSpec): Promise<ScheduleOutcome>;
  act(action: ScheduleAction, name: string): Promise<ScheduleOutcome>;
  list(): ScheduleView[];
  get(name: string): ScheduleView | undefined;
}

export function scheduleInfo(v: ScheduleView): ScheduleInfo {
  const cadence = v.cadence.kind === 'cron' ? { cron: v.cadence.expr } : { every: formatDuration(v.cadence.everyMs) };
  return {
    name: v.name,
    ...cadence,
    timezone: v.timezone,
    overlap: v.overlap,
    catchup: v.catchup,
    paused: v.paused,
    params: v.params,
    createdAt: v.createdAt,
    nextAt: v.nextAt,
    runs: v.runs,
    fired: v.fired,
    skipped: v.skipped,
    missed: v.missed,
  };
}

const nameParams = z.object({ name: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/) });
const ACTIONS: readonly ScheduleAction[] = ['pause', 'resume', 'trigger'];

function fail(reply: FastifyReply, reason: FailureReason, error: string, details?: unknown): FastifyReply {
  return sendFailure(reply, details === undefined ? { ok: false, reason, error } : { ok: false, reason, error, details });
}

export function registerScheduleRoutes(app: FastifyInstance, backend: ScheduleBackend): void {
  app.post('/v1/schedules', async (req, reply) => {
    let spec: ScheduleSpec;
    try {
      spec = normalizeSchedule(req.body);
    } catch (err) {
      if (err instanceof ScheduleError) return fail(reply, 'invalid', `invalid schedule: ${err.message}`, { problems: err.problems });
      throw err;
    }
    const r = await backend.put(spec);
    if (!r.ok) return sendFailure(reply, r);
    const view = backend.get(spec.name);
    return reply.code(r.change === 'created' ? 201 : 200).send(view === undefined ? { name: spec.name } : scheduleInfo(view));
  });
  app.get('/v1/schedules', async () => ({ schedules: backend.list().map(scheduleInfo) }));
  app.get('/v1/schedules/:name', async (req, reply) => {
    const p = nameParams.safeParse(req.params);
    const view = p.success ? backend.get(p.data.name) : undefined;
    if (view === undefined) return fail(reply, 'not-found', `no schedule named ${JSON.stringify(p.success ? p.data.name : '')}`);
    return scheduleInfo(view);
  });
  app.delete('/v1/schedules/:name', async (req, reply) => {
    const p = nameParams.safeParse(req.params);
    if (!p.success) return fail(reply, 'not-found', 'no such schedule');
    const r = await backend.act('delete', p.data.name);
    if (!r.ok) return sendFailure(reply, r);
    return { name: r.name, deleted: true };
  });
  for (const action of ACTIONS) {
    app.post(`/v1/schedules/:name/${action}`, async (req, reply) => {
      const p = nameParams.safeParse(req.params);
      if (!p.success) return fail(reply, 'not-found', 'no such schedule');
      const r = await backend.act(action, p.data.name);
      if (!r.ok) return sendFailure(reply, r);
      const view = backend.get(p.data.name);
      const info = view === undefined ? { name: p.data.name } : scheduleInfo(view);
      return action === 'trigger' ? { ...info, job: r.job } : info;
    });
  }
}
