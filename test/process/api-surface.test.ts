// The API surface beyond the jobs endpoints, on real `meshrun node` processes: GET /v1/nodes with
// the Raft roles, the event stream, task logs read locally and fetched over /meshrun/logs/1 from
// the node that ran the task (and 503 naming it once it is gone), ?consistent=true, GET /metrics
// as Prometheus text, and every error case as `{error, details?}` with its status.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../src/api/types.js';
import type { JobSummary, JobView } from '../../src/scheduler/types.js';
import { agreedView, eventually, Processes, type NodeProcess } from './spawn.js';
import { nodeGet, wholeJob } from './whole-job.js';

const procs = new Processes();
let nodes: NodeProcess[] = [];

beforeAll(async () => {
  const first = await procs.start({ name: 'n1', extra: ['--slots', '2'] });
  const rest = await Promise.all([2, 3].map((k) => procs.start({ name: `n${k}`, bootstrap: [first.addr], extra: ['--slots', '2'] })));
  nodes = [first, ...rest];
  await agreedView(nodes, { voters: 3, learners: 0 });
}, 90_000);
afterAll(async () => {
  await procs.cleanup();
});

async function get(
  node: NodeProcess,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${node.apiUrl}${path}`, { headers, signal: AbortSignal.timeout(15_000) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the type of the body it expects
async function getJson<T>(node: NodeProcess, path: string): Promise<{ status: number; body: T }> {
  const r = await get(node, path);
  return { status: r.status, body: JSON.parse(r.text) as T };
}

async function submit(node: NodeProcess, dag: unknown): Promise<string> {
  const res = await fetch(`${node.apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(dag),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await res.json()) as { id?: string; error?: string };
  if (res.status !== 201 || body.id === undefined) throw new Error(`submit: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

async function finished(node: NodeProcess, id: string): Promise<JobView> {
  return eventually(
    `job ${id} to finish`,
    async () => {
      const r = await getJson<JobSummary>(node, `/v1/jobs/${id}`);
      return r.status === 200 && r.body.state !== 'running' ? wholeJob(nodeGet(node), id) : undefined;
    },
    30_000,
  );
}

/** Reads server-sent events from `node` until `until` says stop (bounded); returns the parsed events. */
async function readEvents(
  node: NodeProcess,
  opened: () => Promise<void>,
  until: (ev: { event: string; data: Record<string, unknown> }) => boolean,
  timeoutMs = 30_000,
): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  const out: { event: string; data: Record<string, unknown> }[] = [];
  try {
    const res = await fetch(`${node.apiUrl}/v1/events`, { signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    let started = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended');
      buf += value;
      if (!started && buf.includes(': connected')) {
        started = true;
        await opened();
      }
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const lines = block.split('\n').filter((l) => !l.startsWith(':'));
        if (lines.length === 0) continue;
        const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
        const data = JSON.parse(lines.find((l) => l.startsWith('data: '))?.slice(6) ?? 'null') as Record<string, unknown>;
        const ev = { event, data };
        out.push(ev);
        if (until(ev)) {
          ctrl.abort();
          return out;
        }
      }
    }
  } catch (err) {
    throw new Error(`event stream: ${err instanceof Error ? err.message : String(err)}; got ${JSON.stringify(out)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Checks the Prometheus text exposition format line by line; returns sample names and values. */
function parsePrometheus(text: string): Map<string, number[]> {
  const samples = new Map<string, number[]>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(meta[3]);
        types.set(meta[2] as string, meta[3] as string);
      }
      continue;
    }
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|[Nn]a[Nn]|[+-]Inf)( -?\d+)?$/.exec(
        line,
      );
    if (!m) throw new Error(`not a Prometheus text line: ${JSON.stringify(line)}`);
    const name = m[1] as string;
    samples.set(name, [...(samples.get(name) ?? []), Number(m[3])]);
  }
  expect(types.size).toBeGreaterThan(0);
  return samples;
}

describe('the API surface on three real nodes', { concurrent: false }, () => {
  it('GET /v1/nodes lists every node with its Raft role, slots, load, lease and gossip', async () => {
    const views = await agreedView(nodes, { voters: 3, learners: 0 });
    const leader = views[0]?.leader as string;
    for (const n of nodes) {
      const r = await eventually(`${n.name} to list 3 nodes with heartbeats and gossip`, async () => {
        const res = await getJson<{ nodes: NodeInfo[] }>(n, '/v1/nodes');
        return res.body.nodes.length === 3 && res.body.nodes.every((x) => x.slots !== null && x.lastSeen !== null && (x.applied ?? 0) > 0)
          ? res.body
          : undefined;
      });
      expect(r.nodes.map((x) => x.id).sort()).toEqual(nodes.map((x) => x.id).sort());
      for (const x of r.nodes) {
        expect(x.role).toBe(x.id === leader ? 'leader' : 'voter');
        expect(x.self).toBe(x.id === n.id);
        expect(x.slots).toBe(2);
        expect(x.used).toBeGreaterThanOrEqual(0);
        expect(x.free).toBe((x.slots as number) - (x.used as number));
        expect(x.handlers).toEqual(expect.arrayContaining(['noop', 'sleep']));
        expect(x.leaseUntil).toBeGreaterThan(0);
        expect(x.addresses.length).toBeGreaterThan(0);
        for (const a of x.addresses) expect(a.endsWith(`/p2p/${x.id}`)).toBe(true);
        expect(x.applied).toBeGreaterThan(0);
      }
    }
  });

  it('GET /v1/events streams the task events of a submitted job', async () => {
    const follower = nodes[2] as NodeProcess;
    let id = '';
    const events = await readEvents(
      follower,
      async () => {
        id = await submit(nodes[0] as NodeProcess, { name: 'sse', tasks: { a: { handler: 'noop' }, b: { handler: 'noop', deps: ['a'] } } });
      },
      (ev) => ev.event === 'job' && ev.data['job'] === id && ev.data['state'] === 'succeeded',
    );
    const mine = events.filter((e) => e.data['job'] === id);
    const moves = mine
      .filter((e) => e.event === 'task')
      .map((e) => `${String(e.data['task'])}:${String(e.data['from'])}->${String(e.data['to'])}`);
    for (const t of ['a', 'b']) {
      expect(moves).toContain(`${t}:ready->running`);
      expect(moves).toContain(`${t}:running->succeeded`);
    }
    expect(moves).toContain('b:waiting->ready');
    expect(mine[0]).toMatchObject({ event: 'job', data: { state: 'submitted' } });
    const run = mine.find((e) => e.event === 'task' && e.data['to'] === 'running');
    expect(run?.data).toMatchObject({ attempt: 1, node: expect.any(String), index: expect.any(Number) });
  });

  it('serves task logs locally and from the node that ran them, and 404 or 400 for what does not exist', async () => {
    const shards = 6;
    const id = await submit(nodes[0] as NodeProcess, {
      name: 'logs',
      tasks: { echo: { run: 'echo "out of $MESHRUN_TASK on $MESHRUN_NODE"; echo "err line" >&2; sleep 0.2', shards } },
    });
    const job = await finished(nodes[0] as NodeProcess, id);
    expect(job.state).toBe('succeeded');
    let remote = 0;
    for (let s = 0; s < shards; s++) {
      const name = `echo[${s}]`;
      const ranOn = job.tasks[name]?.node as string;
      for (const n of nodes) {
        const r = await get(n, `/v1/jobs/${id}/tasks/${encodeURIComponent(name)}/log`);
        expect(r.status, r.text).toBe(200);
        expect(r.headers.get('content-type')).toContain('text/plain');
        expect(r.text).toContain(`out of ${name} on ${ranOn}`);
        expect(r.text).toContain('err line');
        expect(r.headers.get('x-meshrun-node')).toBe(ranOn);
        expect(r.headers.get('x-meshrun-attempt')).toBe('1');
        if (n.id !== ranOn) remote++;
      }
    }
    expect(remote).toBeGreaterThanOrEqual(shards);
    const explicit = await get(nodes[1] as NodeProcess, `/v1/jobs/${id}/tasks/${encodeURIComponent('echo[0]')}/log?attempt=1`);
    expect(explicit.status).toBe(200);

    const errors: [string, number, RegExp][] = [
      [`/v1/jobs/000000000000/tasks/echo/log`, 404, /no job 000000000000/],
      [`/v1/jobs/${id}/tasks/nope/log`, 404, /no task "nope"/],
      [`/v1/jobs/${id}/tasks/echo/log`, 404, /no task "echo"/],
      [`/v1/jobs/${id}/tasks/${encodeURIComponent('echo[0]')}/log?attempt=2`, 404, /no attempt 2 \(it has had 1\)/],
      [`/v1/jobs/${id}/tasks/${encodeURIComponent('echo[0]')}/log?attempt=0`, 400, /attempt/],
      [`/v1/jobs/${id}/tasks/${encodeURIComponent('echo[0]')}/log?attempt=abc`, 400, /attempt/],
      [`/v1/jobs/NOT_AN_ID/tasks/echo/log`, 400, /job id/],
      [`/v1/jobs/${id}/tasks/${encodeURIComponent('a/../b')}/log`, 400, /task name/],
      [`/v1/jobs/${id}?consistent=maybe`, 400, /consistent/],
      [`/v1/nope`, 404, /no such endpoint/],
    ];
    for (const [path, status, message] of errors) {
      const r = await get(nodes[1] as NodeProcess, path);
      expect(r.status, `${path}: ${r.text}`).toBe(status);
      const body = JSON.parse(r.text) as { error: string };
      expect(body.error, path).toMatch(message);
      expect(Object.keys(body).every((k) => k === 'error' || k === 'details')).toBe(true);
    }
    // A handler that printed nothing has no log file: a clear 404.
    const quiet = await submit(nodes[0] as NodeProcess, { name: 'quiet', tasks: { q: { handler: 'noop' } } });
    await finished(nodes[0] as NodeProcess, quiet);
    const none = await get(nodes[1] as NodeProcess, `/v1/jobs/${quiet}/tasks/q/log`);
    expect(none.status).toBe(404);
    expect(none.text).toMatch(/no log for attempt 1 of task q/);
  });

  it('does not serve the test-only partition endpoints without --test-partitions', async () => {
    for (const path of ['/v1/test/partition', '/v1/test/heal']) {
      const res = await fetch(`${(nodes[0] as NodeProcess).apiUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        signal: AbortSignal.timeout(15_000),
      });
      expect(res.status).toBe(404);
    }
  });

  it('refuses an oversized request body with 400 naming the limit', async () => {
    const big = JSON.stringify({ name: 'big', tasks: { a: { run: 'x'.repeat(9 << 20) } } });
    const res = await fetch(`${(nodes[1] as NodeProcess).apiUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
      signal: AbortSignal.timeout(15_000),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/too large: the limit is 8388608 bytes/);
  });

  it('?consistent=true reads through ReadIndex on followers and the leader', async () => {
    const id = await submit(nodes[0] as NodeProcess, { name: 'consistent', tasks: { a: { handler: 'noop' } } });
    for (const n of nodes) {
      const r = await getJson<JobSummary>(n, `/v1/jobs/${id}?consistent=true`);
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(id);
      expect((await get(n, '/v1/nodes?consistent=true')).status).toBe(200);
      expect((await get(n, '/v1/cluster?consistent=false')).status).toBe(200);
    }
  });

  it('GET /metrics is Prometheus text with the Raft, scheduler, gossip and process metrics', async () => {
    const r = await get(nodes[1] as NodeProcess, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    const samples = parsePrometheus(r.text);
    for (const name of [
      'meshrun_raft_term',
      'meshrun_raft_commit_index',
      'meshrun_raft_applied_index',
      'meshrun_raft_leader_changes_total',
      'meshrun_raft_proposals_total',
      'meshrun_raft_proposal_latency_seconds_bucket',
      'meshrun_snapshots_total',
      'meshrun_snapshot_size_bytes',
      'meshrun_tasks',
      'meshrun_claims_accepted_total',
      'meshrun_claims_rejected_total',
      'meshrun_task_duration_seconds_bucket',
      'meshrun_lease_expiries_total',
      'meshrun_gossip_messages_total',
      'process_cpu_user_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(samples.has(name), name).toBe(true);
    }
    expect(samples.get('meshrun_raft_term')?.[0]).toBeGreaterThan(0);
    // Every task of the jobs above ended: none is counted as running, and succeeded ones are.
    expect((samples.get('meshrun_tasks') ?? []).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10);
    expect(samples.get('meshrun_claims_accepted_total')?.[0]).toBeGreaterThan(0);
  });

  it('answers 503 naming the node that ran the task once that node is gone', async () => {
    // Two slots per node and tasks that take a moment: the shards spread over the three nodes.
    const id = await submit(nodes[0] as NodeProcess, { name: 'gone', tasks: { t: { run: 'echo here; sleep 0.3', shards: 6 } } });
    const job = await finished(nodes[0] as NodeProcess, id);
    // A shard that ran on n2 or n3 (not on n1, which stays up to answer).
    const victim = nodes.slice(1).find((n) => Object.values(job.tasks).some((t) => t.node === n.id));
    if (victim === undefined) return; // every shard ran on n1: nothing to check in this run
    const shard = Object.entries(job.tasks).find(([, t]) => t.node === victim.id)?.[0] as string;
    await procs.stop(victim, 'SIGKILL');
    const r = await get(nodes[0] as NodeProcess, `/v1/jobs/${id}/tasks/${encodeURIComponent(shard)}/log`);
    expect(r.status, r.text).toBe(503);
    const body = JSON.parse(r.text) as { error: string; details: { node: string } };
    expect(body.error).toContain(victim.id);
    expect(body.details.node).toBe(victim.id);
  });
});

describe('a node started with --api-token-file', () => {
  let node: NodeProcess;
  beforeAll(async () => {
    const tokenFile = join(procs.tempDir(), 'token');
    writeFileSync(tokenFile, 'sesame\n', { mode: 0o600 });
    node = await procs.start({ name: 'tok', extra: ['--api-token-file', tokenFile] });
  }, 60_000);

  it('answers 401 without the token on every endpoint, and serves them with it', async () => {
    for (const path of ['/v1/nodes', '/v1/events', '/metrics', '/v1/jobs/abc/tasks/t/log', '/v1/cluster?consistent=true']) {
      const r = await get(node, path);
      expect(r.status, path).toBe(401);
      expect((JSON.parse(r.text) as { error: string }).error).toMatch(/token/);
    }
    const auth = { authorization: 'Bearer sesame' };
    expect((await get(node, '/v1/nodes', auth)).status).toBe(200);
    expect((await get(node, '/metrics', auth)).status).toBe(200);
    expect((await get(node, '/v1/jobs/abc/tasks/t/log', auth)).status).toBe(404);
    const ctrl = new AbortController();
    const res = await fetch(`${node.apiUrl}/v1/events`, { headers: auth, signal: ctrl.signal });
    expect(res.status).toBe(200);
    ctrl.abort();
  });
});
