// `npm run bench -- cli [--quick]`: the user's own path, whole `meshrun` processes against three
// node processes on loopback (issue 16): `submit FILE --wait` of a 5,000- and a 50,000-task YAML
// file (a 20-layer DAG of distinct `noop` tasks, each on two of the layer before): time to the id
// printed (accepted) and to the exit (done); `validate` of the same files; and the latency of
// `jobs` and `status` (median of several runs), with `--version` as the floor of starting a
// process at all; and the server's share of the big submit (its DAG posted as JSON, alone). Each
// row shows its figure beside issue 16's target and whether it is met. Whether bin/meshrun ran
// the compiled build or compiled TypeScript at start (tsx) is part of the answer, so it is printed.
import { readFileSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readDagText } from '../src/dag/parse.js';
import type { JobSummary } from '../src/scheduler/types.js';
import { BIN, Processes, eventually, runCli } from '../test/process/spawn.js';
import { layers, taskCount, toYaml } from './dags.js';
import { percentile, printTable, writeResults, type BenchOptions, type Row } from './report.js';
import { onCluster, type Cluster } from './scheduler-run.js';

/** Issue 16: a 50,000-task YAML file validated and submitted in < 2 s; `jobs`/`status` in < 150 ms. */
const SUBMIT_TARGET_MS = 2_000;
const READ_TARGET_MS = 150;

export async function cliBench(o: BenchOptions): Promise<void> {
  const runs = o.quick ? 2 : 7;
  const files = o.quick ? [layers(20, 25), layers(20, 100)] : [layers(20, 250), layers(20, 2_500)];
  const launcher = compiledBuildIsFresh() ? 'compiled (dist/)' : 'tsx (no fresh build)';
  const procs = new Processes();
  try {
    const dir = procs.tempDir('meshrun-bench-cli-');
    const paths = files.map((dag) => {
      const path = join(dir, `${taskCount(dag)}-tasks.yaml`);
      writeFileSync(path, toYaml(dag));
      return { path, tasks: taskCount(dag), kib: statSync(path).size / 1024 };
    });
    const rows = await onCluster(64, async (c) => {
      const api = c.nodes[0]?.apiUrl ?? '';
      const out: Row[] = [await timed('meshrun --version', ['--version'], runs, '-')];
      for (const f of paths)
        out.push(
          await timed(
            `meshrun validate (${f.tasks.toLocaleString('en-US')} tasks, ${Math.round(f.kib)} KiB)`,
            ['validate', f.path],
            Math.min(runs, 3),
            '-',
          ),
        );
      for (const f of paths) out.push(await submitWait(procs, c, f, api));
      // The server's share of a submit: the same DAG posted as JSON, timed from the request's
      // first byte to the answer (the API's validation, the commit and the apply).
      const biggest = paths.at(-1);
      if (biggest !== undefined) out.push(await postAlone(api, biggest));
      // A submit the CLI gave up on may still have been committed: reads are timed on an idle cluster.
      const jobs = await eventually(
        'every job to end',
        async () => {
          const all = await jobList(c);
          return all.every((j) => j.state !== 'running') ? all : undefined;
        },
        600_000,
        500,
      );
      out.push(await timed('meshrun jobs', ['jobs', '--api', api], runs, `< ${READ_TARGET_MS} ms`));
      for (const f of paths) {
        const job = jobs.find((j) => totalTasks(j) === f.tasks);
        const label = `meshrun status (${f.tasks.toLocaleString('en-US')}-task job)`;
        out.push(
          job === undefined
            ? { command: label, outcome: 'no such job in the cluster (the submit failed)' }
            : await timed(label, ['status', job.id, '--api', api], Math.min(runs, 3), `< ${READ_TARGET_MS} ms`),
        );
      }
      return out;
    });
    printTable(
      `cli: whole meshrun processes (bin/meshrun ran ${launcher}) against 3 node processes on loopback; times in ms from spawn`,
      rows,
    );
    if (!o.quick) writeResults('cli', rows, { nodes: 3, slotsPerNode: 64, launcher });
  } finally {
    await procs.cleanup();
  }
}

/** Runs `meshrun args` `runs` times (each must exit 0) and reports the median whole-process time. */
async function timed(label: string, args: readonly string[], runs: number, target: string): Promise<Row> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = await runCli(args, { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`meshrun ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-500)}`);
    ms.push(performance.now() - t);
  }
  const median = percentile(ms, 50);
  const bound = /^< (\d+) ms$/.exec(target)?.[1];
  return {
    command: label,
    runs,
    'median ms': median,
    'min ms': Math.min(...ms),
    'max ms': Math.max(...ms),
    figure: `${Math.round(median).toLocaleString('en-US')} ms median`,
    target,
    met: bound === undefined ? '-' : median < Number(bound) ? 'yes' : 'NO',
  };
}

/**
 * `meshrun submit FILE --wait`: ms to the id on stdout (the job accepted) and to the exit; a failed
 * submit (the CLI's 10 s request time-out, say) is a row saying so, not the end of the benchmark.
 */
async function submitWait(procs: Processes, c: Cluster, f: { path: string; tasks: number; kib: number }, api: string): Promise<Row> {
  const label = `meshrun submit --wait (${f.tasks.toLocaleString('en-US')} tasks, ${Math.round(f.kib)} KiB)`;
  const started = performance.now();
  const p = procs.spawn(label, ['submit', f.path, '--wait', '--api', api]);
  let acceptedMs = NaN;
  const onData = (): void => {
    if (!p.stdout().includes('\n')) return;
    acceptedMs = performance.now() - started;
    p.child.stdout?.off('data', onData);
  };
  p.child.stdout?.on('data', onData);
  const exit = await p.exited;
  const doneMs = performance.now() - started;
  const id = p.stdout().split('\n')[0]?.trim() ?? '';
  const job = exit.code === 0 ? (await jobList(c)).find((j) => j.id === id) : undefined;
  const targeted = f.tasks >= 50_000;
  return {
    command: label,
    runs: 1,
    outcome: exit.code === 0 ? 'exit 0' : `exit ${exit.code ?? exit.signal}: ${p.stderr().split('\n')[0]?.slice(0, 120) ?? ''}`,
    'accepted ms': acceptedMs,
    'done ms': doneMs,
    // The job's own time from its submit's commit to its end: what remains is the CLI's and the API's.
    'job ms (scheduler)': job === undefined ? NaN : (job.finishedAt ?? NaN) - job.submittedAt,
    figure: Number.isNaN(acceptedMs) ? 'no id printed' : `accepted at ${Math.round(acceptedMs).toLocaleString('en-US')} ms`,
    target: targeted ? `accepted < ${SUBMIT_TARGET_MS} ms` : '-',
    met: targeted ? (acceptedMs < SUBMIT_TARGET_MS ? 'yes' : 'NO') : '-',
  };
}

/** POST /v1/jobs of the file's DAG as JSON (read here, before the clock starts), with a fresh key. */
async function postAlone(api: string, f: { path: string; tasks: number; kib: number }): Promise<Row> {
  const raw = readDagText(readFileSync(f.path, 'utf8'), f.path).raw;
  const body = JSON.stringify(raw);
  const label = `POST /v1/jobs alone (${f.tasks.toLocaleString('en-US')} tasks as ${Math.round(body.length / 1024)} KiB of JSON): the server's share`;
  const t = performance.now();
  const res = await fetch(`${api}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `bench-cli-${Date.now()}` },
    body,
    signal: AbortSignal.timeout(120_000),
  });
  await res.text();
  const ms = performance.now() - t;
  return {
    command: label,
    runs: 1,
    outcome: `HTTP ${res.status}`,
    figure: `answered at ${Math.round(ms).toLocaleString('en-US')} ms`,
    target: '-',
    met: '-',
  };
}

async function jobList(c: Cluster): Promise<JobSummary[]> {
  const res = await fetch(`${c.nodes[0]?.apiUrl ?? ''}/v1/jobs`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET /v1/jobs answered ${res.status}`);
  return ((await res.json()) as { jobs: JobSummary[] }).jobs;
}

function totalTasks(j: JobSummary): number {
  return Object.values(j.counts).reduce((a, b) => a + b, 0);
}

/**
 * Whether bin/meshrun runs dist/ rather than the sources through tsx: its rule (a build stamp
 * newer than every file under src, sim, package.json and tsconfig.json), restated here to label
 * the figures.
 */
function compiledBuildIsFresh(): boolean {
  const root = join(BIN, '..', '..');
  const mtime = (p: string): number => statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const stamp = mtime(join(root, 'dist', '.build-stamp'));
  if (stamp === 0) return false;
  const newest = (p: string): number => {
    const stat = statSync(p, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isDirectory()) return mtime(p);
    return readdirSync(p, { recursive: true, encoding: 'utf8' }).reduce((m, e) => Math.max(m, mtime(join(p, e))), stat.mtimeMs);
  };
  return ['src', 'sim', 'package.json', 'tsconfig.json'].every((s) => newest(join(root, s)) <= stamp);
}
