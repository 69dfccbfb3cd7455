// Reads of one job (docs/http-api.md §6): GET /v1/jobs/{id} (the summary and the first specs with
// their counts), GET /v1/jobs/{id}/specs (a page of specs), GET /v1/jobs/{id}/summary (what
// progress polls: the summary and stuck specs), GET /v1/jobs/{id}/tasks (a page of tasks) and
// GET /v1/jobs/{id}/tasks/{task} (one task). No route lists every task, or every spec, of a job: a
// 1,000,000-task job would block the node for seconds, a 50,000-spec one for a few hundred ms.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { MAX_SPEC_PAGE, DEFAULT_SPEC_PAGE } from '../scheduler/job-pages.js';
import type {
  JobDetail,
  JobProgress,
  SpecPageResult,
  SpecQuery,
  TaskItem,
  TaskPageResult,
  TaskQuery,
  TaskState,
} from '../scheduler/types.js';
import { TASK_STATE_NAMES as TASK_STATES } from '../scheduler/job.js';
import type { ApiError } from './types.js';

/** What these routes read of the node's replica; undefined: no such job. */
export interface JobReads {
  detail(id: string): JobDetail | undefined;
  progress(id: string): JobProgress | undefined;
  task(id: string, name: string): TaskItem | undefined;
  page(id: string, query: TaskQuery): TaskPageResult | undefined;
  specs(id: string, query: SpecQuery): SpecPageResult | undefined;
  exists(id: string): boolean;
}

export const DEFAULT_PAGE_LIMIT = 500;
export const MAX_PAGE_LIMIT = 5000;
/** Query parameters the page route takes (`consistent` is every read's, docs/http-api.md §3). */
const PAGE_PARAMS = new Set(['state', 'spec', 'after', 'limit', 'consistent']);
/** Query parameters the spec page route takes. */
const SPEC_PAGE_PARAMS = new Set(['state', 'after', 'limit', 'consistent']);
const JOB_ID = /^[a-z0-9-]{1,128}$/;
const SPEC_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const TASK_NAME = /^[A-Za-z0-9_.-]{1,128}(\[\d{1,16}\])?$/;

function fail(reply: FastifyReply, status: number, error: string): FastifyReply {
  const body: ApiError = { error };
  return reply.code(status).send(body);
}

/** A malformed id is not echoed back: it may be anything a client sent. */
function noJob(reply: FastifyReply, id: string): FastifyReply {
  if (!JOB_ID.test(id)) return fail(reply, 404, 'no such job (a job id is 1 to 128 characters a-z, 0-9 and -)');
  return fail(reply, 404, `no job ${id} on this node (finished jobs are removed after their retention period)`);
}

/** A value the client sent, quoted and cut short for an error message. */
function shown(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

type Parsed<Q> = { ok: true; query: Q } | { ok: false; error: string };

/** The parameters as single strings, or the problem: one the route does not take, or one given twice. */
function singleParams(raw: unknown, known: ReadonlySet<string>): Parsed<Record<string, string | undefined>> {
  const params = (raw ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(params).filter((k) => !known.has(k));
  const names = [...known].filter((k) => k !== 'consistent').join(', ');
  if (unknown.length > 0) return { ok: false, error: `unknown query parameter ${unknown.map(shown).join(', ')} (known: ${names})` };
  for (const [k, v] of Object.entries(params))
    if (typeof v !== 'string') return { ok: false, error: `${k} may be given once, as one value` };
  return { ok: true, query: params as Record<string, string | undefined> };
}

function stateParam(state: string | undefined): Parsed<TaskState | undefined> {
  if (state !== undefined && !(TASK_STATES as readonly string[]).includes(state))
    return { ok: false, error: `state must be one of ${TASK_STATES.join(', ')}; got ${shown(state)}` };
  return { ok: true, query: state as TaskState | undefined };
}

function limitParam(limit: string | undefined, byDefault: number, max: number): Parsed<number> {
  if (limit === undefined) return { ok: true, query: byDefault };
  const n = /^\d{1,7}$/.test(limit) ? Number(limit) : NaN;
  if (!(n >= 1 && n <= max)) return { ok: false, error: `limit must be an integer from 1 to ${max}; got ${shown(limit)}` };
  return { ok: true, query: n };
}

/** The page query from the URL's parameters, or the problem with them in the user's words. */
export function pageQuery(raw: unknown): Parsed<TaskQuery> {
  const params = singleParams(raw, PAGE_PARAMS);
  if (!params.ok) return params;
  const { state, spec, after, limit } = params.query;
  const st = stateParam(state);
  if (!st.ok) return st;
  if (spec !== undefined && !SPEC_NAME.test(spec)) return { ok: false, error: 'spec must be a spec name: 1 to 128 letters, digits, _ . -' };
  if (after !== undefined && !TASK_NAME.test(after))
    return { ok: false, error: 'after must be a task name (the next of the previous page), like extract or transform[3]' };
  const n = limitParam(limit, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT);
  if (!n.ok) return n;
  const query: TaskQuery = {
    limit: n.query,
    ...(st.query !== undefined && { state: st.query }),
    ...(spec !== undefined && { spec }),
    ...(after !== undefined && { after }),
  };
  return { ok: true, query };
}

/** The spec page query from the URL's parameters, or the problem with them. */
export function specPageQuery(raw: unknown): Parsed<SpecQuery> {
  const params = singleParams(raw, SPEC_PAGE_PARAMS);
  if (!params.ok) return params;
  const { state, after, limit } = params.query;
  const st = stateParam(state);
  if (!st.ok) return st;
  if (after !== undefined && !SPEC_NAME.test(after))
    return { ok: false, error: 'after must be a spec name (the next of the previous page): 1 to 128 letters, digits, _ . -' };
  const n = limitParam(limit, DEFAULT_SPEC_PAGE, MAX_SPEC_PAGE);
  if (!n.ok) return n;
  const query: SpecQuery = { limit: n.query, ...(st.query !== undefined && { state: st.query }), ...(after !== undefined && { after }) };
  return { ok: true, query };
}

export function registerJobReads(app: FastifyInstance, reads: JobReads): void {
  app.get<{ Params: { id: string } }>('/v1/jobs/:id', async (req, reply) => {
    const { id } = req.params;
    const job = JOB_ID.test(id) ? reads.detail(id) : undefined;
    return job ?? noJob(reply, id);
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id/summary', async (req, reply) => {
    const { id } = req.params;
    const job = JOB_ID.test(id) ? reads.progress(id) : undefined;
    return job ?? noJob(reply, id);
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id/tasks', async (req, reply) => {
    const { id } = req.params;
    const q = pageQuery(req.query);
    if (!q.ok) return fail(reply, 400, q.error);
    const r = JOB_ID.test(id) ? reads.page(id, q.query) : undefined;
    if (r === undefined) return noJob(reply, id);
    return r.ok ? r.page : fail(reply, 400, r.error);
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id/specs', async (req, reply) => {
    const { id } = req.params;
    const q = specPageQuery(req.query);
    if (!q.ok) return fail(reply, 400, q.error);
    const r = JOB_ID.test(id) ? reads.specs(id, q.query) : undefined;
    if (r === undefined) return noJob(reply, id);
    return r.ok ? r.page : fail(reply, 400, r.error);
  });

  app.get<{ Params: { id: string; task: string } }>('/v1/jobs/:id/tasks/:task', async (req, reply) => {
    const { id, task } = req.params;
    if (!JOB_ID.test(id)) return noJob(reply, id);
    if (!TASK_NAME.test(task)) return fail(reply, 400, 'a task name is letters, digits, _ . - and an optional [shard]');
    const t = reads.task(id, task);
    if (t !== undefined) return t;
    return reads.exists(id)
      ? fail(reply, 404, `job ${id} has no task ${JSON.stringify(task)} (a shard is named like name[3])`)
      : noJob(reply, id);
  });
}
