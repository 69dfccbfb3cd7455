// The pool endpoints (docs/http-api.md §16) over the real PoolService and state machine: a
// proposal is applied to the machine as the log would apply it.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerPoolRoutes } from '../../src/api/pool-routes.js';
import { PoolService } from '../../src/node/pool-service.js';
import { decodeCommand } from '../../src/scheduler/command-codec.js';
import { Scheduler } from '../../src/scheduler/machine.js';

function app() {
  const m = new Scheduler();
  let index = 0;
  let proposals = 0;
  const service = new PoolService({
    propose: (data, _opts, reply) => {
      proposals++;
      const d = decodeCommand(data);
      if (!d.ok) return reply.reject(new Error(d.error));
      reply.resolve(m.applyCommand(d.value, ++index, 1000 + index));
    },
  });
  const a = Fastify();
  registerPoolRoutes(a, { set: (n, s) => service.set(n, s), list: () => m.pools(), get: (n) => m.pool(n) });
  return { a, proposals: () => proposals };
}

describe('pool routes', () => {
  it('creates and resizes with PUT, lists and shows; 404 for an unknown pool', async () => {
    const { a } = app();
    const put = await a.inject({ method: 'PUT', url: '/v1/pools/db', payload: { size: 4 } });
    expect([put.statusCode, put.json()]).toEqual([200, { name: 'db', size: 4, used: 0 }]);
    await a.inject({ method: 'PUT', url: '/v1/pools/api', payload: { size: 0 } });
    await a.inject({ method: 'PUT', url: '/v1/pools/db', payload: { size: 2 } });
    expect((await a.inject({ method: 'GET', url: '/v1/pools' })).json()).toEqual({
      pools: [
        { name: 'api', size: 0, used: 0 },
        { name: 'db', size: 2, used: 0 },
      ],
    });
    expect((await a.inject({ method: 'GET', url: '/v1/pools/db' })).json()).toEqual({ name: 'db', size: 2, used: 0 });
    const missing = await a.inject({ method: 'GET', url: '/v1/pools/nope' });
    expect([missing.statusCode, missing.json<{ error: string }>().error]).toEqual([
      404,
      'no pool named "nope" (PUT /v1/pools/NAME creates one)',
    ]);
  });

  it('refuses a bad name, size or body with 400 naming it, before anything is proposed', async () => {
    const { a, proposals } = app();
    const cases: [string, unknown, RegExp][] = [
      ['/v1/pools/db', { size: 10_001 }, /pool size must be an integer from 0 to 10,000, got 10001/],
      ['/v1/pools/db', { size: 1.5 }, /pool size must be an integer/],
      ['/v1/pools/db', { size: '3' }, /pool size must be an integer/],
      ['/v1/pools/db', { size: 1, extra: true }, /body must be \{"size": N\}/],
      ['/v1/pools/db', {}, /body must be \{"size": N\}/],
      ['/v1/pools/-bad', { size: 1 }, /pool name '-bad' must be/],
    ];
    for (const [url, payload, error] of cases) {
      const r = await a.inject({ method: 'PUT', url, payload: payload as Record<string, unknown> });
      expect(r.statusCode, url).toBe(400);
      expect(r.json<{ error: string }>().error).toMatch(error);
    }
    expect(proposals()).toBe(0);
  });
});
