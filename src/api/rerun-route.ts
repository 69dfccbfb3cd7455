// `POST /v1/jobs/{id}/rerun` (docs/http-api.md §16): re-runs part of a finished job. The body is
// checked here (zod), the job and task names by the state machine when it applies the re-run
// (src/scheduler/reruns.ts), and the answer is its decision as this node applied it.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { MAX_RERUN_NAMES } from '../scheduler/command-codec.js';
import { sendFailure, type RerunOutcome, type RerunRequest } from './outcomes.js';

const jobParams = z.object({ id: z.string().min(1).max(128) });
/** A spec's name, or a shard's (`name[3]`): the DAG file's task names (docs/dag-file.md §6). */
const taskName = z.string().regex(/^[A-Za-z0-9_.-]{1,128}(\[(0|[1-9]\d{0,15})\])?$/, 'a task name, like load or transform[3]');
const rerunBody = z
  .object({
    failed: z.boolean().optional(),
    tasks: z.array(taskName).min(1).max(MAX_RERUN_NAMES).optional(),
    downstream: z.boolean().optional(),
  })
  .strict()
  .refine((b) => b.failed === true || b.tasks !== undefined, { error: 'say what to re-run: "failed": true, or "tasks": [...]' })
  .refine((b) => b.downstream !== true || b.tasks !== undefined, {
    error: '"downstream" goes with "tasks" (what is downstream of which tasks?)',
  });

/** The first problem zod found, with where it is: `tasks.0: a task name, like load or transform[3]`. */
function problemOf(error: z.ZodError): string {
  const first = error.issues[0];
  if (first === undefined) return 'invalid body';
  const path = first.path.map(String).join('.');
  return path === '' ? first.message : `${path}: ${first.message}`;
}

function invalid(reply: FastifyReply, error: string): FastifyReply {
  return sendFailure(reply, { ok: false, reason: 'invalid', error });
}

export function registerRerunRoute(app: FastifyInstance, rerun: (id: string, req: RerunRequest) => Promise<RerunOutcome>): void {
  app.post('/v1/jobs/:id/rerun', async (req, reply) => {
    const p = jobParams.safeParse(req.params);
    if (!p.success) return sendFailure(reply, { ok: false, reason: 'not-found', error: 'no such job' });
    const body = rerunBody.safeParse(req.body ?? {});
    if (!body.success)
      return invalid(reply, `invalid re-run: ${problemOf(body.error)}; send {"failed": true} or {"tasks": ["a"], "downstream": true}`);
    const b = body.data;
    const r = await rerun(p.data.id, { failed: b.failed ?? false, tasks: b.tasks ?? [], downstream: b.downstream ?? false });
    if (!r.ok) return sendFailure(reply, r);
    return { id: r.id, state: r.state, tasks: r.tasks };
  });
}
