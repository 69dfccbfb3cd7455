// The pool endpoints (docs/http-api.md §17): list, show, and create or resize with PUT. A size change
// is answered once this node has applied it.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { poolNameProblem } from '../scheduler/placement.js';
import type { PoolView } from '../scheduler/types.js';
import { sendFailure, type FailureReason, type PoolOutcome } from './outcomes.js';

export interface PoolBackend {
  set(name: string, size: unknown): Promise<PoolOutcome>;
  list(): PoolView[];
  get(name: string): PoolView | undefined;
}

const nameParams = z.object({ name: z.string().max(256) });
const putBody = z.strictObject({ size: z.unknown() });

function fail(reply: FastifyReply, reason: FailureReason, error: string): FastifyReply {
  return sendFailure(reply, { ok: false, reason, error });
}

export function registerPoolRoutes(app: FastifyInstance, backend: PoolBackend): void {
  app.get('/v1/pools', async () => ({ pools: backend.list() }));
  app.get('/v1/pools/:name', async (req, reply) => {
    const p = nameParams.safeParse(req.params);
    const view = p.success ? backend.get(p.data.name) : undefined;
    if (view === undefined)
      return fail(reply, 'not-found', `no pool named ${JSON.stringify(p.success ? p.data.name : '')} (PUT /v1/pools/NAME creates one)`);
    return view;
  });
  app.put('/v1/pools/:name', async (req, reply) => {
    const p = nameParams.safeParse(req.params);
    const name = p.success ? p.data.name : '';
    const problem = poolNameProblem(name);
    if (problem !== null) return fail(reply, 'invalid', problem);
    const body = putBody.safeParse(req.body);
    if (!body.success || body.data.size === undefined) return fail(reply, 'invalid', 'body must be {"size": N} with N from 0 to 10,000');
    const r = await backend.set(name, body.data.size);
    if (!r.ok) return sendFailure(reply, r);
    return backend.get(name) ?? { name, size: r.size, used: 0 };
  });
}
