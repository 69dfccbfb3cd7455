// `npm run bench -- submit [--quick]`: one big submit on three `meshrun node` processes on loopback
// (fsync on), issue 16's submit targets. The DAG: 20 layers of 2,500 distinct tasks (50,000), each
// on two of the layer before, every first-layer task behind one 10-minute `sleep`, so that nothing
// runs while the submit is measured and every lag seen is the submit's own. Three phases:
// - API: the DAG's JSON posted to POST /v1/jobs, the time to the answer;
// - CLI: `meshrun submit FILE` of the DAG as YAML (a whole process: start, validation, post);
// - retry: the same two submits again with their Idempotency-Keys, which must answer with the same
//   jobs (existing: true, and the same id printed).
// Each phase lasts until every node has applied the job (GET /v1/jobs lists it), and reports every
// node's longest event-loop stall in it (nodejs_eventloop_lag_max_seconds, reset by each scrape).
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readDagText } from '../src/dag/parse.js';
import type { JobSummary } from '../src/scheduler/types.js';
import { Processes, eventually, type NodeProcess } from '../test/process/spawn.js';
import { layers, taskCount, toYaml, type Dag, type TaskSpec } from './dags.js';
import { scrapeMetrics } from './node-probes.js';
import { printTable, writeResults, type BenchOptions, type Row } from './report.js';
import { onCluster, type Cluster } from './scheduler-run.js';

/** Issue 16: a 50,000-task YAML file validated and submitted by `meshrun submit` in < 2 s. */
const CLI_TARGET_MS = 2_000;
/** Issue 16: no API request, submit or apply blocks a node's event loop longer. */
const LAG_TARGET_MS = 50;
/** How long the gate task sleeps: longer than the benchmark, so no task of the job runs while it is measured. */
const GATE_MS = 600_000;

export async function submitBench(o: BenchOptions): Promise<void> {
  const dag = gated(layers(20, o.quick ? 100 : 2_500));
  const procs = new Processes();
  try {
    const path = join(procs.tempDir('meshrun-bench-submit-'), 'big.yaml');
    const yaml = toYaml(dag);
    writeFileSync(path, yaml);
    const tasks = taskCount(dag);
    const rows = await onCluster(8, async (c) => {
      const apiKey = `bench-api-${randomUUID()}`;
      const cliKey = `bench-cli-${randomUUID()}`;
      // With MESHRUN_BENCH_PROFILE=<dir> (bench/cpu-profile.mjs preloaded): the nodes' CPU profiles of the API phase.
      const profiling = process.env['MESHRUN_BENCH_PROFILE'] !== undefined;
      if (profiling) signalProfilers(c);
      const api = await phase(c, 'POST /v1/jobs (JSON)', () => postJob(c, dag, apiKey));
      if (profiling) {
        signalProfilers(c);
        await new Promise((r) => setTimeout(r, 3000));
      }
      const cli = await phase(c, 'meshrun submit FILE (YAML)', () => cliSubmit(procs, c, path, cliKey));
      const apiAgain = await phase(c, 'POST /v1/jobs again, same key', () => postJob(c, dag, apiKey));
      const cliAgain = await phase(c, 'meshrun submit again, same key', () => cliSubmit(procs, c, path, cliKey));
      const same = (a: Phase, b: Phase): string =>
        a.id === null || b.id === null
          ? 'n/a (a submit failed)'
          : a.id === b.id && b.existing !== false
            ? 'yes'
            : `NO (${a.id} then ${b.id})`;
      return [
        { ...api.row, 'same job': '-' },
        { ...cli.row, 'same job': '-' },
        { ...apiAgain.row, 'same job': same(api, apiAgain) },
        { ...cliAgain.row, 'same job': same(cli, cliAgain) },
      ];
    });
    const validateMs = timedValidation(yaml);
    printTable(
      `submit: a ${tasks.toLocaleString('en-US')}-task DAG (${Math.round(yaml.length / 1024)} KiB of YAML) on 3 node processes on loopback (fsync on); ` +
        `targets: CLI < ${CLI_TARGET_MS} ms, loop lag <= ${LAG_TARGET_MS} ms on every node; ` +
        `the same file validated in this process (readDagText): ${Math.round(validateMs)} ms`,
      rows,
    );
    if (!o.quick)
      writeResults('submit', rows, {
        nodes: 3,
        tasks,
        yamlBytes: yaml.length,
        validateMs,
        targets: { cliMs: CLI_TARGET_MS, lagMs: LAG_TARGET_MS },
      });
    const bad = rows.filter((r) => typeof r['same job'] === 'string' && r['same job'].startsWith('NO'));
    if (bad.length > 0) throw new Error(`a retried submit answered another job: ${JSON.stringify(bad)}`);
  } finally {
    await procs.cleanup();
  }
}

/** Every first-layer task waits for one long `sleep` (itself a first-layer task): nothing else can run. */
function gated(dag: Dag): Dag {
  const tasks: Record<string, TaskSpec> = {};
  const names = Object.keys(dag.tasks);
  const gate = names[0] ?? 'gate';
  for (const [name, t] of Object.entries(dag.tasks)) {
    if (name === gate) tasks[name] = { handler: 'sleep', args: { ms: GATE_MS } };
    else tasks[name] = t.deps === undefined ? { ...t, deps: [gate] } : t;
  }
  return { name: `submit-${dag.name}`, tasks };
}

interface Answer {
  /** null: the submit failed (`outcome` says how), which the table shows rather than ending the benchmark. */
  readonly id: string | null;
  readonly outcome: string;
  /** What the API said (null: the CLI does not print it). */
  readonly existing: boolean | null;
  readonly ms: number;
  /** Requests it took (a 503 is retried with the same key). */
  readonly attempts: number;
}

interface Phase {
  readonly id: string | null;
  readonly existing: boolean | null;
  readonly row: Row;
}

/** Runs one submit, waits until every node has applied its job, and reads every node's longest stall meanwhile. */
async function phase(c: Cluster, label: string, submit: () => Promise<Answer>): Promise<Phase> {
  const before = await Promise.all(c.nodes.map(scrapeMetrics));
  const started = performance.now();
  const a = await submit();
  const id = a.id;
  const appliedMs = id === null ? [NaN] : await Promise.all(c.nodes.map((n) => appliedAt(n, id, started)));
  const after = await Promise.all(c.nodes.map(scrapeMetrics));
  const lags = after.map((m) => m.loopLagMaxMs);
  const maxLag = Math.max(...lags);
  const leaderChanges = Math.max(...after.map((m, i) => m.leaderChanges - (before[i]?.leaderChanges ?? 0)));
  const isCli = label.startsWith('meshrun');
  return {
    id: a.id,
    existing: a.existing,
    row: {
      phase: label,
      outcome: a.outcome,
      'answer ms': a.ms,
      attempts: a.attempts,
      figure: `${Math.round(a.ms).toLocaleString('en-US')} ms${id === null ? ' (no job)' : ''}`,
      target: isCli ? `< ${CLI_TARGET_MS} ms` : '-',
      met: isCli ? (id !== null && a.ms < CLI_TARGET_MS ? 'yes' : 'NO') : '-',
      'applied on all ms': Math.max(...appliedMs),
      'loop lag max ms (per node)': c.nodes.map((n, i) => `${Math.round(lags[i] ?? NaN)}${n.id === c.leader ? '*' : ''}`).join(' / '),
      'loop lag max ms': maxLag,
      [`lag <= ${LAG_TARGET_MS} ms`]: maxLag <= LAG_TARGET_MS ? 'yes' : 'NO',
      'leader changes': leaderChanges,
    },
  };
}

/** Most 503s a submit may answer before the benchmark gives up (each is retried with the same key). */
const SUBMIT_ATTEMPTS = 5;

/** POST /v1/jobs with the DAG's JSON and the key, again with the same key on a 503; ms to the last answer. */
async function postJob(c: Cluster, dag: Dag, key: string): Promise<Answer> {
  const entry = first(c);
  const body = JSON.stringify(dag);
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${entry.apiUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body,
      signal: AbortSignal.timeout(120_000),
    });
    const answer = (await res.json()) as { id?: string; existing?: boolean; error?: string };
    const ms = performance.now() - started;
    if (res.ok && answer.id !== undefined)
      return { id: answer.id, outcome: String(res.status), existing: answer.existing ?? null, ms, attempts: attempt };
    if (res.status !== 503 || attempt === SUBMIT_ATTEMPTS)
      return { id: null, outcome: `${res.status}: ${(answer.error ?? '').slice(0, 80)}`, existing: null, ms, attempts: attempt };
  }
}

/** `meshrun submit FILE --idempotency-key KEY`: ms from spawn to exit, and the id it printed. */
async function cliSubmit(procs: Processes, c: Cluster, path: string, key: string): Promise<Answer> {
  const started = performance.now();
  const p = procs.spawn('meshrun submit', ['submit', path, '--api', first(c).apiUrl, '--idempotency-key', key]);
  const exit = await p.exited;
  const ms = performance.now() - started;
  if (exit.code !== 0)
    return { id: null, outcome: `exit ${exit.code ?? exit.signal}: ${p.stderr().trim().slice(0, 80)}`, existing: null, ms, attempts: 1 };
  return { id: p.stdout().trim(), outcome: 'exit 0', existing: null, ms, attempts: 1 };
}

/** ms from `since` until `n` lists the job (polled every 20 ms). */
async function appliedAt(n: NodeProcess, id: string, since: number): Promise<number> {
  await eventually(
    `${n.name} to apply job ${id}`,
    async () => {
      const res = await fetch(`${n.apiUrl}/v1/jobs`, { signal: AbortSignal.timeout(30_000) });
      const { jobs } = (await res.json()) as { jobs: JobSummary[] };
      return jobs.some((j) => j.id === id) ? true : undefined;
    },
    120_000,
    20,
  );
  return performance.now() - since;
}

/** What validating the file costs on its own (the CLI's share before it posts), the best of three. */
function timedValidation(yaml: string): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    readDagText(yaml, 'big.yaml');
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/** Starts or stops the nodes' CPU profilers (bench/cpu-profile.mjs), saying which file will be whose. */
function signalProfilers(c: Cluster): void {
  for (const n of c.nodes) process.kill(n.pid, 'SIGUSR2');
  console.error(`profiler signalled: ${c.nodes.map((n) => `${n.pid}.cpuprofile ${n.id === c.leader ? 'leader' : 'follower'}`).join(', ')}`);
}

function first(c: Cluster): NodeProcess {
  const n = c.nodes[0];
  if (n === undefined) throw new Error('a cluster without nodes');
  return n;
}
