// The test-only partition endpoints, served only by a node started with --test-partitions (404
// otherwise, like any unknown path): POST /v1/test/partition replaces the node's rules, POST
// /v1/test/heal lifts them; both answer with the rules now in force. See src/net/partition-gate.ts.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { PartitionRules } from '../net/partition-gate.js';
import type { ApiError } from './types.js';

export type PartitionOutcome = { readonly ok: true; readonly rules: PartitionRules } | { readonly ok: false; readonly error: string };

export interface PartitionBackend {
  /** Validates, then installs `rules` (replacing the previous ones). */
  set(rules: PartitionRules): PartitionOutcome;
  heal(): PartitionRules;
}

/** A cluster has tens of nodes; a list far longer than that is a mistake. */
const MAX_PEERS = 1000;
const peerList = z.array(z.string(), { error: 'must be an array of peer id strings' }).max(MAX_PEERS).default([]);
const body = z.strictObject(
  { block: peerList, dropFrom: peerList },
  // Only for a body that is no object at all; an unknown key keeps zod's message, which names it.
  {
    error: (issue) =>
      issue.code === 'invalid_type' ? 'the body must be a JSON object {"block": [peer ids], "dropFrom": [peer ids]}' : undefined,
  },
);

function fail(reply: FastifyReply, error: string): FastifyReply {
  const b: ApiError = { error };
  return reply.code(400).send(b);
}

export function registerPartitionRoutes(app: FastifyInstance, backend: PartitionBackend): void {
  app.post('/v1/test/partition', async (req, reply) => {
    const parsed = body.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return fail(reply, `bad partition body: ${where}${issue?.message ?? 'invalid'}`);
    }
    const r = backend.set(parsed.data);
    if (!r.ok) return fail(reply, `bad partition body: ${r.error}`);
    return r.rules;
  });
  app.post('/v1/test/heal', async () => backend.heal());
}
