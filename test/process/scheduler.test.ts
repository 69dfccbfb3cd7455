// Jobs on real `meshrun node` processes on 127.0.0.1: a 200-task shell DAG survives a node killed
// with SIGKILL while it holds tasks; a failing task retries, then fails and skips its dependents;
// cancel stops running shell processes on every node. Tasks log start and end lines to a shared
// file (appends of one short line are atomic), which shows the real order of execution.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/scheduler/types.js';
import { checkLogsAfterEach } from './logs.js';
import { agreedView, eventually, Processes, runCli, type NodeProcess } from './spawn.js';
import { fetchGet, wholeJob } from './whole-job.js';

const procs = new Processes();

afterEach(async () => {
  await procs.cleanup();
});

async function formCluster(slots: number): Promise<NodeProcess[]> {
  const extra = ['--slots', String(slots)];
  const first = await procs.start({ name: 'n1', extra });
  const rest = await Promise.all([2, 3].map((k) => procs.start({ name: `n${k}`, bootstrap: [first.addr], extra })));
  const nodes = [first, ...rest];
  await agreedView(nodes, { voters: 3, learners: 0 });
  return nodes;
}

async function getJob(node: NodeProcess, id: string): Promise<JobView> {
  return wholeJob(fetchGet(node.apiUrl), id);
}

async function submit(node: NodeProcess, dag: unknown): Promise<string> {
  const res = await fetch(`${node.apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(dag),
  });
  const body = (await res.json()) as { id?: string; error?: string };
  if (res.status !== 201 || body.id === undefined) throw new Error(`submit: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

async function finalJob(node: NodeProcess, id: string, timeoutMs: number): Promise<JobView> {
  return eventually(
    `job ${id} to end`,
    async () => {
      const j = await getJob(node, id).catch(() => undefined);
      return j && j.state !== 'running' ? j : undefined;
    },
    timeoutMs,
    250,
  );
}

interface LogLine {
  readonly kind: 'start' | 'end';
  readonly task: string;
  readonly attempt: number;
  readonly node: string;
}

function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [kind, task, attempt, node] = l.split(' ');
      return { kind: kind as 'start' | 'end', task: task ?? '', attempt: Number(attempt), node: node ?? '' };
    });
}

const LINE = (kind: string): string => `echo "${kind} $MESHRUN_TASK $MESHRUN_ATTEMPT $MESHRUN_NODE" >> "$TASK_LOG"`;

describe('jobs on meshrun node processes', { concurrent: false }, () => {
  checkLogsAfterEach(procs);

  it('runs a 200-task shell DAG to success through a SIGKILLed node: one committed result per task, dependencies first', async () => {
    const nodes = await formCluster(4);
    const dir = procs.tempDir('meshrun-jobs-');
    const log = join(dir, 'tasks.log');
    const run = `${LINE('start')}; sleep 0.2; ${LINE('end')}`;
    const dag = {
      name: 'two-hundred',
      defaults: { retries: 1, backoff: '100ms', timeout: '1m' },
      tasks: {
        extract: { run, shards: 50, env: { TASK_LOG: log } },
        transform: { run, deps: ['extract'], shards: 100, env: { TASK_LOG: log } },
        enrich: { run, deps: ['extract'], shards: 48, env: { TASK_LOG: log } },
        load: { run, deps: ['transform', 'enrich'], env: { TASK_LOG: log } },
        report: { run, deps: ['load'], env: { TASK_LOG: log } },
      },
    };
    const id = await submit(nodes[1] as NodeProcess, dag);

    // Kill the node holding the most tasks while it runs them.
    const victim = await eventually(
      'a node holding tasks',
      async () => {
        const job = await getJob(nodes[0] as NodeProcess, id);
        const held = new Map<string, number>();
        for (const t of Object.values(job.tasks)) if (t.state === 'running' && t.node) held.set(t.node, (held.get(t.node) ?? 0) + 1);
        const [best] = [...held.entries()].sort((a, b) => b[1] - a[1]);
        return best && best[1] >= 2 ? nodes.find((n) => n.id === best[0]) : undefined;
      },
      30_000,
      50,
    );
    await procs.stop(victim, 'SIGKILL');
    const alive = nodes.filter((n) => n !== victim);

    const job = await finalJob(alive[0] as NodeProcess, id, 120_000);
    expect(job.state).toBe('succeeded');
    expect(Object.keys(job.tasks)).toHaveLength(200);
    for (const t of Object.values(job.tasks)) expect(t.state).toBe('succeeded');
    // Both survivors agree on the result of every task.
    const other = await getJob(alive[1] as NodeProcess, id);
    for (const [name, t] of Object.entries(job.tasks))
      expect([name, other.tasks[name]?.attempt, other.tasks[name]?.node]).toEqual([name, t.attempt, t.node]);

    const lines = readLog(log);
    const firstEnd = new Map<string, number>();
    lines.forEach((l, i) => {
      if (l.kind === 'end' && !firstEnd.has(l.task)) firstEnd.set(l.task, i);
    });
    // Every task ended at least once, and the committed attempt is one that ended.
    for (const [name, t] of Object.entries(job.tasks)) {
      expect(
        lines.some((l) => l.kind === 'end' && l.task === name && l.attempt === t.attempt && l.node === t.node),
        `${name} attempt ${t.attempt} on ${t.node} ended`,
      ).toBe(true);
    }
    // A task ran to its end more than once only if an earlier run was on the killed node (at-least-once execution).
    const ends = new Map<string, LogLine[]>();
    for (const l of lines) if (l.kind === 'end') ends.set(l.task, [...(ends.get(l.task) ?? []), l]);
    for (const [name, es] of ends)
      if (es.length > 1)
        expect(
          es.slice(0, -1).every((e) => e.node === victim.id),
          `${name} ended twice: ${JSON.stringify(es)}`,
        ).toBe(true);
    // No task started before all of its dependencies had ended.
    const depsOf = (name: string): string[] => {
      const spec = name.replace(/\[\d+\]$/, '');
      const shards = (s: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${s}[${i}]`);
      if (spec === 'transform' || spec === 'enrich') return shards('extract', 50);
      if (spec === 'load') return [...shards('transform', 100), ...shards('enrich', 48)];
      if (spec === 'report') return ['load'];
      return [];
    };
    lines.forEach((l, i) => {
      if (l.kind !== 'start') return;
      for (const d of depsOf(l.task)) expect((firstEnd.get(d) ?? Infinity) < i, `${l.task} started before ${d} ended`).toBe(true);
    });
  }, 240_000);

  it('retries a failing task the configured number of times, then fails it and skips its dependents; submit --wait exits 1', async () => {
    const nodes = await formCluster(2);
    const dir = procs.tempDir('meshrun-jobs-');
    const log = join(dir, 'tasks.log');
    const file = join(dir, 'failing.yaml');
    writeFileSync(
      file,
      [
        'name: failing',
        'tasks:',
        '  ok:    { run: "true" }',
        `  flaky: { run: '${LINE('start')}; exit 3', deps: [ok], retries: 2, backoff: 100ms, env: { TASK_LOG: "${log}" } }`,
        '  after: { run: "true", deps: [flaky] }',
        '  last:  { run: "true", deps: [after] }',
        '  side:  { run: "true", deps: [ok] }',
        '',
      ].join('\n'),
    );
    const r = await runCli(['submit', file, '--wait', '--api', (nodes[2] as NodeProcess).apiUrl], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(1);
    const id = r.stdout.split('\n')[0] ?? '';
    const job = await getJob(nodes[0] as NodeProcess, id);
    expect(job.state).toBe('failed');
    expect(job.tasks['flaky']).toMatchObject({ state: 'failed', attempt: 3, exitCode: 3 });
    expect(job.tasks['after']?.state).toBe('skipped');
    expect(job.tasks['last']?.state).toBe('skipped');
    expect(job.tasks['side']?.state).toBe('succeeded');
    expect(readLog(log).map((l) => l.attempt)).toEqual([1, 2, 3]);
  }, 120_000);

  it('cancel stops running shell processes on every node and skips what has not run', async () => {
    const nodes = await formCluster(2);
    const dir = procs.tempDir('meshrun-jobs-');
    const pids = join(dir, 'pids');
    mkdirSync(pids);
    const id = await submit(nodes[0] as NodeProcess, {
      name: 'to-cancel',
      tasks: {
        long: { run: `echo $$ > "${pids}/$MESHRUN_TASK"; exec sleep 1000`, shards: 6, env: {} },
        never: { run: 'true', deps: ['long'] },
      },
    });
    const running = await eventually(
      'six tasks running on all three nodes',
      async () => {
        const job = await getJob(nodes[0] as NodeProcess, id);
        const tasks = Object.values(job.tasks).filter((t) => t.state === 'running');
        const files = existsSync(pids) ? readdirSync(pids) : [];
        return tasks.length === 6 && new Set(tasks.map((t) => t.node)).size === 3 && files.length === 6 ? files : undefined;
      },
      60_000,
      100,
    );
    const pidList = running.map((f) => Number(readFileSync(join(pids, f), 'utf8').trim()));
    for (const pid of pidList) expect(alive(pid)).toBe(true);

    const res = await fetch(`${(nodes[1] as NodeProcess).apiUrl}/v1/jobs/${id}/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    await eventually('every task process gone', async () => (pidList.every((p) => !alive(p)) ? true : undefined), 30_000);
    const job = await getJob(nodes[2] as NodeProcess, id);
    expect(job.state).toBe('cancelled');
    for (const t of Object.values(job.tasks)) expect(t.state).toBe('skipped');
  }, 120_000);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
