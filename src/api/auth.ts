// The API token check. `Authorization: Bearer <token>` is compared through SHA-256 digests with
// timingSafeEqual: both sides are always 32 bytes, so neither the time taken nor an early exit on
// a length mismatch tells a guesser anything, not even the token's length.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ApiError } from './types.js';

/** A predicate for Authorization header values that carry `token`. */
export function tokenChecker(token: string): (authorization: string | undefined) => boolean {
  const want = digest(`Bearer ${token}`);
  return (authorization) => timingSafeEqual(digest(authorization ?? ''), want);
}

/** Answers 401 to every request without the token (the routes answered earlier, the dashboard's, are exempt). */
export function installAuth(app: FastifyInstance, token: string): void {
  const matches = tokenChecker(token);
  app.addHook('onRequest', async (req, reply) => {
    if (matches(req.headers.authorization)) return;
    const body: ApiError = { error: 'missing or wrong token: send "Authorization: Bearer <token>" (MESHRUN_TOKEN for the CLI)' };
    return reply.code(401).send(body);
  });
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
