// The rest of the API surface (docs/http-api.md §3, §8, §9, §11, §12) on top of the jobs endpoints of server.ts:
// GET /v1/nodes, GET /v1/events (server-sent events), GET /v1/jobs/{id}/tasks/{task}/log,
// GET /metrics, and `?consistent=true` (a ReadIndex barrier before any GET /v1 read).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { sendFailure, type TaskLogOutcome } from './outcomes.js';
import type { EventHub } from './events.js';
import type { ApiError, NodeInfo } from './types.js';

export type ReadBarrierOutcome = { readonly ok: true; readonly index: number } | { readonly ok: false; readonly error: string };

/** What these endpoints ask of the node; each is optional (an endpoint without its part is not served). */
export interface SurfaceBackend {
  nodes?(): NodeInfo[];
  /** A linearizable read point: resolves once this node has applied everything committed before the call. */
  readBarrier?(): Promise<ReadBarrierOutcome>;
  taskLog?(job: string, task: string, attempt: number | null): Promise<TaskLogOutcome>;
  readonly events?: EventHub;
  readonly metrics?: { text(): Promise<string>; readonly contentType: string };
}

const consistentQuery = z.object({ consistent: z.enum(['true', 'false']).optional() });
const logParams = z.object({
  id: z.string().regex(/^[a-z0-9-]{1,128}$/, 'a job id is 1 to 128 characters a-z, 0-9 and -'),
  task: z
    .string()
    .max(160)
    .regex(/^[A-Za-z0-9_.-]+(\[\d+\])?$/, 'a task name is letters, digits, _ . - and an optional [shard]'),
});
const logQuery = z.object({
  attempt: z
    .string()
    .regex(/^[1-9]\d{0,6}$/, 'attempt must be a positive integer')
    .optional(),
});

function fail(reply: FastifyReply, status: number, error: string, details?: unknown): FastifyReply {
  const body: ApiError = details === undefined ? { error } : { error, details };
  return reply.code(status).send(body);
}

function firstIssue(err: z.ZodError): string {
  const i = err.issues[0];
  return i ? `${i.path.join('.') || 'value'}: ${i.message}` : 'invalid';
}

/**
 * The `?consistent=true` barrier for every GET under /v1 (the event stream excepted): the read then
 * reflects every write committed before the request. Register before the routes it guards.
 */
export function registerConsistentReads(app: FastifyInstance, backend: SurfaceBackend): void {
  app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'GET' || !req.url.startsWith('/v1/') || req.url.startsWith('/v1/events')) return;
    const q = consistentQuery.safeParse(req.query ?? {});
    if (!q.success) return fail(reply, 400, 'consistent must be true or false');
    if (q.data.consistent !== 'true') return;
    if (!backend.readBarrier) return fail(reply, 400, 'this node does not serve consistent reads');
    const r = await backend.readBarrier();
    if (!r.ok) return fail(reply, 503, `consistent read not possible right now: ${r.error}`);
  });
}

export function registerSurface(app: FastifyInstance, backend: SurfaceBackend): void {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- each is called with .call(backend)
  const { nodes, taskLog, events, metrics } = backend;
  if (nodes) app.get('/v1/nodes', async () => ({ nodes: nodes.call(backend) }));

  if (taskLog) {
    app.get('/v1/jobs/:id/tasks/:task/log', async (req, reply) => {
      const p = logParams.safeParse(req.params);
      if (!p.success) return fail(reply, 400, `bad path: ${firstIssue(p.error)}`);
      const q = logQuery.safeParse(req.query ?? {});
      if (!q.success) return fail(reply, 400, `bad query: ${firstIssue(q.error)}`);
      const r = await taskLog.call(backend, p.data.id, p.data.task, q.data.attempt === undefined ? null : Number(q.data.attempt));
      if (!r.ok) return sendFailure(reply, r);
      return reply
        .code(200)
        .header('content-type', 'text/plain; charset=utf-8')
        .header('x-meshrun-node', r.node)
        .header('x-meshrun-attempt', String(r.attempt))
        .header('x-meshrun-log-size', String(r.size))
        .header('x-meshrun-truncated', String(r.truncated))
        .send(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength));
    });
  }

  if (events) {
    app.get('/v1/events', (req, reply) => {
      if (events.full) return fail(reply, 503, 'too many event stream clients on this node; try again later');
      const res = reply.raw;
      reply.hijack();
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const unsubscribe = events.subscribe(res) ?? ((): void => undefined);
      // Sent at once, so the client sees the stream open (and a proxy flushes the headers).
      res.write(': connected\n\n');
      req.raw.once('close', unsubscribe);
      res.once('close', unsubscribe);
      res.once('error', unsubscribe);
      return reply;
    });
    // Open streams would keep the server from closing: end them first.
    app.addHook('preClose', (done) => {
      events.close();
      done();
    });
  }

  if (metrics) {
    app.get('/metrics', async (_req, reply) =>
      reply
        .code(200)
        .header('content-type', metrics.contentType)
        .send(await metrics.text()),
    );
  }
}
