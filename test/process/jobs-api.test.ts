// The jobs endpoints and `meshrun submit` on one real node: every bad input gets a 4xx (or exit 2)
// naming the problem, and nothing already accepted is disturbed by it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/scheduler/types.js';
import { eventually, Processes, runCli, type NodeProcess } from './spawn.js';
import { fetchGet, wholeJob } from './whole-job.js';

const procs = new Processes();
let node: NodeProcess;

beforeAll(async () => {
  node = await procs.start({ name: 'n1' });
});
afterAll(async () => {
  await procs.cleanup();
});

async function post(
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: { id?: string; existing?: boolean; error?: string; details?: { problems?: string[] } } }> {
  const res = await fetch(`${node.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, body: (await res.json()) as never };
}

async function job(id: string): Promise<JobView> {
  return wholeJob(fetchGet(node.apiUrl), id);
}

describe('jobs API and meshrun submit on one node', { concurrent: false }, () => {
  it('accepts a DAG (201), returns the same job for a repeated Idempotency-Key (200), and lists it', async () => {
    const dag = JSON.stringify({ name: 'idem', tasks: { a: { handler: 'noop' }, b: { handler: 'noop', deps: ['a'] } } });
    const first = await post('/v1/jobs', dag, { 'idempotency-key': 'nightly-1' });
    expect(first.status).toBe(201);
    const again = await post('/v1/jobs', dag, { 'idempotency-key': 'nightly-1' });
    expect(again).toEqual({ status: 200, body: { id: first.body.id, existing: true } });
    const done = await eventually(
      'the job to succeed',
      async () => {
        const j = await job(first.body.id as string);
        return j.state === 'succeeded' ? j : undefined;
      },
      30_000,
      100,
    );
    expect(done.tasks['b']).toMatchObject({ state: 'succeeded', attempt: 1, node: node.id });
    const list = (await (await fetch(`${node.apiUrl}/v1/jobs`)).json()) as { jobs: { id: string; state: string }[] };
    expect(list.jobs).toContainEqual(expect.objectContaining({ id: first.body.id, state: 'succeeded' }));
  });

  it.each([
    [
      'a cycle, as its path',
      { name: 'c', tasks: { a: { run: 'true', deps: ['b'] }, b: { run: 'true', deps: ['a'] } } },
      /a -> b -> a|b -> a -> b/,
    ],
    ['an unknown dependency and who names it', { name: 'u', tasks: { a: { run: 'true', deps: ['nope'] } } }, /nope/],
    ['a bad duration', { name: 'd', tasks: { a: { run: 'true', timeout: 'soon' } } }, /timeout/],
    ['a task with both run and handler', { name: 'x', tasks: { a: { run: 'true', handler: 'noop' } } }, /run|handler/],
    ['an unknown field', { name: 'f', tasks: { a: { run: 'true', retires: 2 } } }, /retires/],
    ['no tasks', { name: 'e', tasks: {} }, /tasks/],
  ])('refuses %s with 400 naming it', async (_what, dag, message) => {
    const r = await post('/v1/jobs', JSON.stringify(dag));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/^invalid DAG: /);
    expect(r.body.error).toMatch(message);
    expect(r.body.details?.problems?.length).toBeGreaterThan(0);
  });

  it('refuses garbage bodies, bad keys, unknown jobs and cancelling a finished job', async () => {
    expect((await post('/v1/jobs', '{"name": ')).status).toBe(400);
    const badKey = await post('/v1/jobs', JSON.stringify({ name: 'k', tasks: { a: { run: 'true' } } }), {
      'idempotency-key': 'x'.repeat(200),
    });
    expect(badKey.status).toBe(400);
    expect(badKey.body.error).toContain('Idempotency-Key');
    const missing = await fetch(`${node.apiUrl}/v1/jobs/000000000000`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toContain('no job 000000000000');
    expect((await post('/v1/jobs/000000000000/cancel', '{}')).status).toBe(404);
    const { body } = await post('/v1/jobs', JSON.stringify({ name: 'quick', tasks: { a: { handler: 'noop' } } }));
    await eventually(
      'quick to succeed',
      async () => ((await job(body.id as string)).state === 'succeeded' ? true : undefined),
      30_000,
      100,
    );
    const late = await post(`/v1/jobs/${body.id}/cancel`, '{}');
    expect(late.status).toBe(409);
    expect(late.body.error).toContain('already ended: succeeded');
  });

  it('meshrun submit: validates the file locally (exit 2, with the line), prints the id, --wait exits 0 on success', async () => {
    const dir = procs.tempDir();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: bad\ntasks:\n  a: { run: "true", deps: [b] }\n  b: { run: "true", deps: [a] }\n');
    const r = await runCli(['submit', bad, '--api', node.apiUrl]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.yaml is not a valid DAG');
    expect(r.stderr).toMatch(/bad\.yaml:3:\d+: .*cycle: a -> b -> a/);
    expect((await runCli(['submit', join(dir, 'missing.yaml'), '--api', node.apiUrl])).stderr).toContain('cannot read');

    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'name: good\ntasks:\n  a: { run: "echo hi" }\n  b: { handler: sleep, args: { ms: 50 }, deps: [a] }\n');
    const ok = await runCli(['submit', good, '--wait', '--api', node.apiUrl], { timeoutMs: 60_000 });
    expect(ok.code, ok.stderr).toBe(0);
    const id = ok.stdout.split('\n')[0] as string;
    expect(ok.stdout).toMatch(/succeeded\s+2\/2/);
    expect((await job(id)).tasks['a']).toMatchObject({ state: 'succeeded', exitCode: 0, stdout: 'hi\n' });
  });
});
