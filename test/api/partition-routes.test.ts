import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerPartitionRoutes } from '../../src/api/partition-routes.js';
import { PartitionGate, rulesProblem, type PartitionRules } from '../../src/net/partition-gate.js';

const SELF = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN';
const PEER = '12D3KooWGGLcn2WBFy9tNJNR219K6uHKzDmxTNunnJEuTjX8XD6X';

/** The routes over a real gate on a host with no connections, as node.ts wires them. */
function app() {
  const gate = new PartitionGate();
  const host = { getConnections: () => [] };
  const a = Fastify();
  registerPartitionRoutes(a, {
    set: (rules: PartitionRules) => {
      const problem = rulesProblem(rules, SELF);
      if (problem !== null) return { ok: false, error: problem };
      gate.set(host, rules);
      return { ok: true, rules: gate.rules() };
    },
    heal: () => {
      gate.heal();
      return gate.rules();
    },
  });
  return { a, gate };
}

describe('POST /v1/test/partition and /v1/test/heal', () => {
  it('installs the rules, answers with them, and heal lifts them', async () => {
    const { a, gate } = app();
    const r = await a.inject({ method: 'POST', url: '/v1/test/partition', payload: { block: [PEER] } });
    expect([r.statusCode, r.json()]).toEqual([200, { block: [PEER], dropFrom: [] }]);
    expect(gate.accepts(PEER)).toBe(false);
    const one = await a.inject({ method: 'POST', url: '/v1/test/partition', payload: { dropFrom: [PEER] } });
    expect(one.json()).toEqual({ block: [], dropFrom: [PEER] });
    const healed = await a.inject({ method: 'POST', url: '/v1/test/heal' });
    expect([healed.statusCode, healed.json()]).toEqual([200, { block: [], dropFrom: [] }]);
    expect(gate.accepts(PEER)).toBe(true);
  });

  it.each([
    [[1, 2], /the body must be a JSON object/],
    [{ block: PEER }, /block: must be an array of peer id strings/],
    [{ block: [7] }, /block\.0: /],
    [{ blocks: [PEER] }, /Unrecognized key.*blocks/],
    [{ block: ['nope'] }, /block\[0\] is not a peer id: "nope"/],
    [{ dropFrom: [PEER, SELF] }, /dropFrom\[1\] is this node itself/],
  ])('answers 400 naming the problem for %j', async (payload, message) => {
    const { a, gate } = app();
    const r = await a.inject({ method: 'POST', url: '/v1/test/partition', payload: payload as object });
    expect(r.statusCode).toBe(400);
    expect(r.json<{ error: string }>().error).toMatch(message);
    expect(gate.rules()).toEqual({ block: [], dropFrom: [] });
  });
});
